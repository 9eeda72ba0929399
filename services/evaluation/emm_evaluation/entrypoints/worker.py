"""The evaluation worker: projects registration and feedback events and certifies trainers.

    python -m emm_evaluation.entrypoints.worker

A rebuild from the topics is emm_evaluation.entrypoints.rebuild (offline, the same Projector).
A second worker on an empty database with its own consumer group is the incremental path: it
reads every topic from the start and keeps up afterwards (EVALUATION_MONGODB_DATABASE,
EVALUATION_CONSUMER_GROUP, and EVALUATION_PUBLISH_DECISIONS=false so it publishes no
certification twice).
"""

from __future__ import annotations

from typing import Any

from emm_common.publisher import EventPublisher
from emm_common.worker import run_worker
from emm_evaluation.config import Settings
from emm_evaluation.service_layer.handlers import Projector

TOPICS = ["emm.sessions", "emm.enrollments", "emm.attendance", "emm.feedback", "emm.trainers"]


def projector_for(settings: Settings, database: Any) -> Projector:
    return Projector(database, settings.certification_rules(), settings.respondent_key.get_secret_value().encode(),
                     publish_decisions=settings.publish_decisions)


def main() -> None:
    settings = Settings()

    async def make_handlers(database: Any, publisher: EventPublisher):
        return projector_for(settings, database).handlers(), [database["trainers"]]

    run_worker(settings, TOPICS, make_handlers)


if __name__ == "__main__":
    main()
