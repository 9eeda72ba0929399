"""The evaluation service's MongoDB side: its projections through the shared store's MongoDB
adapter, its command-side aggregates, and the collections whose outboxes the relays publish."""

from __future__ import annotations

from typing import Any

from emm_common.documents import AggregateStore
from emm_common.locks import KeyedLocks
from emm_common.store.mongo import MongoDocumentStore
from emm_evaluation.service_layer.closures import CLOSURES
from emm_evaluation.service_layer.handlers import ATTENDANCE_WARNINGS, TRAINERS
from emm_evaluation.service_layer.reports import CommandSide


def document_store(database: Any, locks: KeyedLocks | None = None) -> MongoDocumentStore:
    return MongoDocumentStore(database, locks=locks)


def command_side(database: Any) -> CommandSide:
    return CommandSide(
        questionnaires=AggregateStore(database["questionnaires"]),
        attachments=AggregateStore(database["session_questionnaires"]),
        scores=AggregateStore(database["knowledge_scores"]),
        feedback=AggregateStore(database["feedback_submissions"]),
        peer_feedback=AggregateStore(database["peer_feedback"]),
        revocations=AggregateStore(database["revocations"]),
        quotes=AggregateStore(database["session_quotes"]))


def worker_outbox_collections(database: Any) -> list[Any]:
    """The worker writes events only into trainer documents (trainer.certified), evaluation
    closures (evaluation.closed) and attendance warnings (certification.out_of_reach)."""
    return [database[TRAINERS], database[CLOSURES], database[ATTENDANCE_WARNINGS]]
