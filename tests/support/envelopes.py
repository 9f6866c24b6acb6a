"""Loading the hand-made envelope files of tests/fixtures/envelopes."""

from __future__ import annotations

import json
from pathlib import Path

ENVELOPES = Path(__file__).resolve().parent.parent / "fixtures" / "envelopes"


def load_envelope(name: str) -> tuple[str, int, int, bytes | None, bytes | None]:
    """(topic, partition, offset, key, value) of one fixture file."""
    record = json.loads((ENVELOPES / name).read_text())
    key, value = record["key"], record["payload"]
    return (
        record["topic"],
        record["partition"],
        record["offset"],
        None if key is None else key.encode(),
        None if value is None else value.encode(),
    )
