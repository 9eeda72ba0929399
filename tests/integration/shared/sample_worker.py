"""A minimal service worker built on the shared runner, for the shared package's own tests.

Its one handler records each completed session once (idempotent by event id) and counts how
many times it saw the event, so a test can tell redelivery from a duplicate effect.
"""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from emm_common.settings import ServiceSettings
from emm_common.worker import run_worker

COMPLETED = "org.iom.emm.session.completed.v1"


async def make_handlers(database, publisher):
    async def session_completed(event):
        await database.seen.update_one({"_id": event.id}, {"$inc": {"times": 1}}, upsert=True)
        try:
            await database.completed.insert_one({"_id": event.id, "session_id": event.data["session_id"]})
        except DuplicateKeyError:
            return  # applied before: a redelivery changes nothing

    return {COMPLETED: session_completed}, []


if __name__ == "__main__":
    run_worker(ServiceSettings(service_name="sample"), ["emm.sessions"], make_handlers)
