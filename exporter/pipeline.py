"""From a Kafka message to the state: route by topic, decode, apply, count.

Shared by `serve` (messages from Kafka) and `replay` (messages from a dump file), so both
compute exactly the same KPIs.
"""

from __future__ import annotations

import logging
import time

from exporter.config import Config
from exporter.decode import Decoder, Skip
from exporter.state import HospitalState
from exporter.tables import TABLES
from exporter.telemetry import Telemetry

log = logging.getLogger(__name__)

UNKNOWN_TABLE = "unknown"
# Skips that are part of normal Debezium traffic and are counted without a warning.
_EXPECTED_SKIPS = {"tombstone", "unknown_topic", "stale_version"}


class Pipeline:
    def __init__(self, config: Config, state: HospitalState, telemetry: Telemetry) -> None:
        self.config = config
        self.state = state
        self.telemetry = telemetry
        self.decoder = Decoder(config["timezone"])
        self.table_by_topic = {config.topic(table.name): table for table in TABLES}
        self._warned: set[tuple[str, str]] = set()

    @property
    def topics(self) -> list[str]:
        return list(self.table_by_topic)

    def handle(self, topic: str, partition: int, offset: int, key, value) -> bool:
        """Apply one message; the caller holds `state.lock`. Never raises for bad input."""
        table = self.table_by_topic.get(topic)
        if table is None:
            self._skip(UNKNOWN_TABLE, "unknown_topic", topic, partition, offset, "")
            return False
        try:
            change = self.decoder.decode(table, value, key)
        except Skip as skip:
            self._skip(table.name, skip.reason, topic, partition, offset, skip.detail)
            return False
        if not self.state.apply(change):
            self._skip(table.name, "stale_version", topic, partition, offset, "")
            return False
        self.telemetry.applied[(table.name, change.op)] += 1
        newest = self.telemetry.newest_source_ts_ms
        if change.source_ts_ms is not None and (newest is None or change.source_ts_ms > newest):
            self.telemetry.newest_source_ts_ms = change.source_ts_ms
        return True

    def handle_batch(self, messages) -> int:
        """Apply (topic, partition, offset, key, value) tuples under one hold of the lock;
        returns how many changed the state."""
        applied = 0
        with self.state.lock:
            for message in messages:
                applied += self.handle(*message)
            if applied:
                self.telemetry.last_applied_at = time.time()
        return applied

    def _skip(self, table: str, reason: str, topic, partition, offset, detail: str) -> None:
        self.telemetry.skipped[(table, reason)] += 1
        if reason in _EXPECTED_SKIPS or (table, reason) in self._warned:
            return
        # Once per table and reason, so a burst of bad messages cannot flood the log.
        self._warned.add((table, reason))
        log.warning(
            "skipped a message (%s) at %s/%d offset %d%s; further ones are only counted",
            reason,
            topic,
            partition,
            offset,
            f": {detail}" if detail else "",
        )
