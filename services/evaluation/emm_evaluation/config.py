"""Settings of the evaluation service (environment variables prefixed EVALUATION_, plus the shared ones)."""

from pydantic_settings import SettingsConfigDict

from emm_common.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="EVALUATION_", extra="ignore")

    service_name: str = "evaluation"
    http_port: int = 8002
