"""Simulated hospital activity turned into Debezium messages on a real Kafka broker.

The activity comes from the simulator's generator (the same one that fills the database), so
tests, benchmarks and the database all see the same kind of day.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from kafka import KafkaProducer

from exporter.simulate.generator import Generator
from tests.support.debezium import COLUMNS, KEYS, Encoder

TABLES = tuple(COLUMNS)  # the eight tables the exporter reads
OPS = {"insert": "c", "update": "u", "delete": "d"}
UPDATED_TABLES = {"Visits", "Admissions", "Bills", "Doctor_Speciality"}


class Activity:
    """Final rows of the eight tables, kept while the operations go by (the ground truth)."""

    def __init__(self) -> None:
        self.tables: dict[str, dict] = {table: {} for table in TABLES}

    def apply(self, kind: str, table: str, row: dict) -> None:
        key = tuple(row[column] for column in KEYS[table])
        if kind == "delete":
            self.tables[table].pop(key, None)
        else:
            self.tables[table][key] = dict(row)


def simulated_operations(
    seed: int, tz: str, end_local: datetime, hours: float = 24, visits_per_day: int = 400
) -> Iterator[tuple[str, str, dict]]:
    """(kind, table, row) of the reference tables, then of `hours` of activity to `end_local`."""
    generator = Generator(seed=seed, tz=tz, visits_per_day=visits_per_day)
    for table, rows in generator.reference_rows().items():
        if table in COLUMNS:
            for row in rows:
                yield "snapshot", table, row
    start = end_local - timedelta(hours=hours)
    for kind, table, row in generator.run(start, end_local):
        if table in COLUMNS:
            yield kind, table, row


def messages(
    operations: Iterable[tuple[str, str, dict]],
    encoder: Encoder,
    tz: str,
    activity: Activity | None = None,
    first_position: int = 1,
) -> Iterator[tuple[str, bytes, bytes | None]]:
    """(topic, key, value) per operation, a tombstone after each delete."""
    zone = ZoneInfo(tz)
    position = first_position
    # The old row of an update, as SQL Server CDC and PostgreSQL's REPLICA IDENTITY FULL
    # send it; only tables the simulator updates need remembering.
    previous: dict[tuple, dict] = {}
    for kind, table, row in operations:
        if activity is not None:
            activity.apply(kind, table, row)
        moment = row_time(row) or datetime(2026, 1, 1)
        ts_ms = int(moment.replace(tzinfo=zone).timestamp() * 1000)
        op = OPS.get(kind, "r")
        row_key = (table, *(row[column] for column in KEYS[table]))
        if op == "d":
            before, after = row, None
            previous.pop(row_key, None)
        else:
            before, after = (previous.get(row_key) if op == "u" else None), row
            if table in UPDATED_TABLES:
                previous[row_key] = dict(row)
        key = encoder.key(table, row)
        topic = encoder.topic(table)
        yield topic, key, encoder.value(table, op, before, after, ts_ms=ts_ms, position=position)
        if op == "d":
            yield topic, key, None
        position += 1


def row_time(row: dict) -> datetime | None:
    times = [value for value in row.values() if isinstance(value, datetime)]
    return max(times) if times else None


def produce(bootstrap: str, batch: Iterable[tuple[str, bytes, bytes | None]]) -> int:
    """Send every message, keyed, so each row's versions share a partition; returns count."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=20, batch_size=256 * 1024, acks="all"
    )
    count = 0
    try:
        for topic, key, value in batch:
            producer.send(topic, key=key, value=value)
            count += 1
        producer.flush(timeout=120)
    finally:
        producer.close(timeout=30)
    return count
