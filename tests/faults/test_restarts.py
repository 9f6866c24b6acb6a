"""Crashes on either side: the exporter killed in the middle of its replay, and the Kafka broker
killed while changes keep coming. Both end with exactly the KPIs of the data."""

from __future__ import annotations

import threading
import time

import pytest

from devstack.kafka import KAFKA_LIBS, KafkaBroker
from exporter import confluent
from tests.faults.support import (
    Feed,
    eventually,
    metric_value,
    stats_without_time,
    today,
)
from tests.support.exporter_process import ExporterProcess, http_get
from tests.support.feed import produce
from tests.support.model import expected_kpis

pytestmark = pytest.mark.integration


# Both Kafka clients the exporter can read with go through every crash.
CLIENTS = [
    "kafka-python",
    pytest.param(
        "confluent-kafka",
        marks=pytest.mark.skipif(not confluent.available(), reason="confluent-kafka missing"),
    ),
]
# Small fetches, in each client's own setting names.
SMALL_FETCHES = {
    "kafka-python": {"max_partition_fetch_bytes": 64 * 1024, "max_poll_records": 200},
    "confluent-kafka": {"max.partition.fetch.bytes": 64 * 1024},
}


def replay_progress(process) -> float:
    return metric_value(process, "hospital_exporter_replay_progress_ratio") or 0.0


@pytest.mark.parametrize("client", CLIENTS)
def test_an_exporter_killed_mid_replay_rebuilds_the_same_kpis(kafka_broker, tmp_path, client):
    # Three busy days: enough messages that the replay lasts a few seconds, made longer by
    # small fetches so that the kill lands in the middle of it.
    prefix = "faultsreplay" + client.replace("-", "")  # topics of their own per client
    feed = Feed(prefix, seed=31, hours=24 * 3, visits_per_day=1500)
    feed.encode()
    kafka_broker.create_topics(feed.topics(), partitions=3, compact=True)
    produce(kafka_broker.bootstrap, feed.messages)
    settings = {
        "topics.prefix": feed.prefix,
        "kafka.client-library": client,
        "kafka.client": SMALL_FETCHES[client],
        "log.progress-interval": 0.5,
    }
    process = ExporterProcess(tmp_path / "first", kafka_broker.bootstrap, settings)
    try:
        process.start(wait_ready=False)
        eventually(lambda: 0.05 < replay_progress(process) < 0.9, 60, "replay under way")
        progress = replay_progress(process)
        process.kill()
    finally:
        process.stop()
    assert 0 < progress < 1

    # Default fetch sizes this time: how the messages are fetched cannot change the KPIs.
    again = ExporterProcess(
        tmp_path / "second",
        kafka_broker.bootstrap,
        {"topics.prefix": feed.prefix, "kafka.client-library": client},
    )
    with again:
        assert stats_without_time(again) == expected_kpis(feed.activity.tables, today())
        assert replay_progress(again) == 1


class PacedProducer(threading.Thread):
    """Sends messages a few at a time, as a live database would, and remembers the ones the
    broker never acknowledged so they can be sent again (re-delivery is harmless)."""

    def __init__(self, bootstrap: str, batch: list, per_tick: int = 40, tick: float = 0.05):
        super().__init__(name="paced-producer", daemon=True)
        from kafka import KafkaProducer

        self.producer = KafkaProducer(
            bootstrap_servers=bootstrap,
            acks="all",
            linger_ms=5,
            request_timeout_ms=5000,
            delivery_timeout_ms=120_000,
            reconnect_backoff_max_ms=1000,
        )
        self.batch, self.per_tick, self.tick = batch, per_tick, tick
        self.futures: list = []

    def run(self) -> None:
        for start in range(0, len(self.batch), self.per_tick):
            for topic, key, value in self.batch[start : start + self.per_tick]:
                self.futures.append(self.producer.send(topic, key=key, value=value))
            time.sleep(self.tick)

    def unacknowledged(self) -> list:
        self.producer.flush(timeout=60)
        failed = []
        for message, future in zip(self.batch, self.futures):
            try:
                future.get(timeout=0)
            except Exception:
                failed.append(message)
        return failed

    def close(self) -> None:
        self.producer.close(timeout=10)


@pytest.fixture
def own_broker(tmp_path):
    """A broker of its own: the session broker serves other tests and must not be killed."""
    if not KAFKA_LIBS.is_dir():
        pytest.skip(f"{KAFKA_LIBS} missing; run scripts/fetch-jvm.sh")
    broker = KafkaBroker(tmp_path / "kafka", tmp_path / "kafka" / "logs")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def exporter_through_a_broker_crash(
    broker: KafkaBroker, base_dir, during_outage, client: str
) -> None:
    """Half a day in, an exporter caught up, live changes flowing, the broker SIGKILLed,
    `during_outage(process)` run, the broker started again on the same data and ports; the
    exporter must end with exactly the KPIs of every change."""
    feed = Feed("faultsbroker", seed=37, hours=12, visits_per_day=600)
    split = len(feed._operations) // 2  # a point in the message list; tombstones add a few
    feed.encode(split=split)
    first, rest = feed.messages[:split], feed.messages[split:]
    broker.create_topics(feed.topics(), partitions=3, compact=True)
    produce(broker.bootstrap, first)
    settings = {
        "topics.prefix": feed.prefix,
        "kafka.poll-timeout": 0.1,
        "kafka.client-library": client,
    }
    producer = None
    try:
        with ExporterProcess(base_dir, broker.bootstrap, settings) as process:
            truth = feed.activity_at(split).tables
            assert stats_without_time(process) == expected_kpis(truth, today())
            producer = PacedProducer(broker.bootstrap, rest)
            producer.start()
            time.sleep(1.0)  # some of the live changes arrive before the crash
            broker.kill()
            during_outage(process)

            broker.start()
            producer.join(timeout=60)
            missing = producer.unacknowledged()
            if missing:  # sent while the broker was down and given up on: send them again
                produce(broker.bootstrap, missing)
            wanted = expected_kpis(feed.activity.tables, today())
            eventually(lambda: stats_without_time(process) == wanted, 60, "the KPIs of all data")
            eventually(lambda: http_get(process.url("/ready"))[0] == 200, 30, "ready again")
            assert metric_value(process, "hospital_exporter_kafka_connected") == 1
            assert process.service.running
    finally:
        if producer is not None:
            producer.close()


@pytest.mark.parametrize("client", CLIENTS)
def test_the_last_kpis_are_served_through_a_broker_crash_and_recovery(own_broker, tmp_path, client):
    def keeps_serving(process) -> None:
        time.sleep(3)  # whatever was fetched before the crash has been applied by now
        during = stats_without_time(process)
        for _ in range(5):
            time.sleep(0.4)
            assert stats_without_time(process) == during

    exporter_through_a_broker_crash(own_broker, tmp_path / "exporter", keeps_serving, client)


@pytest.mark.parametrize("client", CLIENTS)
def test_a_broker_crash_is_reported(own_broker, tmp_path, client):
    def reported(process) -> None:
        eventually(
            lambda: metric_value(process, "hospital_exporter_kafka_connected") == 0,
            30,
            "kafka_connected 0",
        )
        assert http_get(process.url("/ready"))[0] == 503

    exporter_through_a_broker_crash(own_broker, tmp_path / "exporter", reported, client)
