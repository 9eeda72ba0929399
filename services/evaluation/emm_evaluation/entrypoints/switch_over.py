"""Rebuild the evaluation projections into a new database and switch the service over to it,
without losing an event (emm_common.switch_over; docs/operations.md).

    python -m emm_evaluation.entrypoints.switch_over [--database emm_evaluation_v2] \\
        --stop "<stops the evaluation API and worker>" --start "<starts them>"

The projections (sessions, trainees, responses, facilitators, trainers) are rebuilt from
emm.sessions, emm.enrollments, emm.attendance, emm.feedback and emm.trainers, and caught up to
the live worker's committed offsets; no certification is decided (they all come from the
trainer.certified events, as in emm_evaluation.entrypoints.rebuild). The command side is copied
from the live database while the service is stopped, then the pointer moves and it starts again.
"""

from __future__ import annotations

from typing import Any

from emm_common.store.memory import MemoryDocumentStore
from emm_common.switch_over import ServiceRebuild, SwitchReport, command_line
from emm_evaluation import bootstrap
from emm_evaluation.adapters import mongo
from emm_evaluation.config import Settings
from emm_evaluation.entrypoints.worker import TOPICS
from emm_evaluation.service_layer.handlers import PROJECTIONS


def service_rebuild(settings: Settings) -> ServiceRebuild:
    def handlers(store: Any):
        return bootstrap.applier(settings, store, publish_decisions=False).handlers()

    def outbox_collections(database: Any) -> list[Any]:
        return (bootstrap.evaluation(settings, database).command.outbox_collections()
                + mongo.worker_outbox_collections(database))

    return ServiceRebuild(topics=tuple(TOPICS), staged=PROJECTIONS, memory_handlers=handlers,
                          database_handlers=lambda database: handlers(mongo.document_store(database)),
                          outbox_collections=outbox_collections, staging=MemoryDocumentStore)


def main(argv: list[str] | None = None) -> SwitchReport:
    settings = Settings()
    return command_line(settings, service_rebuild(settings), argv)


if __name__ == "__main__":
    main()
