"""From a Kafka message to the state: route by topic, decode, apply, count.

Shared by `serve` (messages from Kafka) and `replay` (messages from a dump file), so both
compute exactly the same KPIs.
"""

from __future__ import annotations

import logging
import time

from exporter.config import Config
from exporter.decode import Change, Decoder, Skip
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
        # change event. Most events take the decoder's fast path, which leaves the source
        # time unread; it is read once per batch, from the last event applied (a batch from
        # the consumer is one partition's, in commit order).
        # Known shortcoming: being interpreted, this loop with decode_row and store costs
        # about four times what orjson needs to parse a payload, which bounds the start-up
        # replay rate (BENCHMARKS.md); a compiled version of the three would lift it.
        tables = self.table_by_topic
        decode_row = self.decoder.decode_row
        store = self.state.store
        counts = self.telemetry.applied
        newest = self.telemetry.newest_source_ts_ms or 0
        last_fast_value = None
        applied = 0
        for topic, partition, offset, key, value in messages:
            table = tables.get(topic)
            if table is None:
                self._skip(UNKNOWN_TABLE, "unknown_topic", topic, partition, offset, "")
                continue
            fast = None if value is None else decode_row(table, value)
            if fast is not None:
                op, row_key, row, position = fast
                source_ts = None
            else:
                change = self._decode_fully(table, topic, partition, offset, key, value)
                if change is None:
                    continue
                op, row_key, row, position = change.op, change.key, change.row, change.position
                source_ts = change.source_ts_ms
            if not store(table.name, row_key, row, position):
                self._skip(table.name, "stale_version", topic, partition, offset, "")
                continue
            counts[(table.name, op)] += 1
            applied += 1
            if source_ts is None:
                last_fast_value = value
            elif source_ts > newest:
                newest = source_ts
        if last_fast_value is not None:
            source_ts = self.decoder.source_ts(last_fast_value)
            if source_ts is not None and source_ts > newest:
                newest = source_ts
        if newest:
            self.telemetry.newest_source_ts_ms = newest
        return applied

    def _decode_fully(self, table, topic, partition, offset, key, value) -> Change | None:
        try:
            return self.decoder.decode(table, value, key)
        except Skip as skip:
            self._skip(table.name, skip.reason, topic, partition, offset, skip.detail)
        except Exception as error:  # a shape nobody foresaw must not stop the consumer
            detail = f"{type(error).__name__} in the decoder"
            self._skip(table.name, "decode_error", topic, partition, offset, detail)
        return None

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
