"""One structured log format for every process: a JSON object per line on stderr.

`setup(service)` is called by every entrypoint (APIs through create_service_app, workers through
run_worker); faust's logging is given `dict_config(service)`, and uvicorn's loggers are routed to
the same handler. Every line has `time`, `level`, `service`, `process` (api, worker, clock, web),
`logger`, `message`, and, while one is known, `correlation_id` (the W3C trace id), `traceparent`,
and the `event_id`, `event_type` and `subject` of the event being handled.

The correlation starts at an HTTP request (its `traceparent` header, or a new one), travels on
the events the request commits (the CloudEvents `traceparent` extension, Kafka header
`ce_traceparent`) and on every event a consumer produces while handling one, so one grep for a
trace id follows an enrollment from the API to the email.

No personal data in logs: code logs ids, never addresses or names; as a second line of defence
the formatter masks anything shaped like an email address or a bearer token (a JWT).
"""

from __future__ import annotations

import logging
import logging.config
import re
import secrets
import sys
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any, Iterator

from pythonjsonlogger.json import JsonFormatter

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_traceparent: ContextVar[str | None] = ContextVar("emm_traceparent", default=None)
_event: ContextVar[dict[str, str] | None] = ContextVar("emm_event", default=None)
_service = "emm"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_JWT = re.compile(r"eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*")
# uvicorn's access log names the whole path, query string (sign-in tokens) included: ours replaces it;
# httpx logs every URL it calls at INFO (the portal's calls to the APIs), so it logs at WARNING.
_QUIET_LOGGERS = {"uvicorn.access": logging.CRITICAL + 1}


def new_traceparent() -> str:
    """A fresh W3C traceparent (version 00, random trace and span ids, sampled)."""
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def valid_traceparent(value: str | bytes | None) -> str | None:
    """The value if it is a well-formed W3C traceparent (lower-cased), else None."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not value:
        return None
    value = value.strip().lower()
    match = _TRACEPARENT.match(value)
    if not match or match.group(1) == "0" * 32 or match.group(2) == "0" * 16:
        return None
    return value


def current_traceparent() -> str | None:
    """The traceparent of the request or event being handled in this task, if any."""
    return _traceparent.get()


def correlation_id(traceparent: str | None = None) -> str | None:
    """The trace id (32 hex digits) of a traceparent: what ties the log lines of one enrollment."""
    traceparent = traceparent or _traceparent.get()
    return traceparent.split("-")[1] if traceparent else None


@contextmanager
def correlated(traceparent: str | None) -> Iterator[str]:
    """Within the block, events created and log lines written carry `traceparent` (a new one if
    it is missing or malformed)."""
    value = valid_traceparent(traceparent) or new_traceparent()
    token = _traceparent.set(value)
    try:
        yield value
    finally:
        _traceparent.reset(token)


@contextmanager
def handling(event: Any) -> Iterator[None]:
    """Within the block, log lines name the event (id, type, subject) and its correlation."""
    with correlated(getattr(event, "traceparent", None)):
        token = _event.set({"event_id": event.id, "event_type": event.type, "subject": event.subject})
        try:
            yield
        finally:
            _event.reset(token)


def scrub(text: str) -> str:
    """Mask email addresses and bearer tokens."""
    return _JWT.sub("[token]", _EMAIL.sub("[email]", text))


class PlatformJsonFormatter(JsonFormatter):
    """time, level, service, logger, message, the correlation and the event; extra fields kept."""

    def __init__(self, service: str | None = None, process: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.service = service
        self.process = process

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_data, record, message_dict)
        log_data.pop("message", None)
        fields: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname, "service": self.service or _service, "logger": record.name,
            "message": scrub(record.getMessage())}
        if self.process:
            fields["process"] = self.process
        traceparent = _traceparent.get()
        if traceparent:
            fields["correlation_id"] = correlation_id(traceparent)
            fields["traceparent"] = traceparent
        fields.update(_event.get() or {})
        if record.exc_info and "exc_info" in log_data:
            log_data["exc_info"] = scrub(str(log_data["exc_info"]))
        for key, value in list(log_data.items()):
            if isinstance(value, str):
                log_data[key] = scrub(value)
        log_data.update({**fields, **{k: v for k, v in log_data.items() if k not in fields}})
        for key in ("color", "taskName"):
            log_data.pop(key, None)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        ordered = {k: log_data[k] for k in ("time", "level", "service", "process", "logger", "message")
                   if k in log_data}
        return {**ordered, **log_data}


def dict_config(service: str, process: str | None = None, level: str = "INFO") -> dict[str, Any]:
    """A logging.config.dictConfig that writes every logger as JSON lines to stderr (faust's
    worker takes it as its `logging_config`)."""
    return {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"json": {"()": PlatformJsonFormatter, "service": service, "process": process}},
        "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"level": level, "handlers": ["json"]},
        "loggers": {name: {"level": lvl, "handlers": [], "propagate": True} for name, lvl in
                    {"uvicorn": "WARNING", "uvicorn.error": "WARNING", "aiokafka": "WARNING",
                     "faust": "INFO", "mode": "WARNING", "httpx": "WARNING", "httpcore": "WARNING",
                     **_QUIET_LOGGERS}.items()},
    }


def setup(service: str, process: str | None = None, level: str = "INFO") -> None:
    """Log every logger of this process (uvicorn's, faust's, ours) as JSON lines to stderr.

    Replaces only plain stream handlers (basicConfig's, uvicorn's, an earlier setup's): a test
    runner's capturing handlers stay."""
    global _service
    _service = service
    root = logging.getLogger()
    for handler in list(root.handlers):
        if type(handler) is logging.StreamHandler:
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(PlatformJsonFormatter(service, process))
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.getLevelName(level):
        root.setLevel(level)
    for name, config in dict_config(service, process, level)["loggers"].items():
        logger = logging.getLogger(name)
        for old in list(logger.handlers):
            logger.removeHandler(old)
        logger.propagate = True
        logger.setLevel(config["level"])
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    logging.getLogger("emm").info("%s %s logging as JSON", service, process or "process")


def _log_uncaught(kind, value, traceback) -> None:
    logging.getLogger("emm").critical("uncaught exception", exc_info=(kind, value, traceback))
