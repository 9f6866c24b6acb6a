"""`hospital-exporter replay`: apply captured change events and print the /stats document.

Input files hold `kcat -C -J` output: one JSON object per line with `topic`, `partition`,
`offset`, `key` and `payload`, where key and payload are the raw message strings or null.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime

import orjson

from exporter.config import Config
from exporter.pipeline import Pipeline
from exporter.state import HospitalState
from exporter.stats import current_kpis, stats_document, utc_now
from exporter.telemetry import Telemetry

log = logging.getLogger(__name__)


def read_dump(path: str, telemetry: Telemetry) -> Iterator[tuple]:
    """(topic, partition, offset, key, value) per good line; bad lines are counted."""
    warned = False
    with open(path, "rb") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
                message = (
                    str(record["topic"]),
                    int(record.get("partition", 0)),
                    int(record.get("offset", -1)),
                    _raw(record.get("key")),
                    _raw(record.get("payload")),
                )
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
                telemetry.skipped[("unknown", "bad_dump_line")] += 1
                if not warned:
                    log.warning("%s line %d is not a kcat -J record; skipped", path, number)
                    warned = True
                continue
            yield message


def _raw(text: object) -> bytes | None:
    if text is None:
        return None
    if not isinstance(text, str):
        raise TypeError("key and payload must be strings")
    return text.encode()


def parse_now(text: str | None, tz) -> datetime:
    """--now as an aware datetime; a time without an offset is the hospital's local time."""
    if not text:
        return utc_now()
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def replay(config: Config, paths: list[str], now: datetime) -> dict:
    state = HospitalState(config.reference, config["state.waiting-status"])
    telemetry = Telemetry()
    pipeline = Pipeline(config, state, telemetry)
    for path in paths:
        pipeline.handle_batch(read_dump(path, telemetry))
    # The moment of the data, not of the replay: the newest change's source time.
    if telemetry.newest_source_ts_ms is not None:
        telemetry.last_applied_at = telemetry.newest_source_ts_ms / 1000
    document = stats_document(current_kpis(state, now, config["timezone"]), telemetry)
    applied = sum(telemetry.applied.values())
    skipped = sum(telemetry.skipped.values())
    log.info("replayed %d changes, skipped %d messages", applied, skipped)
    return document


def print_document(document: dict) -> None:
    print(json.dumps(document, indent=2, sort_keys=False))
