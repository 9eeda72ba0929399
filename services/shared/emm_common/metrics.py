"""Prometheus metrics shared by all services (one process per container, no multiprocess mode)."""

from prometheus_client import Counter, Gauge, Histogram

EVENTS_PUBLISHED = Counter("emm_events_published_total", "Events the broker acknowledged", ["type"])
EVENTS_CONSUMED = Counter(
    "emm_events_consumed_total", "Consumed events by outcome (applied, dead_lettered)", ["topic", "type", "outcome"])
HANDLER_RETRIES = Counter("emm_handler_retries_total", "Handler attempts that failed and were retried", ["type", "kind"])
HANDLER_SECONDS = Histogram("emm_handler_seconds", "Time to handle one consumed event", ["type"])
OUTBOX_PENDING = Gauge("emm_outbox_pending", "Events written but not yet acknowledged by Kafka", ["collection"])
OUTBOX_RELAYED = Counter("emm_outbox_relayed_total", "Events relayed from an outbox to Kafka", ["collection"])
OUTBOX_PARKED = Counter(
    "emm_outbox_parked_total", "Events the broker will never take, moved from an outbox to its document's "
    "parked_outbox (reason: the error's type)", ["collection", "reason"])
DEPENDENCY_UP = Gauge("emm_dependency_up", "1 when the dependency answered its last check", ["dependency"])
