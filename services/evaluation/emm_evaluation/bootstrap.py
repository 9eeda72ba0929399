"""Wiring: the evaluation service's parts built from its settings, for the API, the worker and
the offline rebuild. The service layer gets a DocumentStore; only adapters/ knows it is MongoDB."""

from __future__ import annotations

from typing import Any

from emm_common.outbox import OutboxRelay
from emm_common.publisher import EventPublisher
from emm_common.store import DocumentStore, OnCommit
from emm_common.store.applier import Applier
from emm_common.worker import WorkerParts
from emm_evaluation.adapters import mongo
from emm_evaluation.config import Settings
from emm_evaluation.service_layer.closures import EvaluationClosures
from emm_evaluation.service_layer.commands import Evaluation
from emm_evaluation.service_layer.handlers import EvaluationTransitions
from emm_evaluation.service_layer.projections import SESSION_EVALUATION_CLOSED
from emm_evaluation.service_layer.reports import ReportReader


def evaluation(settings: Settings, database: Any, on_commit: OnCommit | None = None) -> Evaluation:
    """The API's application service; `on_commit` (the API's relay's nudge) is told of each write's events."""
    return Evaluation(mongo.document_store(database, on_commit=on_commit), mongo.command_side(database, on_commit),
                      respondent_key(settings),
                      settings.certification_rules())


def report_reader(database: Any, settings: Settings | None = None) -> ReportReader:
    settings = settings or Settings()
    return ReportReader(mongo.document_store(database), mongo.command_side(database), settings.certification_rules())


def applier(settings: Settings, store: DocumentStore, *, publish_decisions: bool | None = None) -> Applier:
    """The worker's transitions on `store`; `publish_decisions` overrides the setting (a rebuild
    decides nothing)."""
    decide = settings.publish_decisions if publish_decisions is None else publish_decisions
    transitions = EvaluationTransitions(settings.certification_rules(), respondent_key(settings), decide)
    return Applier(store, transitions.table())


def worker_parts(settings: Settings):
    """The worker's HandlerFactory (emm_common.worker.run_worker)."""
    async def make(database: Any, publisher: EventPublisher) -> WorkerParts:
        store = mongo.document_store(database)

        def on_relay(relay: OutboxRelay) -> None:
            store.on_commit = relay.nudge

        handlers = applier(settings, store).handlers()
        if settings.publish_decisions:  # a rebuild worker publishes no closure twice either
            closures = EvaluationClosures(store, report_reader(database, settings))
            project_closing = handlers[SESSION_EVALUATION_CLOSED]

            async def evaluation_closed(event):
                await project_closing(event)
                await closures.close(event)

            handlers[SESSION_EVALUATION_CLOSED] = evaluation_closed
        return WorkerParts(handlers, mongo.worker_outbox_collections(database), locks=store.locks, on_relay=on_relay)

    return make


def respondent_key(settings: Settings) -> bytes:
    return settings.respondent_key.get_secret_value().encode()
