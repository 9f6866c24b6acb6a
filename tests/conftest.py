"""Session fixtures shared by the integration tiers: a real Kafka broker, and a real exporter
that has consumed a simulated day of hospital activity from it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.support.debezium import Encoder
from tests.support.exporter_process import ExporterProcess
from tests.support.feed import TABLES, Activity, messages, produce, simulated_operations
from tests.support.kafka_fixtures import kafka_broker  # noqa: F401 - a fixture


def afternoon_zone() -> str:
    """A fixed-offset zone in which it is now mid-afternoon. The simulated day ends now, so
    in this zone "today" is a full, busy day with queues, whatever hour the tests run at."""
    offset = (15 - datetime.now(UTC).hour + 12) % 24 - 12  # hours east of UTC, -12..11
    return "Etc/UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"  # Etc/GMT-3 is UTC+3


HOSPITAL_TZ = afternoon_zone()


@dataclass
class LiveExporter:
    host: str
    port: int
    metrics_url: str
    stats_url: str
    process: ExporterProcess
    activity: Activity
    bootstrap: str


@pytest.fixture(scope="session")
def simulated_day_topics(kafka_broker):  # noqa: F811 - pytest injects the fixture
    """Compacted 3-partition topics holding a simulated day that ends now, and its rows."""
    encoder = Encoder(flavor="postgres", topic_prefix="dayfeed")
    kafka_broker.create_topics([encoder.topic(t) for t in TABLES], partitions=3, compact=True)
    activity = Activity()
    now_local = datetime.now(ZoneInfo(HOSPITAL_TZ)).replace(tzinfo=None)
    operations = simulated_operations(seed=11, tz=HOSPITAL_TZ, end_local=now_local)
    produce(kafka_broker.bootstrap, messages(operations, encoder, HOSPITAL_TZ, activity))
    return encoder, activity


@pytest.fixture(scope="session")
def live_exporter(kafka_broker, simulated_day_topics, tmp_path_factory):  # noqa: F811
    """An exporter caught up with a simulated day; its waiting threshold is 2 so the queue
    alerts have something to fire on."""
    _, activity = simulated_day_topics
    process = ExporterProcess(
        tmp_path_factory.mktemp("live-exporter"),
        kafka_broker.bootstrap,
        {
            "topics.prefix": "dayfeed",
            "alerts.waiting-threshold.default": 2,
            "timezone": HOSPITAL_TZ,
        },
    )
    process.start()
    try:
        yield LiveExporter(
            process.host,
            process.port,
            process.metrics_url,
            process.stats_url,
            process,
            activity,
            kafka_broker.bootstrap,
        )
    finally:
        process.stop()
