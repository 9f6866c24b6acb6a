"""Helpers shared by the benchmarks: timing, medians, CPU pinning, machine description."""

from __future__ import annotations

import gc
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("HOSPITAL_BENCH_CACHE", Path.home() / ".cache" / "hospital-bench"))
HOSPITAL_TZ = "Africa/Cairo"
# The end of every simulated period, so that cached topics and fresh ones hold the same data.
SIM_END = datetime(2026, 12, 1, 0, 0)


def pin(cpus: set[int]) -> None:
    """Keep this process on `cpus`; with 2 cores the broker gets the other one."""
    available = os.sched_getaffinity(0)
    wanted = cpus & available
    if wanted and len(available) > 1:
        os.sched_setaffinity(0, wanted)


def median_rate(run: Callable[[], int], repeats: int) -> tuple[float, list[float]]:
    """Events per second of `run` (which returns how many it handled): median and all runs.

    What earlier runs left for the cyclic collector (a discarded state is one big cycle) is
    collected before each run, so no run pays for another's garbage."""
    rates = []
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        count = run()
        rates.append(count / (time.perf_counter() - started))
    return statistics.median(rates), rates


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except OSError:
        memory_kb = 0
    versions = {}
    for name in ("kafka", "orjson", "prometheus_client", "confluent-kafka"):
        try:
            from importlib.metadata import version

            versions[name] = version({"kafka": "kafka-python"}.get(name, name))
        except Exception:
            versions[name] = "?"
    kernel = subprocess.run(["uname", "-r"], capture_output=True, text=True).stdout.strip()
    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "memory": f"{memory_kb / 1024 / 1024:.1f} GiB",
        "kernel": kernel,
        "python": platform.python_version(),
        "kafka-python": versions["kafka"],
        "orjson": versions["orjson"],
        "prometheus_client": versions["prometheus_client"],
        "confluent-kafka (bench only, not a dependency)": versions["confluent-kafka"],
        "broker": "Apache Kafka 4.1.1 (KRaft, single node)",
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
    }
