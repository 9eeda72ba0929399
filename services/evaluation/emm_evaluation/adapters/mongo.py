"""The evaluation service's MongoDB side: its projections through the shared store's MongoDB
adapter, its command-side aggregates, and the collections whose outboxes the relays publish."""

from __future__ import annotations

from typing import Any

from emm_common.documents import AggregateStore
from emm_common.locks import KeyedLocks
from emm_common.store import OnCommit
from emm_common.store.mongo import MongoDocumentStore
from emm_evaluation.service_layer.closures import CLOSURES
from emm_evaluation.service_layer.handlers import ATTENDANCE_WARNINGS, TRAINERS
from emm_evaluation.service_layer.reports import CommandSide


def document_store(database: Any, locks: KeyedLocks | None = None,
                   on_commit: OnCommit | None = None) -> MongoDocumentStore:
    return MongoDocumentStore(database, locks=locks, on_commit=on_commit)


def command_side(database: Any, on_commit: OnCommit | None = None) -> CommandSide:
    """The aggregates; `on_commit` (the process's relay's nudge) is told of each commit's events."""
    names = {"questionnaires": "questionnaires", "attachments": "session_questionnaires", "scores": "knowledge_scores",
             "feedback": "feedback_submissions", "peer_feedback": "peer_feedback", "revocations": "revocations",
             "quotes": "session_quotes"}
    return CommandSide(**{field: AggregateStore(database[name], on_commit=on_commit) for field, name in names.items()})


def worker_outbox_collections(database: Any) -> list[Any]:
    """The worker writes events only into trainer documents (trainer.certified), evaluation
    closures (evaluation.closed) and attendance warnings (certification.out_of_reach)."""
    return [database[TRAINERS], database[CLOSURES], database[ATTENDANCE_WARNINGS]]
