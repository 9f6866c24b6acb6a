"""From a Kafka message to the state: route by topic, decode, apply, count.

Shared by `serve` (messages from Kafka) and `replay` (messages from a dump file), so both
compute exactly the same KPIs.
"""

from __future__ import annotations

import logging
import time
from itertools import groupby
from operator import itemgetter
from typing import NamedTuple

from exporter.config import Config
from exporter.decode import OPS, Change, Decoder, Skip
from exporter.state import HospitalState
from exporter.tables import TABLES
from exporter.telemetry import Telemetry

log = logging.getLogger(__name__)

UNKNOWN_TABLE = "unknown"
# Skips that are part of normal Debezium traffic and are counted without a warning.
_EXPECTED_SKIPS = {"tombstone", "unknown_topic", "stale_version"}
_topic_partition = itemgetter(0, 1)


class Message(NamedTuple):
    """One Kafka record, as much of it as the pipeline reads."""

    offset: int
    key: bytes | None
    value: bytes | None


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
        """Apply (topic, partition, offset, key, value) tuples; returns how many changed the
        state. Never raises for bad input."""
        return self.handle_partitions(
            (topic, partition, [Message(offset, key, value) for _, _, offset, key, value in run])
            for (topic, partition), run in groupby(messages, key=_topic_partition)
        )

    def handle_partitions(self, batches) -> int:
        """Apply (topic, partition, records) batches under one hold of the lock. The records
        of a batch are one partition's, in offset order: objects with `offset`, `key` and
        `value`, such as the consumer's. Returns how many changed the state."""
        applied = 0
        with self.state.lock:
            for topic, partition, records in batches:
                applied += self._apply(topic, partition, records)
            if applied:
                self.telemetry.last_applied_at = time.time()
        return applied

    def _apply(self, topic: str, partition: int, records) -> int:
        table = self.table_by_topic.get(topic)
        if table is None:
            for record in records:
                self._skip(UNKNOWN_TABLE, "unknown_topic", topic, partition, record.offset, "")
            return 0
        if type(records) is not list:
            records = list(records)
        # Most events are creates and updates in a layout the decoder knows: the compiled
        # scanner decodes and stores whole runs of them in one call, and hands back the
        # first record it declines, which takes the per-record path below. The source time
        # is read once per batch, from the last event applied (a batch is one partition's,
        # in commit order).
        store = self.state.store_of(table.name)
        applied_by_op = dict.fromkeys(OPS, 0)
        newest = self.telemetry.newest_source_ts_ms or 0
        last_fast_value = None
        scanner = self.decoder.scanner(table)
        at, total = 0, len(records)
        while at < total:
            if scanner is not None:
                at, created, updated, read, stale, last = scanner.apply(records, at, store)
                applied_by_op["c"] += created
                applied_by_op["u"] += updated
                applied_by_op["r"] += read
                if stale:
                    self.telemetry.skipped[(table.name, "stale_version")] += stale
                if last >= 0:
                    last_fast_value = records[last].value
                if at >= total:
                    break
            record = records[at]
            at += 1
            value = record.value
            fast = None if value is None else self.decoder.decode_row(table, value)
            if fast is not None:
                op, row_key, row, position = fast
                if not store(row_key, row, position):
                    self._skip(table.name, "stale_version", topic, partition, record.offset, "")
                    continue
                last_fast_value = value
            else:
                change = self._decode_fully(table, topic, partition, record, value)
                # A full decode may have learnt a new layout, with a scanner of its own.
                scanner = self.decoder.scanner(table)
                if change is None:
                    continue
                op = change.op
                if not store(change.key, change.row, change.position):
                    self._skip(table.name, "stale_version", topic, partition, record.offset, "")
                    continue
                if change.source_ts_ms is not None and change.source_ts_ms > newest:
                    newest = change.source_ts_ms
            applied_by_op[op] += 1
        if last_fast_value is not None:
            source_ts = self.decoder.source_ts(last_fast_value)
            if source_ts is not None and source_ts > newest:
                newest = source_ts
        if newest:
            self.telemetry.newest_source_ts_ms = newest
        counts = self.telemetry.applied
        for op, count in applied_by_op.items():
            if count:
                counts[(table.name, op)] += count
        return sum(applied_by_op.values())

    def _decode_fully(self, table, topic, partition, record, value) -> Change | None:
        offset = record.offset
        try:
            return self.decoder.decode(table, value, record.key)
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
