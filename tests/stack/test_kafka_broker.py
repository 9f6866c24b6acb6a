"""The local KRaft broker: topics, produce/consume, data that survives a restart."""

from __future__ import annotations

import uuid

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType

pytestmark = pytest.mark.integration


def produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        for key, value in records:
            producer.send(topic, key=key, value=value)
        producer.flush(timeout=30)
    finally:
        producer.close()


def consume_all(bootstrap: str, topic: str, expected: int) -> list[tuple[bytes, bytes]]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=f"test-{uuid.uuid4().hex[:8]}",
        consumer_timeout_ms=15000,
    )
    records = []
    try:
        for message in consumer:
            records.append((message.key, message.value))
            if len(records) >= expected:
                break
    finally:
        consumer.close()
    return records


def test_compacted_topic_round_trip_and_restart(kafka_broker):
    topic = f"test.compacted.{uuid.uuid4().hex[:8]}"
    kafka_broker.create_topics([topic], partitions=3, compact=True)
    kafka_broker.create_topics([topic], partitions=3, compact=True)  # idempotent

    admin = kafka_broker.admin()
    try:
        (description,) = admin.describe_topics([topic])
        assert len(description["partitions"]) == 3
        resource = ConfigResource(ConfigResourceType.TOPIC, topic)
        (response,) = admin.describe_configs([resource])
        (result,) = response.resources
        entries = {entry[0]: entry[1] for entry in result[4]}
        assert entries["cleanup.policy"] == "compact"
    finally:
        admin.close()

    records = [(f"k{i}".encode(), f"v{i}".encode()) for i in range(20)]
    produce(kafka_broker.bootstrap, topic, records)
    assert sorted(consume_all(kafka_broker.bootstrap, topic, 20)) == sorted(records)

    bootstrap_before = kafka_broker.bootstrap
    kafka_broker.restart()
    assert kafka_broker.bootstrap == bootstrap_before
    assert sorted(consume_all(kafka_broker.bootstrap, topic, 20)) == sorted(records)


def test_kill_then_start_keeps_data(kafka_broker):
    topic = f"test.kill.{uuid.uuid4().hex[:8]}"
    kafka_broker.create_topics([topic], partitions=1, compact=False)
    produce(kafka_broker.bootstrap, topic, [(b"a", b"1")])
    kafka_broker.kill()
    kafka_broker.start()
    assert consume_all(kafka_broker.bootstrap, topic, 1) == [(b"a", b"1")]


def test_cluster_ids_are_never_taken_for_an_option():
    from devstack.kafka import new_cluster_id

    ids = [new_cluster_id() for _ in range(2000)]
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)
