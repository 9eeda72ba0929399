"""Settings read from environment variables, with defaults that work against deploy/local."""

from __future__ import annotations

import os
from pathlib import Path
from datetime import datetime
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from emm_common.auth import PARTICIPANT_LINK_DAYS
from emm_common.clock import ProgrammeClock

CACHE_DIR = Path(os.environ.get("EMM_CACHE_DIR", Path.home() / ".cache" / "emm-tot"))


class ServiceSettings(BaseSettings):
    """Settings every service shares. Subclasses add their own fields and set `env_prefix`.

    The connection settings have fixed names (KAFKA_BOOTSTRAP_SERVERS, MONGODB_URI, ...) so one
    environment serves all services; the rest take the service's own prefix.
    """

    model_config = SettingsConfigDict(env_prefix="EMM_", extra="ignore")

    service_name: str = "emm"
    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092", validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "kafka_bootstrap_servers"))
    mongodb_uri: str = Field(
        "mongodb://127.0.0.1:27017/?retryWrites=false", validation_alias=AliasChoices("MONGODB_URI", "mongodb_uri"))
    mongodb_database: str = ""
    mongodb_driver: Literal["motor", "pymongo"] = Field(
        "pymongo", validation_alias=AliasChoices("MONGODB_DRIVER", "mongodb_driver"),
        description="PyMongo's AsyncMongoClient (default), or motor, deprecated on 14 May 2026, while anyone "
                    "still needs it.")
    topic_prefix: str = Field(
        "", validation_alias=AliasChoices("EMM_TOPIC_PREFIX", "topic_prefix"),
        description="Prepended to every topic name; tests use it to keep their topics apart.")
    topic_partitions: int = Field(6, validation_alias=AliasChoices("EMM_TOPIC_PARTITIONS", "topic_partitions"))
    jwt_public_key_file: Path = Field(
        CACHE_DIR / "keys" / "jwt-ed25519.pub.pem",
        validation_alias=AliasChoices("EMM_JWT_PUBLIC_KEY_FILE", "jwt_public_key_file"))
    jwt_private_key_file: Path | None = Field(
        None, validation_alias=AliasChoices("EMM_JWT_PRIVATE_KEY_FILE", "jwt_private_key_file"),
        description="Only the issuing services have the private key: registration (API tokens) and notification "
                    "(the sign-in links in its emails).")
    public_base_url: str = Field(
        "http://127.0.0.1:8004", validation_alias=AliasChoices("EMM_PUBLIC_BASE_URL", "public_base_url"),
        description="The portal's public address, where the sign-in links in emails point.")
    participant_link_days: int = Field(
        PARTICIPANT_LINK_DAYS, ge=1, validation_alias=AliasChoices("EMM_PARTICIPANT_LINK_DAYS", "participant_link_days"),
        description="How long the personal sign-in link in a participant's email stays valid.")
    trusted_proxies: list[str] = Field(
        [], validation_alias=AliasChoices("EMM_TRUSTED_PROXIES", "trusted_proxies"),
        description="Peers (the portal, an ingress) whose X-Forwarded-For names the caller's IP for the rate "
                    "limits; JSON list of addresses. Without, the limits count per peer.")
    outbox_poll_seconds: float = Field(1.0, description="First retry delay of the outbox relay after a failure.")
    outbox_sweep_seconds: float = Field(
        10.0, description="How often the relay scans for events a crashed process left in an outbox (one "
                          "process of the service per collection per interval: see emm_common.outbox).")
    outbox_grace_seconds: float = Field(
        30.0, description="How old an outbox entry must be before a sweep publishes it; a fresh one is "
                          "its committing process's to publish (so no other process publishes it twice).")
    consumer_max_attempts: int = Field(
        3, description="Tries of a handler that raises an unexpected error before the event is dead-lettered.")
    transient_retry_seconds: float = Field(
        300.0, description="How long an event waits for Kafka or MongoDB to come back before it is dead-lettered.")
    consumer_session_timeout_seconds: float = 10.0
    consumer_lag_seconds: float = Field(10.0, description="How often a worker exports its consumer lag.")
    metrics_port: int = Field(0, description="Port of the worker's /metrics; 0 means no metrics server.")
    consumer_group: str = Field(
        "", description="Kafka consumer group of the worker (after the topic prefix); empty means the service "
                        "name. A rebuild runs a second worker with its own group so it reads every topic from the start.")

    follow_live_database: bool = Field(
        False, description="Use the database the live-database pointer in the home database names, read at start "
                           "(services whose projections a switch-over rebuilds: emm_common.live_database).")
    clock_speed: float = Field(
        1.0, gt=0, validation_alias=AliasChoices("EMM_CLOCK_SPEED", "clock_speed"),
        description="How many times faster than real time the programme's time runs (tests and demos: "
                    "2880 makes a day last 30 s). Every duration of the lifecycle clock and the reminders shrinks.")
    clock_origin: datetime | None = Field(
        None, validation_alias=AliasChoices("EMM_CLOCK_ORIGIN", "clock_origin"),
        description="The programme time at the real instant EMM_CLOCK_ORIGIN_AT (ISO 8601); both or neither.")
    clock_origin_at: datetime | None = Field(
        None, validation_alias=AliasChoices("EMM_CLOCK_ORIGIN_AT", "clock_origin_at"))

    def programme_clock(self) -> ProgrammeClock:
        """The programme's time as these settings define it (emm_common.clock)."""
        return ProgrammeClock(self.clock_speed, self.clock_origin, self.clock_origin_at)

    @property
    def database_name(self) -> str:
        return self.mongodb_database or f"emm_{self.service_name}"
