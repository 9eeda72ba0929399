"""MongoDB access, in one place. PyMongo's AsyncMongoClient by default; motor (deprecated on
14 May 2026 in favour of it, same API for what we use) when MONGODB_DRIVER=motor.

Code stays plain MongoDB (production runs MongoDB 7) but within what FerretDB v1 supports:
single-document atomic updates, equality queries, no transactions, no change streams.
"""

from __future__ import annotations

from typing import Any

from pymongo.errors import ConnectionFailure, PyMongoError

from emm_common.settings import ServiceSettings

# What FerretDB (and its SQLite or PostgreSQL backend) says of an operation it abandoned or could
# not run yet, which the same operation later succeeds at: a backend busy, restarting or timing out.
TRANSIENT_MESSAGES = ("context canceled", "context deadline exceeded", "database is locked", "sqlite_busy",
                      "connection reset", "connection refused", "broken pipe", "too many connections")
TRANSIENT_LABELS = ("RetryableWriteError", "TransientTransactionError", "NetworkError")


def transient(exc: BaseException) -> bool:
    """Whether a driver error will heal by itself (retry it, answer 503), not the event's or the
    request's fault: a lost connection, an error the server labels retryable, or one of
    FerretDB's abandoned-operation messages."""
    if isinstance(exc, ConnectionFailure):
        return True
    if not isinstance(exc, PyMongoError):
        return False
    if any(exc.has_error_label(label) for label in TRANSIENT_LABELS):
        return True
    message = str(exc).lower()
    return any(phrase in message for phrase in TRANSIENT_MESSAGES)


def client_for(settings: ServiceSettings) -> Any:
    """An async client for the configured driver. It connects lazily."""
    options = dict(serverSelectionTimeoutMS=5000, tz_aware=True, uuidRepresentation="standard")
    if settings.mongodb_driver == "pymongo":
        from pymongo import AsyncMongoClient

        return AsyncMongoClient(settings.mongodb_uri, **options)
    from motor.motor_asyncio import AsyncIOMotorClient

    return AsyncIOMotorClient(settings.mongodb_uri, **options)


def database_for(settings: ServiceSettings, client: Any = None) -> Any:
    """The service's own database (no service reads another's)."""
    return (client or client_for(settings))[settings.database_name]


async def ping(database: Any) -> None:
    """Raise if the database does not answer (used by readiness)."""
    await database.command("ping")


def close(database: Any) -> None:
    result = database.client.close()
    if hasattr(result, "__await__"):  # PyMongo's async client closes asynchronously
        return result
    return None
