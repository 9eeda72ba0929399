"""Fixtures for tests against the real local stack (deploy/local: Kafka, FerretDB, SMTP capture).

`make test` starts the stack before pytest. Each test gets its own topic prefix and database
names, so tests never see each other's data.
"""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest

KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
MONGODB_URI = os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27017/?retryWrites=false")
SMTP_HOST, SMTP_PORT = "127.0.0.1", int(os.environ.get("EMM_SMTP_PORT", "1025"))
MAIL_READER = os.environ.get("EMM_MAIL_READER", "http://127.0.0.1:8025")


@pytest.fixture
def unique() -> str:
    """A short id unique to this test, for topic prefixes, database names and addresses."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
async def topic_prefix(unique: str):
    """A topic prefix for this test; its topics are deleted afterwards, so that hundreds of tests
    do not leave thousands of partitions on the one local broker (it slows down as they grow)."""
    prefix = f"t{unique}."
    yield prefix
    await delete_topics(prefix)


async def delete_topics(prefix: str) -> None:
    """Delete the topics whose names start with `prefix` (a test's own)."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    try:
        await admin.start()
        mine = [name for name in await admin.list_topics() if name.startswith(prefix)]
        if mine:
            await admin.delete_topics(mine)
    except Exception:  # cleanup only: a test that stopped the broker must still report its own result
        pass
    finally:
        await admin.close()


@pytest.fixture
async def mongo_database(unique: str):
    """A fresh database on the real MongoDB-protocol server, dropped after the test."""
    from motor.motor_asyncio import AsyncIOMotorClient

    client = AsyncIOMotorClient(MONGODB_URI, serverSelectionTimeoutMS=5000, tz_aware=True)
    database = client[f"test_{unique}"]
    yield database
    await client.drop_database(database.name)
    client.close()


async def eventually(check, timeout: float = 60.0, interval: float = 0.2):
    """Poll an async `check` until it returns a truthy value; fail with its last value otherwise."""
    deadline = asyncio.get_running_loop().time() + timeout
    last = None
    while asyncio.get_running_loop().time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last value: {last!r}")


@pytest.fixture
def keys(tmp_path):
    """A signing key pair for this test; `issue(role, subject, ...)` makes tokens with it."""
    from emm_common.auth import ensure_key_pair

    ensure_key_pair(tmp_path / "jwt.pem", tmp_path / "jwt.pub.pem")
    return tmp_path


@pytest.fixture
def issue(keys):
    from emm_common.auth import TokenIssuer

    issuer = TokenIssuer((keys / "jwt.pem").read_bytes())

    def token(role: str, subject: str = "someone", **scope) -> dict[str, str]:
        if role == "organizer" and "offices" not in scope and "regional" not in scope:
            scope["regional"] = True  # of the regional EMM team, unless the test names the offices
        return {"Authorization": f"Bearer {issuer.issue(subject, role, **scope)}"}

    return token


@pytest.fixture
async def publisher(topic_prefix):
    """A producer onto this test's prefixed topics (created first, as a worker expects)."""
    from emm_common.publisher import EventPublisher
    from emm_common.topics import all_topics, ensure_topics, topic_name

    await ensure_topics(KAFKA, {topic_name(t, topic_prefix) for t in all_topics()}, partitions=3)
    publisher = EventPublisher(KAFKA, topic_prefix)
    await publisher.start()
    yield publisher
    await publisher.stop()
