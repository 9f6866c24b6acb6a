"""What the fault tests share: simulated activity on topics of their own, and metric reading."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from prometheus_client.parser import text_string_to_metric_families

from tests.support.debezium import Encoder
from tests.support.feed import TABLES, Activity, messages, simulated_operations

HOSPITAL_TZ = "Africa/Cairo"


def now_local() -> datetime:
    return datetime.now(ZoneInfo(HOSPITAL_TZ)).replace(tzinfo=None)


def today():
    return now_local().date()


class Feed:
    """Simulated operations ending now, encoded for topics under `prefix`; `activity_at(n)`
    holds the rows after the first n messages, so a test can produce part of the feed and
    know its truth."""

    def __init__(
        self, prefix: str, seed: int, hours: float, visits_per_day: int, schemas: bool = True
    ) -> None:
        self.encoder = Encoder(flavor="postgres", schemas=schemas, topic_prefix=prefix)
        self.prefix = prefix
        operations = simulated_operations(
            seed=seed,
            tz=HOSPITAL_TZ,
            end_local=now_local(),
            hours=hours,
            visits_per_day=visits_per_day,
        )
        self.activity = Activity()
        self._snapshots: dict[int, Activity] = {}
        self.messages: list[tuple[str, bytes, bytes | None]] = []
        self._operations = list(operations)

    def topics(self) -> list[str]:
        return [self.encoder.topic(table) for table in TABLES]

    def encode(self, split: int | None = None) -> None:
        """Encode every operation; remember the rows after the first `split` operations."""
        for message in messages(self._operations, self.encoder, HOSPITAL_TZ, self.activity):
            self.messages.append(message)
            if split is not None and len(self.messages) == split:
                self._snapshots[split] = copy.deepcopy(self.activity)

    def activity_at(self, count: int) -> Activity:
        return self._snapshots[count]


def metric_samples(text: str) -> dict[str, list]:
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def metric_value(process, name: str, labels: dict | None = None) -> float | None:
    """The value of one sample of /metrics, or None when the sample is absent."""
    families = metric_samples(process.metrics_text())
    family = name.removesuffix("_total")
    for sample in families.get(family, []):
        if sample.name == name and (labels is None or sample.labels == labels):
            return sample.value
    return None


def skipped_by_reason(process, table: str | None = None) -> dict[tuple[str, str], float]:
    families = metric_samples(process.metrics_text())
    return {
        (s.labels["table"], s.labels["reason"]): s.value
        for s in families.get("hospital_exporter_events_skipped", [])
        if s.name.endswith("_total") and (table is None or s.labels["table"] == table)
    }


def stats_without_time(process) -> dict:
    stats = process.get_json("/stats")
    stats.pop("last_update", None)
    return stats


def eventually(check: Callable[[], bool], timeout: float, what: str, interval=0.2) -> None:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as error:  # the exporter may be between two states
            last_error = error
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout:.0f}s (last error: {last_error})")
