"""A burst of malformed messages on the topics of a running exporter: each one is skipped and
counted by reason, the process keeps running, the KPIs do not move, and the next good change is
applied as usual."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import orjson
import pytest

from tests.faults.support import (
    Feed,
    eventually,
    metric_value,
    now_local,
    skipped_by_reason,
    stats_without_time,
    today,
)
from tests.support.exporter_process import ExporterProcess
from tests.support.feed import produce
from tests.support.model import expected_kpis

pytestmark = pytest.mark.integration

PREFIX = "faultsbad"


def visit(visit_id: int, **changes) -> dict:
    row = {
        "VisitID": visit_id,
        "PatientID": 1,
        "DoctorID": 1,
        "ClassificationID": 3,
        "TypeID": 1,
        "VisitDate": now_local() - timedelta(minutes=5),
    }
    row.update(changes)
    return row


def bill(bill_id: int, amount: Decimal) -> dict:
    moment = now_local() - timedelta(minutes=1)
    return {
        "BillID": bill_id,
        "VisitID": 1,
        "AdmissionID": None,
        "PayerTypeID": 1,
        "BillDate": moment,
        "TotalAmount": amount,
        "PaymentStatus": "Paid",
        "PaymentDate": moment,
    }


def malformed_burst(feed: Feed) -> tuple[list, dict[tuple[str, str], int]]:
    """(topic, key, value) messages that must all be skipped, and the count per reason."""
    encoder = feed.encoder
    visits, bills = encoder.topic("Visits"), encoder.topic("Bills")
    good = orjson.loads(encoder.value("Visits", "c", None, visit(990_001)))
    key = encoder.key("Visits", visit(990_001))

    def variant(path: tuple, new) -> bytes:
        document = orjson.loads(orjson.dumps(good))
        target = document
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = new
        return orjson.dumps(document)

    foreign_schema = orjson.loads(
        encoder.value("Speciality", "c", None, {"SpecialityID": 1, "SpecialityName": "X"})
    )["schema"]
    huge_bill = orjson.loads(encoder.value("Bills", "c", None, bill(990_002, Decimal("1.00"))))
    huge_bill["payload"]["after"]["totalamount"] = "1" + "0" * 40  # not DECIMAL(12,2) money
    bill_key = encoder.key("Bills", bill(990_002, Decimal("1.00")))

    burst = [
        (visits, key, b'{"schema": {"type": "struct", "fields": ['),  # cut short
        (visits, key, b"\xff\xfe not json at all"),
        (visits, key, b"[1, 2, 3]"),
        (visits, key, variant(("payload", "after", "doctorid"), "seven")),  # wrong type
        (visits, key, variant(("payload", "after", "visitdate"), 9 * 10**18)),  # year 287000
        (visits, key, variant(("payload", "op"), "x")),  # unknown operation
        (visits, key, variant(("payload", "op"), "truncate")),
        (visits, key, variant(("schema",), foreign_schema)),  # another table's schema
        (visits, key, variant(("payload",), None)),
        (visits, key, None),  # a tombstone for a key that was never deleted
        (bills, bill_key, orjson.dumps(huge_bill)),
    ]
    expected = {
        ("Visits", "bad_json"): 2,
        ("Visits", "not_an_envelope"): 1,
        ("Visits", "bad_field"): 3,
        ("Visits", "unknown_op"): 2,
        ("Visits", "null_payload"): 1,
        ("Visits", "tombstone"): 1,
        ("Bills", "bad_field"): 1,
    }
    return burst, expected


def test_a_burst_of_malformed_messages_is_skipped_and_counted(kafka_broker, tmp_path):
    feed = Feed(PREFIX, seed=23, hours=8, visits_per_day=300)
    feed.encode()
    kafka_broker.create_topics(feed.topics(), partitions=3, compact=True)
    produce(kafka_broker.bootstrap, feed.messages)
    settings = {"topics.prefix": PREFIX, "kafka.poll-timeout": 0.1}
    with ExporterProcess(tmp_path, kafka_broker.bootstrap, settings) as process:
        before = stats_without_time(process)
        assert before == expected_kpis(feed.activity.tables, today())
        skipped_before = skipped_by_reason(process)

        burst, expected = malformed_burst(feed)
        produce(kafka_broker.bootstrap, burst)

        def counted() -> bool:
            now = skipped_by_reason(process)
            return all(
                now.get(label, 0) - skipped_before.get(label, 0) >= count
                for label, count in expected.items()
            )

        eventually(counted, 30, "every malformed message counted as skipped")
        after = skipped_by_reason(process)
        for label, count in expected.items():
            assert after.get(label, 0) - skipped_before.get(label, 0) == count, label
        assert process.service.running
        assert stats_without_time(process) == before
        assert metric_value(process, "hospital_exporter_kafka_connected") == 1

        # The consumer went past the burst: a good change that follows is applied.
        arrival = visit(990_003)
        feed.activity.apply("insert", "Visits", arrival)
        produce(
            kafka_broker.bootstrap,
            [
                (
                    feed.encoder.topic("Visits"),
                    feed.encoder.key("Visits", arrival),
                    feed.encoder.value("Visits", "c", None, arrival, position=10**9),
                )
            ],
        )
        wanted = expected_kpis(feed.activity.tables, today())
        eventually(lambda: stats_without_time(process) == wanted, 30, "the good change applied")


def test_a_wrong_shaped_schema_does_not_stop_the_consumer(kafka_broker, tmp_path):
    feed = Feed(PREFIX + "poison", seed=29, hours=2, visits_per_day=200)
    feed.encode()
    kafka_broker.create_topics(feed.topics(), partitions=3, compact=True)
    produce(kafka_broker.bootstrap, feed.messages)
    settings = {"topics.prefix": feed.prefix, "kafka.poll-timeout": 0.1}
    with ExporterProcess(tmp_path, kafka_broker.bootstrap, settings) as process:
        encoder = feed.encoder
        arrival = visit(990_004)
        poison = orjson.loads(encoder.value("Visits", "c", None, arrival))
        poison["schema"]["fields"][0] = None
        feed.activity.apply("insert", "Visits", arrival)
        key = encoder.key("Visits", arrival)
        topic = encoder.topic("Visits")
        produce(
            kafka_broker.bootstrap,
            [
                (topic, key, orjson.dumps(poison)),
                (topic, key, encoder.value("Visits", "c", None, arrival, position=10**9)),
            ],
        )
        wanted = expected_kpis(feed.activity.tables, today())
        eventually(lambda: stats_without_time(process) == wanted, 20, "the change after it")
