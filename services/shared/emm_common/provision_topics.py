"""Creates the platform's missing topics with the settings replay needs, before any worker starts:
the Kubernetes create-topics Job (deploy/k8s/base/topics-job.yaml) runs it.

    python -m emm_common.provision_topics

From the environment: KAFKA_BOOTSTRAP_SERVERS (and the process's Kafka credentials), EMM_TOPIC_PREFIX,
EMM_TOPIC_PARTITIONS, and EMM_TOPIC_REPLICATION_FACTOR, EMM_TOPIC_MIN_INSYNC_REPLICAS,
EMM_TOPIC_RETENTION_MS (-1: kept for ever, so that a projection can be rebuilt from the first event).
A topic that exists already is left as it is.
"""

from __future__ import annotations

import asyncio
import logging

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from emm_common.settings import ServiceSettings
from emm_common.startup import retry_until_reachable
from emm_common.topics import all_topics, ensure_topics, topic_name


class TopicSettings(BaseSettings):
    """How the topics are made (environment variables prefixed EMM_TOPIC_)."""

    model_config = SettingsConfigDict(env_prefix="EMM_TOPIC_", extra="ignore")

    replication_factor: int = Field(1, ge=1)
    min_insync_replicas: int = Field(1, ge=1)
    retention_ms: int = -1

    def configs(self) -> dict[str, str]:
        """The topic-level settings of every platform topic."""
        return {"min.insync.replicas": str(self.min_insync_replicas), "retention.ms": str(self.retention_ms)}


async def provision(settings: ServiceSettings, topics: TopicSettings) -> set[str]:
    """Create the missing platform topics; the real names of all of them."""
    names = {topic_name(t, settings.topic_prefix) for t in all_topics()}
    if topics.min_insync_replicas > topics.replication_factor:
        raise ValueError("EMM_TOPIC_MIN_INSYNC_REPLICAS above EMM_TOPIC_REPLICATION_FACTOR: nothing could be written")
    await retry_until_reachable("Kafka", settings.kafka_bootstrap_servers, lambda: ensure_topics(
        settings.kafka_bootstrap_servers, names, settings.topic_partitions, topics.replication_factor,
        topics.configs()))
    return names


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    names = asyncio.run(provision(ServiceSettings(), TopicSettings()))
    logging.getLogger(__name__).info("%d platform topics in place", len(names))


if __name__ == "__main__":
    main()
