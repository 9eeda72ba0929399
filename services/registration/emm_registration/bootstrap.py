"""Wiring: the registration service's parts built from its settings, for the API and the worker
(the lifecycle clock). Both read the programme's time from the same settings. The service layer
gets a DocumentStore; only this module and the store's adapter know it is MongoDB."""

from __future__ import annotations

from typing import Any

from emm_common.documents import VersionedDocuments, commits_of
from emm_common.store import DocumentStore, OnCommit
from emm_common.store.mongo import MongoDocumentStore
from emm_registration.adapters.used_links import StoredUsedLinks
from emm_registration.config import Settings
from emm_registration.service_layer.commands import Registration, Stores

AGGREGATES = ("sessions", "participants", "attendance", "staff", "sign_in_requests")


def document_store(database: Any, on_commit: OnCommit | None = None) -> MongoDocumentStore:
    """The store on the service's database; `on_commit` (this process's relay's nudge) is told of
    each commit's events."""
    return MongoDocumentStore(database, on_commit=on_commit)


def stores(store: DocumentStore) -> Stores:
    return Stores(**{name: VersionedDocuments(store, name) for name in AGGREGATES})


def outbox_collections(database: Any) -> list[Any]:
    """The collections whose documents carry events (the commits): their outboxes are relayed to Kafka."""
    return [database[commits_of(name)] for name in AGGREGATES]


def clock_outbox_collections(database: Any) -> list[Any]:
    """The lifecycle clock commits sessions only."""
    return [database[commits_of("sessions")]]


def registration(settings: Settings, store: DocumentStore) -> Registration:
    """The application service, on the programme's clock."""
    return Registration(stores(store), clock=settings.programme_clock().now, times=settings.clock_times())


def used_links(store: DocumentStore) -> StoredUsedLinks:
    return StoredUsedLinks(store)
