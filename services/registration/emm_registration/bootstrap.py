"""Wiring: the registration service's parts built from its settings, for the API and the worker
(the lifecycle clock). Both read the programme's time from the same settings."""

from __future__ import annotations

from typing import Any

from emm_common.documents import AggregateStore
from emm_common.store import OnCommit
from emm_registration.config import Settings
from emm_registration.service_layer.commands import Registration, Stores

AGGREGATES = ("sessions", "participants", "attendance", "staff", "sign_in_requests")


def stores(database: Any, on_commit: OnCommit | None = None) -> Stores:
    """The aggregates; `on_commit` (the process's relay's nudge) is told of each commit's events."""
    return Stores(**{name: AggregateStore(database[name], on_commit=on_commit) for name in AGGREGATES})


def outbox_collections(database: Any) -> list[Any]:
    """The collections whose commits carry events: their outboxes are relayed to Kafka."""
    return [database[name] for name in AGGREGATES]


def registration(settings: Settings, database: Any, on_commit: OnCommit | None = None) -> Registration:
    """The application service, on the programme's clock."""
    return Registration(stores(database, on_commit), clock=settings.programme_clock().now, times=settings.clock_times())
