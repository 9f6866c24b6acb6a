"""The exporter reading with confluent-kafka: the same KPIs as the data, caught up from the
first offset, live changes applied, the same numbers after a restart."""

from __future__ import annotations

import pytest

from exporter import confluent
from tests.faults.support import (
    Feed,
    eventually,
    metric_samples,
    metric_value,
    stats_without_time,
    today,
)
from tests.support.exporter_process import ExporterProcess
from tests.support.feed import produce
from tests.support.model import expected_kpis

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not confluent.available(), reason="confluent-kafka is not installed"),
]


def total_lag(process) -> float | None:
    """Messages behind the end offsets over every partition; None before the first check."""
    samples = metric_samples(process.metrics_text()).get("hospital_exporter_consumer_lag_messages")
    return sum(sample.value for sample in samples) if samples else None


def test_confluent_kafka_reads_the_same_kpis_as_the_data(kafka_broker, tmp_path):
    feed = Feed("confluentfeed", seed=41, hours=24, visits_per_day=800)
    split = len(feed._operations) // 2
    feed.encode(split=split)
    kafka_broker.create_topics(feed.topics(), partitions=3, compact=True)
    produce(kafka_broker.bootstrap, feed.messages[:split])
    settings = {"topics.prefix": feed.prefix, "kafka.client-library": "confluent-kafka"}
    with ExporterProcess(tmp_path / "first", kafka_broker.bootstrap, settings) as process:
        assert stats_without_time(process) == expected_kpis(feed.activity_at(split).tables, today())
        assert metric_value(process, "hospital_exporter_replay_progress_ratio") == 1

        produce(kafka_broker.bootstrap, feed.messages[split:])  # live changes
        wanted = expected_kpis(feed.activity.tables, today())
        eventually(lambda: stats_without_time(process) == wanted, 30, "the live changes")
        eventually(lambda: total_lag(process) == 0, 30, "no lag left")
        assert metric_value(process, "hospital_exporter_kafka_connected") == 1

    with ExporterProcess(tmp_path / "second", kafka_broker.bootstrap, settings) as again:
        assert stats_without_time(again) == wanted
