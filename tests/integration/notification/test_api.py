"""The notification API against the real database, with a real worker delivering: support staff
read the log; an organizer resends a failed message and the worker sends it."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from emm_common.auth import TokenIssuer, ensure_key_pair
from emm_common.paging import next_link
from emm_notification.config import Settings
from emm_notification.entrypoints.api import create_app
from tests.conftest import KAFKA, MONGODB_URI, eventually
from tests.integration.notification.harness import HOST, Mailbox, enrollments, start_worker
from tests.processes import free_port, stop

pytestmark = pytest.mark.integration


class UnknownUntilFixed(Mailbox):
    """Refuses the recipient for good (550) until `fixed`, then accepts."""

    fixed = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if not self.fixed:
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def tokens(tmp_path):
    ensure_key_pair(tmp_path / "k.pem", tmp_path / "k.pub.pem")
    issuer = TokenIssuer((tmp_path / "k.pem").read_bytes())
    return tmp_path / "k.pub.pem", {role: {"Authorization": f"Bearer {issuer.issue('usr-' + role, role, regional=role == 'organizer' or None)}"}
                                    for role in ("organizer", "service", "participant")}


async def test_organizer_finds_a_failed_message_resends_it_once_and_the_worker_delivers_it(
        publisher, topic_prefix, mongo_database, unique, tokens):
    public_key, headers = tokens
    box, port = UnknownUntilFixed(), free_port()
    server = Controller(box, hostname=HOST, port=port)
    server.start()
    worker = start_worker(topic_prefix, mongo_database.name, smtp_port=port)
    try:
        for e in enrollments(unique, ["ana"]):
            await publisher.publish(e)
        log = mongo_database.notifications
        entry = await eventually(lambda: log.find_one({"status": "failed"}), timeout=120)
        assert entry["reason"].startswith("550")

        settings = Settings(kafka_bootstrap_servers=KAFKA, mongodb_uri=MONGODB_URI, topic_prefix=topic_prefix,
                            mongodb_database=mongo_database.name, jwt_public_key_file=public_key)
        with TestClient(create_app(settings)) as api:
            pid = f"par-ana-{unique}"
            listed = api.get("/notifications", params={"participant_id": pid, "status": "failed"},
                             headers=headers["service"])
            assert listed.status_code == 200
            [view] = listed.json()
            assert view["notification_id"] == entry["_id"] and view["reason"].startswith("550")
            assert view["history"][-1]["outcome"] == "failed"
            assert api.get("/notifications", headers=headers["participant"]).status_code == 403
            assert api.get("/notifications").status_code == 401
            unknown = api.get("/notifications/ntf-nope", headers=headers["organizer"])
            assert unknown.status_code == 404 and unknown.json()["detail"][0]["loc"] == ["path", "notification_id"]
            assert api.post(f"/notifications/{entry['_id']}/resend", headers=headers["service"]).status_code == 403

            box.fixed = True
            resend = f"/notifications/{entry['_id']}/resend"

            async def accepted():  # 409 while its notification.failed is still being published
                return api.post(resend, headers=headers["organizer"]).status_code == 202
            await eventually(accepted, timeout=90)
            second = api.post(resend, headers=headers["organizer"])
            assert second.status_code == 409 and second.json()["detail"][0]["loc"] == ["body", "status"]

            await eventually(lambda: log.find_one({"_id": entry["_id"], "status": "sent"}), timeout=90)
            sent = api.get(f"/notifications/{entry['_id']}", headers=headers["organizer"]).json()
            assert [h["outcome"] for h in sent["history"] if h["outcome"] != "contact_received"] == [
                "failed", "resend_requested", "sent"]
            assert api.post(resend, headers=headers["organizer"]).status_code == 409
            assert "/notifications/{notification_id}/resend" in api.get("/openapi.json").json()["paths"]
        await asyncio.sleep(0.5)
        assert [rcpts for rcpts, _ in box.messages] == [[f"ana.{unique}@example.org"]]
    finally:
        stop(worker)
        server.stop()


async def test_the_log_is_paged_newest_first(mongo_database, topic_prefix, tokens):
    public_key, headers = tokens
    created = datetime(2026, 5, 17, 9, 0, tzinfo=timezone.utc)
    for n in range(5):
        await mongo_database.notifications.insert_one({
            "_id": f"ntf-{n}", "kind": "enrollment_registered", "channel": "email",
            "recipient_participant_id": "par-ana", "session_id": "ses-1", "caused_by_event_id": f"evt-{n}",
            "language": "fr", "status": "sent", "reason": None, "attempts": 1, "history": [],
            "created_at": created + timedelta(minutes=n), "sent_at": None, "possible_duplicate": False})
    settings = Settings(kafka_bootstrap_servers=KAFKA, mongodb_uri=MONGODB_URI, topic_prefix=topic_prefix,
                        mongodb_database=mongo_database.name, jwt_public_key_file=public_key)
    with TestClient(create_app(settings)) as api:
        first = api.get("/notifications", params={"session_id": "ses-1", "limit": 2}, headers=headers["organizer"])
        assert [e["notification_id"] for e in first.json()] == ["ntf-4", "ntf-3"]
        assert first.headers["EMM-Next-Offset"] == "2"
        seen, url = [], "/notifications?session_id=ses-1&limit=2"
        while url:
            page = api.get(url, headers=headers["organizer"])
            seen += [e["notification_id"] for e in page.json()]
            url = next_link(page.headers)
        assert seen == ["ntf-4", "ntf-3", "ntf-2", "ntf-1", "ntf-0"]
        assert "Link" not in api.get("/notifications", headers=headers["organizer"]).headers  # 5 < 50
        too_many = api.get("/notifications", params={"limit": 201}, headers=headers["organizer"])
        assert too_many.status_code == 422 and too_many.json()["detail"][0]["loc"] == ["query", "limit"]
