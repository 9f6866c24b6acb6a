"""Point 4: freshness on the local stack, from a database commit to /stats showing it.

The stack is the one of `make demo` and of the end-to-end test (PostgreSQL with a generated
week, Debezium on a Kafka Connect worker, one broker, the exporter); monitoring is left out,
as it is not on the path. Each change is one new visit dated now, committed on its own
(autocommit); /stats is then polled until `visits_today_total` has grown by one. Changes are
made one after the other, so each measures an idle pipeline's latency, not a queue.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import time
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.common import percentile
from devstack import stack

POLL_SECONDS = 0.01
CHANGE_TIMEOUT = 30


def visits_today(url: str) -> int:
    with urllib.request.urlopen(f"{url}/stats", timeout=5) as response:
        return json.load(response)["visits_today_total"]


class VisitWriter:
    """Inserts one visit at a time for the same patient, doctor and type."""

    def __init__(self, conn) -> None:
        self.conn = conn
        self.zone = ZoneInfo(stack.hospital_timezone())
        self.values = tuple(
            conn.execute(
                "SELECT (SELECT MIN(PatientID) FROM dbo.Patients), "
                "(SELECT MIN(DoctorID) FROM dbo.Doctor_Speciality), "
                "ClassificationID, TypeID FROM dbo.VisitType ORDER BY TypeID LIMIT 1"
            ).fetchone()
        )

    def add(self) -> None:
        now = dt.datetime.now(self.zone).replace(tzinfo=None, microsecond=0)
        self.conn.execute(
            "INSERT INTO dbo.Visits (PatientID, DoctorID, ClassificationID, TypeID, VisitDate) "
            "VALUES (?, ?, ?, ?, ?)",
            *self.values,
            now,
        )

    def expected_today(self) -> int:
        """Today's visits by the KPI queries the end-to-end test checks against."""
        from exporter.simulate import groundtruth

        now = dt.datetime.now(self.zone).replace(tzinfo=None)
        return groundtruth.kpis(self.conn, "postgres", now)["visits_today_total"]


def settle(url: str, writer: VisitWriter, timeout: float = 300) -> int:
    """Until /stats agrees with the database (the connector's snapshot fully read)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        expected = writer.expected_today()
        if visits_today(url) == expected:
            return expected
        time.sleep(0.5)
    raise RuntimeError(f"/stats did not reach the database's visit count within {timeout} s")


def measure(url: str, writer: VisitWriter, changes: int) -> list[float]:
    """Seconds from each commit until /stats counts the new visit."""
    latencies = []
    seen = settle(url, writer)
    for _ in range(changes):
        writer.add()
        committed = time.monotonic()
        deadline = committed + CHANGE_TIMEOUT
        while time.monotonic() < deadline:
            current = visits_today(url)
            if current > seen:
                latencies.append(time.monotonic() - committed)
                seen = current
                break
            time.sleep(POLL_SECONDS)
        else:
            raise RuntimeError(f"a new visit did not reach /stats within {CHANGE_TIMEOUT} s")
    return latencies


def run(changes: int, work: Path) -> dict:
    from exporter.simulate import db as simdb

    settings = stack.Settings(
        run_dir=work,
        log_dir=work / "logs",
        monitoring=False,
    )
    began = time.monotonic()
    with stack.Stack(settings) as running:
        start_seconds = time.monotonic() - began
        conn = simdb.connect(running.postgres.odbc_dsn(), autocommit=True)
        try:
            writer = VisitWriter(conn)
            writer.add()  # the first change after the snapshot waits for streaming to begin
            settle(running.exporter_url, writer)
            latencies = measure(running.exporter_url, writer, changes)
        finally:
            conn.close()
    ms = [seconds * 1000 for seconds in latencies]
    return {
        "changes": len(ms),
        "stack_start_seconds": start_seconds,
        "p50_ms": statistics.median(ms),
        "p95_ms": percentile(ms, 0.95),
        "p99_ms": percentile(ms, 0.99),
        "max_ms": max(ms),
        "poll_ms": POLL_SECONDS * 1000,
    }
