"""End to end: PostgreSQL -> Debezium -> Kafka -> exporter -> Prometheus, against ground truth.

Each change is committed to the database, then `/stats` is polled until it equals the KPIs
computed by the SQL of sql/postgres/kpi_queries.sql; the time from commit to that match is
the observed latency. Prometheus must then report the same numbers. Halfway through, the
Connect worker is killed and a change is made while it is down (Debezium resumes from its
last flushed offset and re-sends what followed), and the exporter is restarted (it rebuilds
its state from the compacted topics).
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import time
import urllib.request
from zoneinfo import ZoneInfo

import pytest

from devstack import stack
from exporter import connectors

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MATCH_TIMEOUT = 60


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    base = tmp_path_factory.mktemp("e2e")
    settings = stack.Settings(
        run_dir=base,
        log_dir=base / "logs",
        scrape_interval="1s",
    )
    with stack.Stack(settings) as running:
        yield running


@pytest.fixture(scope="module")
def db(pipeline):
    from exporter.simulate import db as simdb

    conn = simdb.connect(pipeline.postgres.odbc_dsn(), autocommit=True)
    yield conn
    conn.close()


class Hospital:
    """Writes the changes of the scenario and knows the hospital's clock."""

    def __init__(self, conn) -> None:
        self.conn = conn
        self.zone = ZoneInfo(stack.hospital_timezone())
        self.patient = self.scalar("SELECT MIN(PatientID) FROM dbo.Patients")
        self.type_id, self.classification = self.row(
            "SELECT TypeID, ClassificationID FROM dbo.VisitType ORDER BY TypeID LIMIT 1"
        )
        self.doctor = self.scalar("SELECT MIN(DoctorID) FROM dbo.Doctor_Speciality")
        self.payer = self.scalar("SELECT MIN(PayerTypeID) FROM dbo.PayerTypes")
        self.status = dict(self.conn.execute("SELECT StatusName, StatusID FROM dbo.VisitStatus"))

    def now(self) -> dt.datetime:
        return dt.datetime.now(self.zone).replace(tzinfo=None, microsecond=0)

    def scalar(self, sql: str, *params):
        return self.conn.execute(sql, *params).fetchone()[0]

    def row(self, sql: str, *params):
        return tuple(self.conn.execute(sql, *params).fetchone())

    def new_visit(self) -> int:
        return self.scalar(
            "INSERT INTO dbo.Visits (PatientID, DoctorID, ClassificationID, TypeID, VisitDate) "
            "VALUES (?, ?, ?, ?, ?) RETURNING VisitID",
            self.patient,
            self.doctor,
            self.classification,
            self.type_id,
            self.now(),
        )

    def set_status(self, visit: int, name: str) -> int:
        return self.scalar(
            "INSERT INTO dbo.VisitStatusHistory (VisitID, StatusID, StatusTime) "
            "VALUES (?, ?, ?) RETURNING HistoryID",
            visit,
            self.status[name],
            self.now(),
        )

    def admit(self, visit: int) -> int:
        return self.scalar(
            "INSERT INTO dbo.Admissions (VisitID, AdmissionDate) VALUES (?, ?) "
            "RETURNING AdmissionID",
            visit,
            self.now(),
        )

    def new_bill(self, visit: int, amount: str) -> int:
        return self.scalar(
            "INSERT INTO dbo.Bills (VisitID, PayerTypeID, BillDate, TotalAmount) "
            "VALUES (?, ?, ?, ?) RETURNING BillID",
            visit,
            self.payer,
            self.now(),
            amount,
        )


def stats(pipeline) -> dict:
    with urllib.request.urlopen(f"{pipeline.exporter_url}/stats", timeout=5) as response:
        return json.load(response)


def normalise(kpis: dict) -> dict:
    """Comparable form: no timestamp, money as a rounded float, zero waiting rows dropped."""
    document = {key: value for key, value in kpis.items() if key != "last_update"}
    document["revenue_paid_today"] = round(float(document["revenue_paid_today"]), 2)
    for key in ("waiting_now_by_speciality", "waiting_now_by_classification"):
        document[key] = {name: n for name, n in document[key].items() if n}
    return document


def truth(db, hospital: Hospital) -> dict:
    from exporter.simulate import groundtruth

    return normalise(groundtruth.kpis(db, "postgres", hospital.now()))


def wait_for_truth(pipeline, db, hospital: Hospital, since: float) -> float:
    """Seconds from `since` (a commit) until /stats equals the ground truth."""
    deadline = time.monotonic() + MATCH_TIMEOUT
    expected = got = None
    while time.monotonic() < deadline:
        got = normalise(stats(pipeline))
        if got == expected:
            return time.monotonic() - since
        expected = truth(db, hospital)
        if got == expected:
            return time.monotonic() - since
        time.sleep(0.05)
    raise AssertionError(f"/stats never matched the database:\n{got}\n!=\n{expected}")


PROMETHEUS_CHECKS = {
    "visits_today_total": "sum(hospital_visits_today)",
    "admissions_today": "hospital_admissions_today",
    "inpatients_now": "hospital_inpatients",
    "revenue_paid_today": "sum(hospital_revenue_paid_today)",
    "waiting_total": "sum(hospital_waiting_patients)",
}


def prometheus_matches(pipeline, expected: dict) -> None:
    wanted = {
        "visits_today_total": expected["visits_today_total"],
        "admissions_today": expected["admissions_today"],
        "inpatients_now": expected["inpatients_now"],
        "revenue_paid_today": expected["revenue_paid_today"],
        "waiting_total": sum(expected["waiting_now_by_classification"].values()),
    }
    deadline = time.monotonic() + 30
    seen = {}
    while time.monotonic() < deadline:
        for key, expr in PROMETHEUS_CHECKS.items():
            result = pipeline.prometheus.query(expr)
            seen[key] = round(float(result[0]["value"][1]), 2) if result else None
        if seen == {key: round(float(value), 2) for key, value in wanted.items()}:
            return
        time.sleep(0.5)
    raise AssertionError(f"Prometheus {seen} != database {wanted}")


def test_changes_reach_stats_and_prometheus(pipeline, db, capsys):
    hospital = Hospital(db)
    latencies: list[float] = []

    def check(what: str, after: str = "commit") -> None:
        latency = wait_for_truth(pipeline, db, hospital, since)
        if after == "commit":
            latencies.append(latency)
        prometheus_matches(pipeline, truth(db, hospital))
        with capsys.disabled():
            print(f"\n  {what}: /stats matched the database {latency * 1000:.0f} ms after {after}")

    since = time.monotonic()
    check("generated week", after="the exporter was ready")

    visits = [hospital.new_visit() for _ in range(3)]
    since = time.monotonic()
    check("three new visits")

    hospital.set_status(visits[0], "Waiting")
    since = time.monotonic()
    check("a patient moves into Waiting")

    consultation = hospital.set_status(visits[0], "In Consultation")
    since = time.monotonic()
    check("the patient leaves Waiting")

    db.execute("DELETE FROM dbo.VisitStatusHistory WHERE HistoryID = ?", consultation)
    since = time.monotonic()
    check("a status row deleted (back to Waiting)")

    admission = hospital.admit(visits[1])
    since = time.monotonic()
    check("an admission")

    db.execute(
        "UPDATE dbo.Admissions SET DischargeDate = ? WHERE AdmissionID = ?",
        hospital.now(),
        admission,
    )
    since = time.monotonic()
    check("a discharge")

    bill = hospital.new_bill(visits[2], "1234.56")
    db.execute(
        "UPDATE dbo.Bills SET PaymentStatus = 'Paid', PaymentDate = ? WHERE BillID = ?",
        hospital.now(),
        bill,
    )
    since = time.monotonic()
    check("a bill paid today")

    db.execute("UPDATE dbo.Bills SET PaymentStatus = 'Cancelled' WHERE BillID = ?", bill)
    since = time.monotonic()
    check("a paid bill cancelled")

    # Connect dies without flushing; a change lands while it is down.
    pipeline.connect.kill()
    late_visit = hospital.new_visit()
    hospital.set_status(late_visit, "Waiting")
    hospital.admit(late_visit)
    pipeline.connect.start()
    connectors.wait_running(pipeline.connect.url, "hospital-postgres", time.monotonic() + 120)
    since = time.monotonic()
    check("changes made while Kafka Connect was down", after="Connect ran again")

    pipeline.restart_exporter()
    since = time.monotonic()
    check("exporter restarted, state rebuilt from the topics", after="/ready")

    with capsys.disabled():
        print(
            f"\n  commit-to-/stats latency over {len(latencies)} changes: "
            f"median {statistics.median(latencies) * 1000:.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms"
        )
