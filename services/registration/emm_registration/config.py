"""Settings of the registration service (environment variables prefixed REGISTRATION_, plus the shared ones)."""

from datetime import timedelta

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from emm_common.settings import ServiceSettings
from emm_registration.domain.lifecycle_clock import ClockTimes


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRATION_", extra="ignore")

    service_name: str = "registration"
    http_port: int = 8001

    # The lifecycle clock (domain/lifecycle_clock.py); times are the session's own, durations in
    # programme time (EMM_CLOCK_SPEED shortens them all).
    clock_start_hour: int = Field(ClockTimes.start_hour, ge=0, le=23,
                                  description="Hour of the first day, local time, at which a session starts.")
    clock_complete_hour: int = Field(ClockTimes.complete_hour, ge=0, le=23,
                                     description="Hour of the last day, local time, at which a session completes.")
    evaluation_days: float = Field(ClockTimes.evaluation_period.days, gt=0,
                                   description="How long after completion a session's evaluation stays open.")
    clock_poll_seconds: float = Field(30.0, gt=0, description="How often (real seconds) the clock looks at sessions.")

    def clock_times(self) -> ClockTimes:
        return ClockTimes(start_hour=self.clock_start_hour, complete_hour=self.clock_complete_hour,
                          evaluation_period=timedelta(days=self.evaluation_days))
