"""Settings of the registration service (environment variables prefixed REGISTRATION_, plus the shared ones)."""

from pydantic_settings import SettingsConfigDict

from emm_common.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRATION_", extra="ignore")

    service_name: str = "registration"
    http_port: int = 8001
