"""Settings of the notification service (environment variables prefixed NOTIFICATION_, plus the shared ones)."""

from datetime import timedelta

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from emm_common.settings import ServiceSettings
from emm_notification.domain.retry import RetryPolicy


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATION_", extra="ignore")

    service_name: str = "notification"
    http_port: int = 8003
    # Its projections are rebuilt and switched over (entrypoints/switch_over.py): read the pointer at start.
    follow_live_database: bool = True

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_from: str = "emm-noreply@emm.iom.int"
    smtp_from_name: str = "IOM EMM2.0"
    smtp_starttls: bool = False
    smtp_use_tls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = 30.0

    # Participants' messages link to the portal (EMM_PUBLIC_BASE_URL) with a personal sign-in link,
    # signed with EMM_JWT_PRIVATE_KEY_FILE; the evaluation messages to its evaluation page.
    report_url: str | None = Field(None, description="Report link for the organizer digest; may use {session_id}, "
                                                     "e.g. http://127.0.0.1:8004/organize/sessions/{session_id}/report")

    delivery_poll_seconds: float = Field(1.0, description="How often the delivery loop looks for due messages.")
    delivery_batch: int = 100
    delivery_concurrency: int = Field(4, description="Messages sent at the same time by one worker.")
    claim_lease_seconds: float = Field(
        120.0, description="After this long, an attempt whose worker died is taken over (must exceed the SMTP "
                           "timeout: a live sender always finishes first).")
    retry_max_attempts: int = 6
    retry_base_seconds: float = 30.0
    retry_max_seconds: float = 3600.0

    scheduler_poll_seconds: float = Field(60.0, description="How often reminders are looked for.")
    session_reminder_lead_hours: float = Field(
        16.0, description="The day-before reminder is due this long before the first day starts (00:00 in the "
                          "session's time zone): 16 h means 08:00 the day before.")
    evaluation_reminder_delay_hours: float = Field(
        72.0, description="The evaluation reminder goes this long after the session was completed, for a "
                          "session whose completion did not say when its evaluation closes.")
    evaluation_reminder_lead_hours: float = Field(
        48.0, description="The evaluation reminder goes this long before the evaluation closes (programme time: "
                          "EMM_CLOCK_SPEED shortens it), once, to those who have not answered.")

    test_exit_after_send: int = Field(
        0, description="TEST HOOK, never set in production: the worker exits (os._exit(9)) right after the "
                       "SMTP server accepted its Nth message, before the log records it.")

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(max_attempts=self.retry_max_attempts, base_delay=timedelta(seconds=self.retry_base_seconds),
                           max_delay=timedelta(seconds=self.retry_max_seconds))
