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

    def handle_batch(self, messages) -> int:
        """Apply (topic, partition, offset, key, value) tuples under one hold of the lock;
        returns how many changed the state. Never raises for bad input."""
        with self.state.lock:
            applied = self._apply_all(messages)
            if applied:
                self.telemetry.last_applied_at = time.time()
        return applied

    def _apply_all(self, messages) -> int:
        # The per-event path: names are bound locally because this loop runs for every
        # change event of every table.
        tables = self.table_by_topic
        decode = self.decoder.decode
        apply = self.state.apply
        counts = self.telemetry.applied
        newest = self.telemetry.newest_source_ts_ms or 0
        applied = 0
        for topic, partition, offset, key, value in messages:
            table = tables.get(topic)
            if table is None:
                self._skip(UNKNOWN_TABLE, "unknown_topic", topic, partition, offset, "")
                continue
            try:
                change = decode(table, value, key)
            except Skip as skip:
                self._skip(table.name, skip.reason, topic, partition, offset, skip.detail)
                continue
            except Exception as error:  # a shape nobody foresaw must not stop the consumer
                detail = f"{type(error).__name__} in the decoder"
                self._skip(table.name, "decode_error", topic, partition, offset, detail)
                continue
            if not apply(change):
                self._skip(table.name, "stale_version", topic, partition, offset, "")
                continue
            counts[(table.name, change.op)] += 1
            applied += 1
            if change.source_ts_ms is not None and change.source_ts_ms > newest:
                newest = change.source_ts_ms
        if newest:
            self.telemetry.newest_source_ts_ms = newest
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
