"""`python -m bench [all|decode|replay|freshness]`: run the benchmarks, print the tables and
write them, with the machine, the versions and the date, to BENCHMARKS.md at the repository root.

Decode + apply runs last, so that it measures the code as it is when the run ends."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from bench import decode, report
from bench.common import CACHE, ROOT, machine


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "part", nargs="?", default="all", choices=["all", "decode", "replay", "freshness"]
    )
    parser.add_argument("--decode-days", type=float, default=7)
    parser.add_argument("--decode-repeats", type=int, default=5)
    parser.add_argument("--days", type=int, default=365, help="simulated days for the replay")
    parser.add_argument("--visits-per-day", type=int, default=2800)
    parser.add_argument("--raw-repeats", type=int, default=3)
    parser.add_argument("--replay-repeats", type=int, default=2)
    parser.add_argument("--scrape-requests", type=int, default=300)
    parser.add_argument("--changes", type=int, default=200, help="freshness: changes timed")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args(argv)

    results: dict = {"machine": machine(), "command": " ".join(["python -m bench", *sys.argv[1:]])}
    if args.part in ("all", "replay"):
        from bench import replay

        with tempfile.TemporaryDirectory(prefix="hospital-bench-") as work:
            results["replay"] = replay.run(
                args.days,
                args.visits_per_day,
                args.raw_repeats,
                args.replay_repeats,
                args.scrape_requests,
                Path(work),
            )
        results["per_row"] = replay.bytes_per_row_in_process()
        save(results)
    if args.part in ("all", "freshness"):
        from bench import freshness

        with tempfile.TemporaryDirectory(prefix="hospital-bench-stack-") as work:
            results["freshness"] = freshness.run(args.changes, Path(work))
    if args.part in ("all", "decode"):
        results["decode"] = decode.run(args.decode_days, 2500, args.decode_repeats)
        print(decode.table(results["decode"]), flush=True)
    text = report.markdown(results)
    print(text)
    args.output.write_text(text)
    save(results)
    return 0


def save(results: dict) -> None:
    """The raw figures, every repetition included, beside the cached broker data."""
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / "last-results.json").write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    sys.exit(main())
