"""Settings of the notification service (environment variables prefixed NOTIFICATION_, plus the shared ones)."""

from pydantic_settings import SettingsConfigDict

from emm_common.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATION_", extra="ignore")

    service_name: str = "notification"
    http_port: int = 8003
