"""What the exporter knows about itself: events applied and skipped, freshness, Kafka health.

Plain counters updated by the consumer thread and read by the metrics collector; a Counter
increment is far cheaper per event than a prometheus_client child's lock.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Telemetry:
    applied: Counter = field(default_factory=Counter)  # (table, op) -> events
    skipped: Counter = field(default_factory=Counter)  # (table, reason) -> events
    pruned: Counter = field(default_factory=Counter)  # table -> rows
    newest_source_ts_ms: int | None = None
    last_applied_at: float | None = None  # unix time the last change was applied
    lag: dict[tuple[str, int], int] = field(default_factory=dict)  # (topic, partition) -> msgs
    replay_progress: float = 0.0
    ready: bool = False
    kafka_connected: bool = False
    kafka_reconnects: int = 0
    collect_duration: float = 0.0
