"""Rebuild the evaluation projections from the topics into an empty database, offline.

    python -m emm_evaluation.entrypoints.rebuild --database emm_evaluation_v2 [--no-copy]

Reads emm.sessions, emm.enrollments, emm.attendance, emm.feedback and emm.trainers from the
earliest offset up to their end offsets at the start, applies every record with the worker's
own transitions to an in-memory document store (emm_common.store.memory), and writes sessions,
trainees, responses, facilitators and trainers with insert_many (emm_common.rebuild). It
publishes nothing.

It decides no certification (publish_decisions=False, as for a rebuild worker) and takes every
one from the trainer.certified events on emm.trainers, as the first run decided them. So it
reads nothing but its projections (scores too: knowledge_score.recorded is on emm.feedback),
and `trainers` is written only from trainer.* events. The command side
(questionnaires, session_questionnaires, knowledge_scores, feedback_submissions, peer_feedback,
revocations, with their _states and _heads) is the service's own record, not facts on a topic:
it is copied from the live database (EVALUATION_MONGODB_DATABASE) once the projections are
written, pending outboxes left out (the live relay publishes those), so the API can serve from
the new database. `--no-copy` skips it.
"""

from __future__ import annotations

from emm_common.rebuild import RebuildStats, command_line, rebuild_database
from emm_common.store.memory import MemoryDocumentStore
from emm_evaluation import bootstrap
from emm_evaluation.config import Settings
from emm_evaluation.entrypoints.worker import TOPICS
from emm_evaluation.service_layer.handlers import PROJECTIONS


async def rebuild(settings: Settings, database_name: str, *, copy_command_side: bool = True) -> RebuildStats:
    """Rebuild the projections into `database_name` (which must be empty), then copy the
    command side of the live database into it unless `copy_command_side` is False."""
    def handlers(staging: MemoryDocumentStore):
        return bootstrap.applier(settings, staging, publish_decisions=False).handlers()

    return await rebuild_database(settings, database_name, topics=TOPICS, staged=PROJECTIONS,
                                  make_handlers=handlers, copy_live=copy_command_side, staging=MemoryDocumentStore)


def main(argv: list[str] | None = None) -> None:
    settings = Settings()
    command_line(lambda database, copy: rebuild(settings, database, copy_command_side=copy),
                 "Rebuild the evaluation projections from the topics into an empty database.",
                 copy_help="copy the command side of the live database (EVALUATION_MONGODB_DATABASE) too "
                           "(default: yes)", copy_by_default=True, argv=argv)


if __name__ == "__main__":
    main()
