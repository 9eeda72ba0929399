"""The access log and HTTP metrics of every API, and where a request's correlation starts.

ASGI middleware: a request's W3C `traceparent` header (or a new one) becomes the correlation of
everything the request does (emm_common.logs): its log lines, the events it commits. The response
names it in its own `traceparent` header. One JSON line per request: method, route template
(never the raw path: paths and query strings may hold ids and tokens), status, duration and the
correlation id; counted in emm_http_requests_total and emm_http_request_duration_seconds.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from emm_common import logs, metrics

log = logging.getLogger("emm.access")

# Probes and scrapes: counted, but logged only at DEBUG (one every few seconds per probe).
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})


def route_of(scope: dict) -> str:
    """The template of the route that answered (e.g. /sessions/{session_id}), or 'unmatched'."""
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


class AccessLog:
    """ASGI middleware; add it last (outermost) so the correlation covers the whole request."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict((k.decode("latin-1").lower(), v) for k, v in scope.get("headers", []))
        with logs.correlated(sent.get("traceparent", b"").decode("latin-1")) as traceparent:
            status = 500
            started = time.perf_counter()

            async def send_with_traceparent(message: dict) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    message = {**message, "headers": [*message.get("headers", []),
                                                      (b"traceparent", traceparent.encode())]}
                await send(message)

            try:
                await self.app(scope, receive, send_with_traceparent)
            finally:
                seconds = time.perf_counter() - started
                route, method = route_of(scope), scope.get("method", "")
                if route != "/metrics":
                    metrics.HTTP_REQUESTS.labels(route, method, str(status)).inc()
                    metrics.HTTP_SECONDS.labels(route, method).observe(seconds)
                log.log(logging.DEBUG if route in QUIET_ROUTES else logging.INFO, "%s %s %d", method, route, status,
                        extra={"method": method, "route": route, "status": status,
                               "duration_ms": round(seconds * 1000, 1)})
