"""Topic names and their creation. The broker does not auto-create topics: we create ours."""

from __future__ import annotations

import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from emm_common import contract

log = logging.getLogger(__name__)


def topic_name(base: str, prefix: str = "") -> str:
    """The real topic name of a contract topic, with the deployment's (or test's) prefix."""
    return f"{prefix}{base}"


def dead_letter_topic(service: str) -> str:
    """Base name of a consuming service's dead-letter topic."""
    return f"emm.dlq.{service}"


def all_topics(services_with_dlq: tuple[str, ...] = ("evaluation", "notification")) -> set[str]:
    """Every base topic the platform uses: the contract's, plus one dead-letter topic per consumer."""
    return contract.topics() | {dead_letter_topic(s) for s in services_with_dlq}


async def ensure_topics(bootstrap_servers: str, names: set[str], partitions: int = 6, replication_factor: int = 1,
                        configs: dict[str, str] | None = None) -> None:
    """Create the topics that do not exist yet, with `configs` (topic settings); an existing topic stays
    as it is. Replication factor 1 locally; production's comes from emm_common.provision_topics."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = sorted(set(names) - existing)
        if not missing:
            return
        try:
            await admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=replication_factor,
                                                topic_configs=configs or {}) for name in missing])
        except TopicAlreadyExistsError:
            pass  # another process created them first
        log.info("created topics %s", missing)
    finally:
        await admin.close()
