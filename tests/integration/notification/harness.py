"""Running the notification worker as a real process against the local stack, and reading what
reached an SMTP server, for the integration tests and the benchmark."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from emm_common.envelope import Event, new_event
from tests.conftest import KAFKA, MAIL_READER, MONGODB_URI, SMTP_PORT
from tests.unit.notification import examples as ex

ROOT = Path(__file__).parents[3]
HOST = "127.0.0.1"
T = "org.iom.emm."

# Short delays so failures, retries and take-overs happen within seconds.
FAST = {
    "NOTIFICATION_DELIVERY_POLL_SECONDS": "0.2", "NOTIFICATION_SCHEDULER_POLL_SECONDS": "0.5",
    "NOTIFICATION_OUTBOX_POLL_SECONDS": "0.5", "NOTIFICATION_RETRY_BASE_SECONDS": "0.5",
    "NOTIFICATION_RETRY_MAX_SECONDS": "2", "NOTIFICATION_RETRY_MAX_ATTEMPTS": "30",
    "NOTIFICATION_CLAIM_LEASE_SECONDS": "4", "NOTIFICATION_SMTP_TIMEOUT_SECONDS": "1.5",
    "NOTIFICATION_CONSUMER_SESSION_TIMEOUT_SECONDS": "6",
}


def start_worker(prefix: str, database: str, smtp_port: int = SMTP_PORT, **env: str) -> subprocess.Popen:
    environment = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": KAFKA, "MONGODB_URI": MONGODB_URI,
                   "EMM_TOPIC_PREFIX": prefix, "EMM_TOPIC_PARTITIONS": "3",
                   "NOTIFICATION_MONGODB_DATABASE": database, "NOTIFICATION_SMTP_PORT": str(smtp_port),
                   **FAST, **env}
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"notification-worker-{prefix}log", "ab")
    return subprocess.Popen([sys.executable, "-m", "emm_notification.entrypoints.worker"], cwd=ROOT,
                            env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def event(name: str, payload: dict, event_id: str | None = None) -> Event:
    return new_event(T + name, payload, source="/emm/test", event_id=event_id)


def contact(pid: str, email: str, language: str = "fr", consent: bool = True) -> Event:
    return event("contact.updated.v1", {"participant_id": pid, "full_name": f"Participant {pid}", "email": email,
                                        "preferred_language": language, "consent_to_contact": consent,
                                        "updated_at": "2026-04-02T10:00:00Z"})


def staff(staff_id: str, email: str, language: str = "fr", role: str = "facilitator") -> Event:
    """A staff member of the directory (the session's staff get its digests)."""
    return event("staff.updated.v1", {"staff_id": staff_id, "full_name": f"Staff {staff_id}", "email": email,
                                      "preferred_language": language, "role": role, "offices": ["RO Dakar"],
                                      "regional": False, "active": True, "updated_at": "2026-04-01T09:00:00Z"})


def evaluation_closed(session_id: str, registered: int, responses: int) -> Event:
    """The evaluation's closing figures, after which the staff digest goes."""
    return event("evaluation.closed.v1", {"session_id": session_id, "closed_at": "2026-06-01T18:00:00Z",
                                          "registered": registered, "responses": responses,
                                          "response_rate": responses / registered,
                                          "headlines": {"fr": ["Une phrase."], "en": ["A sentence."], "pt": []}})


def mailbox(address: str) -> list[dict]:
    """What the shared SMTP capture server received for `address` (oldest first)."""
    with urllib.request.urlopen(f"{MAIL_READER}/messages?to={address}", timeout=5) as response:
        return json.loads(response.read())


def raw_message(message_id: str) -> EmailMessage:
    with urllib.request.urlopen(f"{MAIL_READER}/messages/{message_id}.eml", timeout=5) as response:
        return message_from_bytes(response.read(), policy=policy.default)


def calendar_of(message: EmailMessage) -> bytes | None:
    for part in message.iter_attachments():
        if part.get_content_type() == "text/calendar":
            return part.get_content().encode() if isinstance(part.get_content(), str) else part.get_content()
    return None


class Mailbox:
    """An aiosmtpd handler that keeps every accepted message in this process."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def enrollments(unique: str, names: list[str]) -> list:
    """Contacts and registrations of `names` for one session (scheduled first)."""
    session_id = f"ses-{unique}"
    events = [event("session.scheduled.v1", {"session": ex.session(session_id=session_id)})]
    for name in names:
        pid = f"par-{name}-{unique}"
        events.append(contact(pid, address(unique, name), "en"))
    for name in names:
        pid = f"par-{name}-{unique}"
        events.append(event("enrollment.registered.v1", ex.enrollment_registered(pid, "en") | {
            "session_id": session_id, "enrollment_id": f"enr-{name}"}))
    return events


def address(unique: str, name: str) -> str:
    return f"{name}.{unique}@example.org"
