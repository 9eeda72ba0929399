"""Schemathesis against the notification API's own OpenAPI document, with a valid organizer
token and all of schemathesis's checks (tests/integration/fuzzing.py): no 5xx, every status
documented, schema-valid input accepted and schema-violating input refused, and every 4xx says
what is wrong. The log holds a sent,
a skipped, a waiting and a failed message, and most generated requests name them, so they reach
the log and its resend rather than stopping at a 404."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import eventually
from tests.integration.fuzzing import assert_no_problem_found, run_schemathesis
from tests.integration.notification.harness import FAST, HOST, Mailbox, address, contact, event
from tests.processes import ServiceProcess, free_port
from tests.unit.notification import examples as ex

pytestmark = pytest.mark.integration

STATUSES = {"ana": "sent", "bob": "awaiting_contact", "cris": "skipped", "dan": "failed"}


class RefusesDan(Mailbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("dan."):
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


async def known_data(publisher, database, unique) -> dict[str, list[str]]:
    session_id, participants = f"ses-{unique}", {name: f"par-{name}-{unique}" for name in STATUSES}
    events = [event("session.scheduled.v1", {"session": ex.session(session_id=session_id)}),
              contact(participants["ana"], address(unique, "ana"), "en"),
              contact(participants["cris"], address(unique, "cris"), "en", consent=False),
              contact(participants["dan"], address(unique, "dan"), "en")]
    events += [event("enrollment.registered.v1", ex.enrollment_registered(pid, "en") | {
        "session_id": session_id, "enrollment_id": f"enr-{name}"}) for name, pid in participants.items()]
    for e in events:
        await publisher.publish(e)

    async def each_status_logged():
        found = {name: await database.notifications.find_one({"recipient_participant_id": pid,
                                                               "status": STATUSES[name]})
                 for name, pid in participants.items()}
        return all(found.values()) and [entry["_id"] for entry in found.values()]
    notification_ids = await eventually(each_status_logged, timeout=120)
    return {"path.notification_id": notification_ids, "query.participant_id": list(participants.values()),
            "query.session_id": [session_id]}


async def test_no_generated_request_breaks_the_contract(publisher, topic_prefix, mongo_database, unique, keys, issue):
    smtp_port = free_port()
    smtp = Controller(RefusesDan(), hostname=HOST, port=smtp_port)
    smtp.start()
    worker = ServiceProcess("notification", "worker", topic_prefix, mongo_database.name, keys,
                            env={**FAST, "NOTIFICATION_SMTP_PORT": str(smtp_port)})
    api = ServiceProcess("notification", "api", topic_prefix, mongo_database.name, keys)
    try:
        worker.start()
        api.start()
        known = await known_data(publisher, mongo_database, unique)
        result = run_schemathesis(api.url, issue("organizer")["Authorization"], known_values=known)
    finally:
        api.stop()
        worker.stop()
        smtp.stop()
    assert_no_problem_found(result)
