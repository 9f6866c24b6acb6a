"""BENCHMARKS.md from the results of one run."""

from __future__ import annotations

from bench import decode

INTRO = """# Benchmarks

Measured side by side in one run of `make bench` (or `.venv/bin/python -m bench`; one part:
`python -m bench decode`, `python -m bench replay --days 60`). The machine is shared and
noisy, so rates are medians of several runs and the useful figures are the ratios. The
benchmark process is pinned to CPU 0 (`os.sched_setaffinity`), the Kafka broker's JVM and
the exporter under test with `taskset` to CPU 1 and CPU 0 respectively, so the broker and the
measured Python process do not share a core.
"""

DECODE_NOTES = """
What the columns mean: each row is the same simulated week of a large hospital (2500 visits a
day, tombstones left out) encoded as the Debezium JSON converter writes it.
*exporter* is `Pipeline.handle_batch` on a fresh state: routing, decoding, applying and
counting, the real per-event path. *json.loads* parses each whole message with the standard
library and does nothing else. *orjson payload (ceiling)* parses only the envelope (`payload`)
of each message with orjson, the fastest decoder the exporter uses: no schema, no row
conversion, no state, so no exporter path can beat it. *seed baseline* is the original design
(`bench/seed_baseline.py`): full `json.loads` of schema and payload, then counters bumped up
and down per event.
"""


def _machine(info: dict) -> str:
    lines = ["## Machine and versions", "", "| | |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in info.items()]
    return "\n".join(lines)


def _replay(result: dict) -> str:
    last = result["last"]
    memory = last["memory"]
    rows = last["rows"]
    kept = sum(rows.values())
    extra_kb = memory["VmRSS"] - result["empty_rss_kb"]
    per_row = result["per_row"]
    raw_rate, replay_rate = result["raw_rate"], result["replay_rate"]
    lines = [
        "## Replay from a real broker (point 2)",
        "",
        f"{result['days']} simulated days at {result['visits_per_day']} visits a day: "
        f"{result['messages']:,} messages (schemas off, PostgreSQL flavour) on 8 topics of 3 "
        "partitions, produced once to a broker kept under `~/.cache/hospital-bench/`.",
        "",
        "| measure | median | runs |",
        "|---|---:|---|",
        f"| kafka-python consume only, msg/s | {raw_rate:,.0f} | "
        + ", ".join(f"{r:,.0f}" for r in result["raw_rates"])
        + " |",
        f"| exporter start to /ready 200, msg/s | {replay_rate:,.0f} | "
        + ", ".join(f"{s:.1f} s" for s in result["replay_seconds"])
        + " |",
        f"| exporter / raw consume | {replay_rate / raw_rate:.0%} | target 80% |",
        "",
        "Catch-up log of the last replay:",
        "",
        "```",
        *last["progress"][-6:],
        "```",
        "",
        "## Memory after the replay (point 3)",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| peak RSS (VmHWM) | {memory['VmHWM'] / 1024:.1f} MiB |",
        f"| RSS after replay (VmRSS) | {memory['VmRSS'] / 1024:.1f} MiB |",
        f"| RSS of an exporter with nothing to read | {result['empty_rss_kb'] / 1024:.1f} MiB |",
        f"| rows kept | {kept:,.0f} |",
        f"| (RSS - empty RSS) / rows kept | {extra_kb * 1024 / max(kept, 1):,.0f} bytes |",
        f"| tracemalloc, {per_row['messages']:,} messages into a fresh state, per row kept | "
        f"{per_row['bytes'] / max(per_row['rows'], 1):,.0f} bytes ({per_row['rows']:,} rows) |",
        "",
        "Rows by table: " + ", ".join(f"{t} {n:,.0f}" for t, n in sorted(rows.items())) + ".",
        "",
        "## Scrape cost (point 5)",
        "",
        "An exporter holding the replayed state, every label present; sequential requests.",
        "",
        "| endpoint | median ms | p95 ms | body bytes |",
        "|---|---:|---:|---:|",
    ]
    for path, timing in last["scrape"].items():
        lines.append(
            f"| {path} | {timing['median_ms']:.2f} | {timing['p95_ms']:.2f} | {timing['bytes']:,} |"
        )
    return "\n".join(lines)


REPLAY_NOT_RUN = """## Replay, memory and scrape cost (points 2, 3, 5)

Not in this run. `python -m bench replay` (default: 365 simulated days at 2100 visits a day,
about 5 million messages) produces the topics once into `~/.cache/hospital-bench/`, then
measures kafka-python's raw consume rate, the exporter's start-to-ready time, its peak RSS and
bytes per kept row, and `/metrics` and `/stats` response times. Producing 5 million messages
with kafka-python takes a long time on a 2-core machine; `--days 60` gives a first figure.
"""

FRESHNESS = """## Freshness on the local stack (point 4)

Not measured yet. The local stack (`devstack/stack.py`, `devstack/demo.py`) was still being
completed; the intended measure is at least 200 single-row status commits into PostgreSQL, each
timed from commit to the moment `/stats` (polled every 20 ms) shows it, reported as
p50/p95/p99.
"""


def markdown(results: dict) -> str:
    parts = [INTRO]
    if "decode" in results:
        parts += [
            "## Decode + apply, one core (point 1)",
            "",
            decode.table(results["decode"]),
            DECODE_NOTES,
        ]
    if "replay" in results:
        replay = dict(results["replay"], per_row=results["per_row"])
        parts.append(_replay(replay))
    else:
        parts.append(REPLAY_NOT_RUN)
    parts.append(FRESHNESS)
    parts.append(_machine(results["machine"]))
    parts.append(f"Command: `{results['command']}`.\n")
    return "\n\n".join(parts)
