"""Poison records written straight onto the topics, past every producer-side check: not JSON, an
unknown type, a payload that breaks its schema, and a known event with a version nobody has."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

from aiokafka import AIOKafkaProducer

KINDS = ("not_json", "unknown_type", "schema_invalid", "wrong_version")
# Topics that both the evaluation and the notification worker consume: each dead-letters every one.
TOPICS = ("emm.sessions", "emm.enrollments", "emm.feedback", "emm.trainers")


def poison_record(n: int) -> tuple[str, bytes, list[tuple[str, bytes]]]:
    """(kind, value, headers) of the n-th poison record; its key is `poison-<n>`."""
    kind = KINDS[n % len(KINDS)]
    if kind == "not_json":
        return kind, b"\x00{ this is not JSON", []
    event_type, data = {
        "unknown_type": ("org.iom.emm.enrollment.teleported.v1", {"session_id": "ses-x", "participant_id": "par-x"}),
        "schema_invalid": ("org.iom.emm.enrollment.registered.v1", {"session_id": 42}),
        "wrong_version": ("org.iom.emm.enrollment.registered.v9", {"session_id": "ses-x", "participant_id": "par-x",
                                                                    "enrollment_id": "enr-x"}),
    }[kind]
    headers = [("ce_specversion", b"1.0"), ("ce_id", str(uuid.uuid4()).encode()), ("ce_source", b"/poison"),
               ("ce_type", event_type.encode()), ("ce_time", datetime.now(timezone.utc).isoformat().encode()),
               ("content-type", b"application/json")]
    return kind, json.dumps(data).encode(), headers


async def write_poison(bootstrap: str, prefix: str, count: int) -> dict[str, str]:
    """Write `count` poison records round-robin over TOPICS; return key -> kind."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    written = {}
    try:
        for n in range(count):
            kind, value, headers = poison_record(n)
            key = f"poison-{n}"
            await producer.send_and_wait(f"{prefix}{TOPICS[n % len(TOPICS)]}", value, key=key.encode(),
                                         headers=headers + [("poison_kind", kind.encode())])
            written[key] = kind
    finally:
        await producer.stop()
    return written
