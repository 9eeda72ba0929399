"""The evaluation worker: projects registration and feedback events and certifies trainers.

    python -m emm_evaluation.entrypoints.worker

A rebuild from the topics is emm_evaluation.entrypoints.rebuild (offline, the same transitions).
A second worker on an empty database with its own consumer group is the incremental path: it
reads every topic from the start and keeps up afterwards (EVALUATION_MONGODB_DATABASE,
EVALUATION_CONSUMER_GROUP, and EVALUATION_PUBLISH_DECISIONS=false so it publishes no
certification twice).
"""

from __future__ import annotations

from emm_common.worker import run_worker
from emm_evaluation import bootstrap
from emm_evaluation.config import Settings

TOPICS = ["emm.sessions", "emm.enrollments", "emm.attendance", "emm.feedback", "emm.trainers"]


def main() -> None:
    settings = Settings()
    run_worker(settings, TOPICS, bootstrap.worker_parts(settings))


if __name__ == "__main__":
    main()
