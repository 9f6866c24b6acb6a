"""The state: latest status per visit, specialities, stale versions, pruning, midnight."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from exporter.config import load
from exporter.pipeline import Pipeline
from exporter.state import HospitalState
from exporter.stats import current_kpis, local_day, stats_document
from exporter.telemetry import Telemetry
from tests.support.debezium import Encoder
from tests.support.model import reference_rows

CAIRO = ZoneInfo("Africa/Cairo")
MORNING = datetime(2026, 12, 3, 9, 0)  # local wall-clock time in Cairo
TODAY = local_day(MORNING.replace(tzinfo=CAIRO), CAIRO)


class Harness:
    """Feeds events for the PostgreSQL connector's topics into a fresh exporter state."""

    def __init__(self, schemas: bool = True) -> None:
        self.config = load(
            None,
            {
                "topics.pattern": "{prefix}.{schema}.{table}",
                "topics.table-case": "lower",
                "timezone": "Africa/Cairo",
            },
            environ={},
        )
        self.state = HospitalState(self.config.reference)
        self.telemetry = Telemetry()
        self.pipeline = Pipeline(self.config, self.state, self.telemetry)
        self.encoder = Encoder(flavor="postgres", schemas=schemas)
        self.offset = 0
        for table, row in reference_rows():
            self.send(table, "r", after=row)

    def send(self, table, op, before=None, after=None, position=None, value=None):
        row = after or before
        if value is None:
            value = self.encoder.value(table, op, before, after, position=position)
        self.offset += 1
        self.pipeline.handle_batch(
            [(self.encoder.topic(table), 0, self.offset, self.encoder.key(table, row), value)]
        )

    def stats(self, local_now: datetime = MORNING.replace(hour=12)) -> dict:
        now = local_now.replace(tzinfo=CAIRO).astimezone(UTC)
        return stats_document(
            current_kpis(self.state, now, self.config["timezone"]), self.telemetry
        )

    def visit(self, visit_id, doctor=10, classification=2, when=MORNING):
        row = {
            "VisitID": visit_id,
            "PatientID": 1,
            "DoctorID": doctor,
            "ClassificationID": classification,
            "TypeID": 1,
            "VisitDate": when,
        }
        self.send("Visits", "c", after=row)
        return row

    def status(self, history_id, visit_id, status_id, when, op="c", position=None):
        row = {
            "HistoryID": history_id,
            "VisitID": visit_id,
            "StatusID": status_id,
            "StatusTime": when,
        }
        if op == "d":
            self.send("VisitStatusHistory", "d", before=row, position=position)
        else:
            self.send("VisitStatusHistory", op, after=row, position=position)
        return row


def test_latest_status_wins_whatever_the_arrival_order():
    h = Harness()
    h.visit(1)
    h.status(3, 1, 3, MORNING + timedelta(minutes=30))  # In Consultation arrives first
    h.status(2, 1, 2, MORNING + timedelta(minutes=10))  # then the earlier Waiting
    assert h.stats()["waiting_now_by_classification"]["Outpatient"] == 0


def test_equal_times_are_ordered_by_history_id():
    h = Harness()
    h.visit(1)
    h.status(8, 1, 2, MORNING)
    h.status(7, 1, 3, MORNING)
    assert h.stats()["waiting_now_by_classification"]["Outpatient"] == 1


def test_deleting_the_latest_status_brings_back_the_one_before():
    h = Harness()
    h.visit(1)
    h.status(1, 1, 2, MORNING)
    mistaken = h.status(2, 1, 4, MORNING + timedelta(minutes=5))
    assert h.stats()["waiting_now_by_classification"]["Outpatient"] == 0
    h.send("VisitStatusHistory", "d", before=mistaken)
    assert h.stats()["waiting_now_by_classification"]["Outpatient"] == 1


def test_waiting_visits_of_earlier_days_still_count():
    h = Harness()
    h.visit(1, when=MORNING - timedelta(days=3))
    h.status(1, 1, 2, MORNING - timedelta(days=3))
    stats = h.stats()
    assert stats["waiting_now_by_classification"]["Outpatient"] == 1
    assert stats["visits_today_total"] == 0


def test_status_for_an_unknown_visit_is_kept_but_not_counted_until_the_visit_arrives():
    h = Harness()
    h.status(1, 42, 2, MORNING)
    assert sum(h.stats()["waiting_now_by_classification"].values()) == 0
    h.visit(42, classification=3)
    assert h.stats()["waiting_now_by_classification"]["Emergency"] == 1


@pytest.mark.parametrize(
    ("links", "expected"),
    [
        ([(3, False), (2, True)], "Internal Medicine"),
        ([(3, False), (4, False)], "General Surgery"),
        ([], "Unassigned"),
    ],
)
def test_speciality_is_primary_else_lowest_else_unassigned(links, expected):
    h = Harness()
    for speciality, primary in links:
        h.send(
            "Doctor_Speciality",
            "r",
            after={"DoctorID": 10, "SpecialityID": speciality, "IsPrimary": primary},
        )
    h.visit(1, doctor=10)
    h.status(1, 1, 2, MORNING)
    assert h.stats()["waiting_now_by_speciality"][expected] == 1


def test_revenue_is_exact_and_follows_updates_and_cancellations():
    h = Harness()
    bill = {
        "BillID": 1,
        "VisitID": 1,
        "PayerTypeID": 1,
        "BillDate": MORNING,
        "TotalAmount": Decimal("0.10"),
        "PaymentStatus": "Paid",
        "PaymentDate": MORNING,
    }
    for bill_id in range(1, 4):
        h.send("Bills", "c", after={**bill, "BillID": bill_id})
    assert h.stats()["revenue_paid_today"] == pytest.approx(0.3)
    assert h.state.kpis(
        h.state._paid_by_day and next(iter(h.state._paid_by_day))
    ).revenue_paid_today == Decimal("0.30")
    h.send(
        "Bills",
        "u",
        before={**bill, "BillID": 2},
        after={**bill, "BillID": 2, "PaymentStatus": "Cancelled"},
    )
    assert h.stats()["revenue_paid_today"] == pytest.approx(0.2)


def test_a_redelivered_older_version_does_not_overwrite_a_newer_one():
    h = Harness()
    admission = {
        "AdmissionID": 1,
        "VisitID": 1,
        "BedID": 1,
        "AdmissionDate": MORNING,
        "DischargeDate": None,
    }
    discharged = {**admission, "DischargeDate": MORNING + timedelta(hours=2)}
    h.send("Admissions", "c", after=admission, position=100)
    h.send("Admissions", "u", before=admission, after=discharged, position=200)
    h.send("Admissions", "c", after=admission, position=100)  # re-delivered
    assert h.stats()["inpatients_now"] == 0
    assert h.telemetry.skipped[("Admissions", "stale_version")] == 1


def test_a_redelivered_create_does_not_resurrect_a_deleted_row():
    h = Harness()
    h.visit(1)
    row = h.status(1, 1, 2, MORNING, position=100)
    h.status(1, 1, 2, MORNING, op="d", position=150)
    h.send("VisitStatusHistory", "c", after=row, position=100)
    assert h.stats()["waiting_now_by_classification"]["Outpatient"] == 0


def test_today_rolls_over_at_local_midnight():
    h = Harness()
    late = datetime(2026, 12, 3, 23, 50)
    h.visit(1, when=late)
    h.send(
        "Admissions",
        "c",
        after={
            "AdmissionID": 1,
            "VisitID": 1,
            "BedID": 1,
            "AdmissionDate": late,
            "DischargeDate": None,
        },
    )
    before = h.stats(datetime(2026, 12, 3, 23, 59, 59))
    after = h.stats(datetime(2026, 12, 4, 0, 0, 1))
    assert (before["visits_today_total"], before["admissions_today"]) == (1, 1)
    assert (after["visits_today_total"], after["admissions_today"]) == (0, 0)
    assert after["inpatients_now"] == 1


def test_prune_forgets_only_what_can_no_longer_matter():
    h = Harness()
    old = MORNING - timedelta(days=5)
    h.visit(1, when=old)
    h.status(1, 1, 4, old)  # finished five days ago: may go
    h.visit(2, when=old)
    h.status(2, 2, 2, old)  # still waiting: stays
    h.visit(3)
    h.status(3, 3, 4, MORNING)  # finished today: stays
    h.send(
        "Admissions",
        "c",
        after={
            "AdmissionID": 1,
            "VisitID": 1,
            "BedID": 1,
            "AdmissionDate": old,
            "DischargeDate": None,
        },
    )
    h.send(
        "Admissions",
        "c",
        after={
            "AdmissionID": 2,
            "VisitID": 1,
            "BedID": 1,
            "AdmissionDate": old,
            "DischargeDate": old,
        },
    )
    before = h.stats()
    dropped = h.state.prune(TODAY, 2, {"Finished", "Discharged", "Cancelled", "No-Show"})
    assert dropped == {"Visits": 1, "VisitStatusHistory": 1, "Admissions": 1}
    assert h.stats() == before
    # A late status row of a forgotten visit is not kept either.
    h.status(9, 1, 4, old)
    assert 9 not in h.state.rows["VisitStatusHistory"]


def test_the_compiled_store_does_what_the_python_one_does():
    """The same calls, with stale, incomparable and deleted positions and forgotten visits,
    give the same answers, rows and indexes from either store."""
    from tests.unit.test_property import indexes

    calls = [
        ("Visits", 1, (1, 10, 2, 100), (5,)),
        ("Visits", 1, (1, 10, 3, 100), (4,)),  # older: refused
        ("Visits", 1, (1, 10, 3, 100), (b"x", b"", 1)),  # incomparable: taken
        ("Visits", 2, (2, 10, 2, 100), None),
        ("VisitStatusHistory", 7, (7, 1, 2, 100), (6,)),
        ("VisitStatusHistory", 8, (8, 1, 4, 200), (7,)),
        ("VisitStatusHistory", 8, None, (9,)),  # deleted: the earlier status is latest again
        ("VisitStatusHistory", 8, (8, 1, 4, 200), (8,)),  # older than the delete: refused
        ("VisitStatusHistory", 9, (9, 3, 2, 100), (10,)),  # a forgotten visit's row
        ("VisitStatusHistory", 7, None, None),
        ("Bills", 3, (3, Decimal("1.50"), "Paid", 100), (11,)),
        ("Doctor_Speciality", (10, 1), (10, 1, True), (12,)),
    ]
    answers, states = [], []
    for compiled in (True, False):
        state = HospitalState(compiled=compiled)
        state._pruned_visits.add(3)
        answers.append(
            [state.store(name, key, row, position) for name, key, row, position in calls]
        )
        states.append(state)
    assert answers[0] == answers[1]
    assert answers[0] == [True, False, True, True, True, True, True, False, True, True, True, True]
    assert states[0].rows == states[1].rows
    assert states[0]._deleted == states[1]._deleted
    assert indexes(states[0]) == indexes(states[1])
    assert type(states[0].store_of("Visits")).__name__ == "TableStore"


def test_an_error_in_an_index_goes_through_the_compiled_store():
    state = HospitalState()
    state.store("Visits", 1, (1, 10, 2, 100), None)
    with pytest.raises(TypeError):
        state.store("Visits", 1, (1, 10, 2, "not a time"), None)
