"""The create-topics Job's command (python -m emm_common.provision_topics) against the real broker:
every platform topic, with the partitions and the topic settings the Job's environment asks for."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from emm_common.topics import all_topics, topic_name
from tests.conftest import KAFKA

pytestmark = pytest.mark.integration


async def test_the_job_creates_every_topic_with_its_settings_and_can_run_again(topic_prefix):
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": KAFKA, "EMM_TOPIC_PREFIX": topic_prefix,
           "EMM_TOPIC_PARTITIONS": "2", "EMM_TOPIC_REPLICATION_FACTOR": "1", "EMM_TOPIC_MIN_INSYNC_REPLICAS": "1",
           "EMM_TOPIC_RETENTION_MS": "-1"}
    for _ in range(2):  # a second run finds them all and changes nothing
        result = subprocess.run([sys.executable, "-m", "emm_common.provision_topics"], env=env, capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 0, result.stderr
    names = sorted(topic_name(t, topic_prefix) for t in all_topics())
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        described = await admin.describe_topics(names)
        assert sorted(t["topic"] for t in described) == names
        assert {len(t["partitions"]) for t in described} == {2}
        responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n) for n in names])
        checked = set()
        for response in responses:
            for resource in response.resources:
                configs = {entry[0]: entry[1] for entry in resource[4]}
                assert configs["retention.ms"] == "-1" and configs["min.insync.replicas"] == "1", resource[3]
                checked.add(resource[3])
        assert sorted(checked) == names
    finally:
        await admin.close()


def test_a_minimum_in_sync_above_the_replication_factor_is_refused():
    import asyncio

    from emm_common.provision_topics import TopicSettings, provision
    from emm_common.settings import ServiceSettings

    with pytest.raises(ValueError, match="MIN_INSYNC"):
        asyncio.run(provision(ServiceSettings(), TopicSettings(replication_factor=1, min_insync_replicas=2)))
