"""The registration worker: the lifecycle clock, which moves sessions by the calendar.

    python -m emm_registration.entrypoints.worker

Every REGISTRATION_CLOCK_POLL_SECONDS it looks at each session and takes the step it is due for
(domain/lifecycle_clock.py) through the same service layer as an organizer's call, then relays
the events of its commits to Kafka (the sessions' outbox, which the API relays too). Several instances may run:
each step is one guarded commit, and its events' ids follow from the session and its version.
Serves /metrics on REGISTRATION_METRICS_PORT.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from prometheus_client import Counter, Gauge, start_http_server

from emm_common import logs, metrics, mongo
from emm_common.http import Runtime
from emm_common.startup import retry_until_reachable
from emm_registration import bootstrap
from emm_registration.config import Settings
from emm_registration.service_layer.commands import Registration

log = logging.getLogger("emm_registration.clock")

STEPS_TAKEN = Counter("emm_lifecycle_clock_steps_total", "Lifecycle steps the clock took", ["step"])
PASSES = Counter("emm_lifecycle_clock_passes_total", "Passes of the clock over the sessions, by outcome", ["outcome"])
PROGRAMME_TIME = Gauge("emm_lifecycle_clock_programme_time_seconds",
                       "The programme time (Unix seconds) of the clock's last pass")


async def clock_pass(registration: Registration) -> list[tuple[str, str]]:
    """One pass: every session takes the steps it is due for now, in order. Returns (session, step)
    pairs taken; a session one of them fails for is left for the next pass."""
    taken = []
    for session in await registration.sessions():
        try:
            with logs.correlated(None):  # each session's steps start a correlation of their own
                while (step := await registration.advance(session.session_id)) is not None:
                    STEPS_TAKEN.labels(step).inc()
                    log.info("lifecycle clock: %s %s", session.session_id, step)
                    taken.append((session.session_id, step))
        except Exception:
            log.exception("lifecycle clock: %s not moved; trying again next pass", session.session_id)
    return taken


async def run(settings: Settings) -> None:
    # The API's relays sweep the sessions' outbox for a crash's leftovers already: this one sweeps
    # at start (its own predecessor's) and then rarely, so that it seldom races theirs.
    runtime = Runtime(settings.model_copy(update={"outbox_sweep_seconds": max(settings.outbox_sweep_seconds, 300.0)}))
    await retry_until_reachable("MongoDB", settings.mongodb_uri, lambda: mongo.ping(runtime.database))
    runtime.start(bootstrap.clock_outbox_collections(runtime.database))
    registration = bootstrap.registration(settings, bootstrap.document_store(runtime.database, on_commit=runtime.nudge))
    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stopping.set)
    try:
        while not stopping.is_set():
            try:
                await clock_pass(registration)
                PASSES.labels("done").inc()
                PROGRAMME_TIME.set(settings.programme_clock().now().timestamp())
            except Exception:
                PASSES.labels("failed").inc()
                log.exception("lifecycle clock pass failed; trying again in %.1fs", settings.clock_poll_seconds)
            try:
                await asyncio.wait_for(stopping.wait(), settings.clock_poll_seconds)
            except asyncio.TimeoutError:
                pass
    finally:
        await runtime.stop()


def main() -> None:
    settings = Settings()
    logs.setup(settings.service_name, "clock")
    metrics.record_build_info(settings.service_name)
    if settings.metrics_port:
        start_http_server(settings.metrics_port, addr="0.0.0.0")
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
