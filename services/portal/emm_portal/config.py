"""Settings of the portal (environment variables prefixed PORTAL_, plus the shared ones).

The portal uses no Kafka and no MongoDB: it calls the three APIs over HTTP with the signed-in
person's own token.
"""

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from emm_common.settings import CACHE_DIR, ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PORTAL_", extra="ignore")

    service_name: str = "portal"
    http_port: int = 8004
    registration_url: str = "http://127.0.0.1:8001"
    evaluation_url: str = "http://127.0.0.1:8002"
    notification_url: str = "http://127.0.0.1:8003"
    api_timeout_seconds: float = Field(
        5.0, description="Longest wait for an API's answer; past it the page says the service is not answering.")
    cookie_secret: SecretStr | None = Field(
        None, description="Key of the session cookie; the same in every replica. Empty: generated into "
                          "the cache folder (keys/portal-cookie.key) on first start.")
    cookie_key_file: Path = CACHE_DIR / "keys" / "portal-cookie.key"
    vendor_dir: Path = Field(
        CACHE_DIR / "node" / "node_modules" / "htmx.org" / "dist",
        description="Where htmx.min.js is (installed by deploy/local/bootstrap.sh); the portal works without it.")

    # public_base_url (EMM_PUBLIC_BASE_URL, shared): cookies are Secure unless it is http on localhost.

    @property
    def public_origin(self) -> str:
        parts = urlsplit(self.public_base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def secure_cookies(self) -> bool:
        parts = urlsplit(self.public_base_url)
        return not (parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1"))
