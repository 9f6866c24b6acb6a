"""Against a real PostgreSQL: schema, a generated week, live mode, snapshots, CSV, KPIs."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
from decimal import Decimal

import pyodbc
import pytest

from exporter.simulate import cli, dialect, groundtruth, live, snapshot
from exporter.simulate.generator import Generator
from exporter.simulate.schema import WEEKLY
from exporter.simulate.writer import Writer

pytestmark = pytest.mark.integration
PG = dialect.get("postgres")
END = dt.datetime(2024, 3, 13, 12, 0)  # a Wednesday; last full week starts 2024-03-04


def _run_cli(*argv) -> int:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.func(args)


def _count(conn, sql, *params):
    return conn.cursor().execute(sql, *params).fetchone()[0]


def _load_week(conn, seed=4, vpd=400):
    gen = Generator(seed, visits_per_day=vpd)
    writer = Writer(conn, PG)
    writer.apply(gen.week(END))
    writer.sync_identities()
    return gen


def test_load_schema_command_on_an_empty_database(pg_server):
    pg_server.create_database("hospital_cli")
    try:
        assert (
            _run_cli("simulate", "load-schema", "--db.dsn", pg_server.odbc_dsn("hospital_cli")) == 0
        )
        conn = pyodbc.connect(pg_server.odbc_dsn("hospital_cli"))
        assert _count(conn, "SELECT COUNT(*) FROM VisitStatus") == 9
        assert _count(conn, "SELECT COUNT(*) FROM Beds") > 100
        pub = "SELECT COUNT(*) FROM pg_publication_tables WHERE pubname = 'hospital_cdc'"
        assert _count(conn, pub) == 8
        conn.close()
    finally:
        pg_server.drop_database("hospital_cli")


def test_week_loads_fast_and_satisfies_constraints(pg_server, hospital_db, conn):
    assert _run_cli(
        "simulate", "week", "--db.dsn", pg_server.odbc_dsn(hospital_db), "--seed", "4",
        "--end", END.isoformat(),
    ) == 0  # fmt: skip
    visits = _count(conn, "SELECT COUNT(*) FROM Visits")
    assert 1800 < visits < 3200
    # Foreign keys and checks held at insert time; these are the invariants they cannot say.
    assert (
        _count(
            conn,
            """SELECT COUNT(*) FROM Bills b WHERE TotalAmount <>
        (SELECT SUM(Quantity * Price) FROM BillItems i WHERE i.BillID = b.BillID)""",
        )
        == 0
    )
    assert (
        _count(
            conn,
            """SELECT COUNT(*) FROM Admissions a JOIN Admissions o
        ON a.BedID = o.BedID AND a.AdmissionID < o.AdmissionID
        AND o.AdmissionDate < COALESCE(a.DischargeDate, 'infinity')
        AND a.AdmissionDate < COALESCE(o.DischargeDate, 'infinity')""",
        )
        == 0
    )
    assert _count(conn, "SELECT COUNT(*) FROM Visits WHERE VisitDate >= ?", END) == 0
    # Database-assigned ids continue above the generated ones.
    conn.cursor().execute("INSERT INTO Patients (FirstName, LastName, Age, Gender) "
                          "VALUES ('Test', 'Row', 30, 'F')")  # fmt: skip
    conn.rollback()


def test_same_seed_writes_the_same_rows(pg_server, conn):
    _load_week(conn, seed=9, vpd=100)
    first = conn.cursor().execute("SELECT * FROM VisitStatusHistory ORDER BY HistoryID").fetchall()
    pg_server.create_database("hospital_again", template="hospital_template")
    try:
        other = pyodbc.connect(pg_server.odbc_dsn("hospital_again"))
        _load_week(other, seed=9, vpd=100)
        again = other.cursor().execute("SELECT * FROM VisitStatusHistory ORDER BY HistoryID")
        assert [tuple(r) for r in again.fetchall()] == [tuple(r) for r in first]
        other.close()
    finally:
        pg_server.drop_database("hospital_again")


def test_live_run_moves_the_kpis(conn):
    _load_week(conn, vpd=300)
    before = groundtruth.kpis(conn, "postgres", END)
    gen = Generator(8, visits_per_day=300)
    written = live.run_live(conn, PG, gen, speed=1200, duration=3, tick=0.5, start=END)
    after = groundtruth.kpis(conn, "postgres", gen.clock)
    assert gen.clock >= END + dt.timedelta(minutes=30)
    assert written > 20
    assert after["visits_today_total"] > before["visits_today_total"]
    assert after["revenue_paid_today"] >= before["revenue_paid_today"]
    assert abs(after["inpatients_now"] - before["inpatients_now"]) < 20


def _week_rows(conn, table, week_start):
    rows = conn.cursor().execute(
        f"SELECT * FROM Weekly_{table} WHERE WeekStart = ? ORDER BY 2", week_start
    )
    return [tuple(r) for r in rows.fetchall()]


def test_snapshot_copies_exactly_last_week_and_is_idempotent(conn):
    _load_week(conn, vpd=200)
    week = dt.date(2024, 3, 4)
    snapshot.run_snapshot(conn, PG, week)
    first = {t: _week_rows(conn, t, week) for t in WEEKLY}
    for table, column in WEEKLY.items():
        if column is None:
            continue
        expected = _count(
            conn, f"SELECT COUNT(*) FROM {table} WHERE {column} >= ? AND {column} < ?",
            dt.datetime(2024, 3, 4), dt.datetime(2024, 3, 11),
        )  # fmt: skip
        assert len(first[table]) == expected > 0, table
    snapshot.run_snapshot(conn, PG, week)
    assert {t: _week_rows(conn, t, week) for t in WEEKLY} == first
    with pytest.raises(pyodbc.Error):
        snapshot.run_snapshot(conn, PG, dt.date(2024, 3, 5))  # not a Monday
    conn.rollback()


def test_snapshot_without_a_date_takes_the_week_before_this_one(conn):
    snapshot.run_snapshot(conn, PG, None)
    today = dt.date.today()  # the test server runs in UTC, like date.today() on CI
    monday = today - dt.timedelta(days=today.weekday() + 7)
    assert _count(conn, "SELECT WeekStart FROM Weekly_SnapshotRuns") == monday


def test_csv_export_round_trips(conn, tmp_path):
    _load_week(conn, vpd=200)
    week = dt.date(2024, 3, 4)
    snapshot.run_snapshot(conn, PG, week)
    files = snapshot.export_week(conn, week, tmp_path)
    assert len(files) == len(WEEKLY)
    with open(files["Weekly_Bills"], encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[:3] == ["WeekStart", "BillID", "VisitID"]
    assert dt.datetime.fromisoformat(rows[0]["BillDate"])
    total = sum(Decimal(r["TotalAmount"]) for r in rows)
    assert total == _count(
        conn, "SELECT SUM(TotalAmount) FROM Weekly_Bills WHERE WeekStart = ?", week
    )
    for table in WEEKLY:
        with open(files[f"Weekly_{table}"], encoding="utf-8") as fh:
            lines = sum(1 for _ in fh) - 1
        assert lines == len(_week_rows(conn, table, week)), table


def _insert(conn, table, **row):
    cols = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    conn.cursor().execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", *row.values())


def test_kpi_queries_on_a_hand_made_data_set(conn):
    t = dt.datetime(2024, 3, 13, 9, 0)
    yesterday = t - dt.timedelta(days=1)
    _insert(conn, "Patients", PatientID=1, FirstName="A", LastName="B", Age=40, Gender="M")
    # Visit 1: emergency today, waiting (Emergency doctor 1: primary Emergency).
    # Visit 2: outpatient yesterday, still waiting; doctor 12 has no primary -> lowest id
    #          (Internal Medicine). Visit 3: ambulatory today, no doctor, was waiting, the
    #          In Consultation row has the same time but a higher HistoryID -> not waiting.
    # Visit 4: ambulatory today, no doctor, waiting -> Unassigned.
    for vid, cls, typ, doctor, when in ((1, 3, 5, 1, t), (2, 2, 4, 12, yesterday),
                                        (3, 4, 7, None, t), (4, 4, 7, None, t)):  # fmt: skip
        _insert(conn, "Visits", VisitID=vid, PatientID=1, DoctorID=doctor,
                ClassificationID=cls, TypeID=typ, VisitDate=when)  # fmt: skip
    history = ((1, 1, 1, t), (2, 1, 2, t), (3, 2, 2, yesterday), (4, 3, 2, t), (5, 3, 3, t),
               (6, 4, 2, t))  # fmt: skip
    for hid, vid, status, when in history:
        _insert(conn, "VisitStatusHistory", HistoryID=hid, VisitID=vid, StatusID=status,
                StatusTime=when)  # fmt: skip
    _insert(conn, "Admissions", AdmissionID=1, VisitID=2, BedID=1, AdmissionDate=t)
    _insert(conn, "Admissions", AdmissionID=2, VisitID=3, BedID=2, AdmissionDate=yesterday,
            DischargeDate=t)  # fmt: skip
    bills = ((1, "100.50", "Paid", t), (2, "20.25", "Paid", t), (3, "999.00", "Paid", yesterday),
             (4, "5.00", "Pending", None), (5, "7.00", "Cancelled", None))  # fmt: skip
    for bid, amount, status, paid in bills:
        _insert(conn, "Bills", BillID=bid, VisitID=1, PayerTypeID=1, BillDate=yesterday,
                TotalAmount=Decimal(amount), PaymentStatus=status, PaymentDate=paid)  # fmt: skip
    conn.commit()

    got = groundtruth.kpis(conn, "postgres", t.replace(hour=18))
    assert got["visits_today_total"] == 3
    assert got["visits_today_by_classification"] == {
        "Inpatient": 0, "Outpatient": 0, "Emergency": 1, "Ambulatory": 2}  # fmt: skip
    assert got["admissions_today"] == 1
    assert got["inpatients_now"] == 1
    assert got["waiting_now_by_classification"] == {
        "Inpatient": 0, "Outpatient": 1, "Emergency": 1, "Ambulatory": 1}  # fmt: skip
    spec = got["waiting_now_by_speciality"]
    assert spec["Emergency"] == 1 and spec["Internal Medicine"] == 1 and spec["Unassigned"] == 1
    assert sum(spec.values()) == 3 and spec["Cardiology"] == 0
    assert got["revenue_paid_today"] == Decimal("120.75")
    # Waiting takes every status row, whatever "now" is; Unassigned appears only when > 0.
    conn.cursor().execute("DELETE FROM VisitStatusHistory WHERE HistoryID = 6")
    conn.commit()
    later = groundtruth.kpis(conn, "postgres", t + dt.timedelta(days=3))
    assert "Unassigned" not in later["waiting_now_by_speciality"]
    assert later["waiting_now_by_classification"]["Outpatient"] == 1
