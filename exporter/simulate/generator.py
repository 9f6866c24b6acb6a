"""Deterministic hospital activity, as a stream of row operations.

    gen = Generator(seed=7, tz="Asia/Amman", visits_per_day=400)
    refs = gen.reference_rows()                # {"Doctors": [row, ...], ...}
    for kind, table, row in gen.week(end):     # or gen.days(start, n), gen.run(start, end)
        ...                                    # gen.clock is the time of this operation

Each operation is a 3-tuple ``(kind, table, row)``: `kind` is "insert", "update" or
"delete"; `table` a schema table name (``Visits``, ``VisitStatusHistory``...); `row` a
dict holding every column of the table under the schema's column names, with the row's
values after the change (for "delete": the row as it was). Values are int, str, bool,
None, Decimal (money), datetime (hospital local wall-clock time, whole seconds), date
and time. Operations come in time order, and a row is always inserted before another row
refers to it, so applying them in order satisfies every constraint of the schema.

What happens: walk-in Emergency and Ambulatory arrivals follow an hour-of-day curve;
Outpatient visits come from appointments booked the day before (some cancelled, some
no-shows); elective Inpatient visits arrive in the morning. Each visit goes Registered ->
Waiting -> In Consultation -> Finished or Admitted (-> In Ward -> Discharged), with waits
that depend on the triage level; some are Cancelled or leave unseen (No-Show). Admissions
take a bed while one is free, may have an operation, and are billed at discharge; visits
are billed when they finish. Bills are paid (cash at once, insurers days later) or now and
then cancelled. About one consultation in a hundred gets a status row entered by mistake
that is deleted a few minutes later.

The same seed and the same start state give the same stream. Only open things (visits in
progress, open admissions, unpaid bills, booked appointments) and one day of planned
arrivals are held in memory.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import logging
import math
import random
from collections.abc import Callable, Iterator
from decimal import Decimal
from zoneinfo import ZoneInfo

from exporter.simulate import refdata
from exporter.simulate.schema import TABLES

log = logging.getLogger(__name__)

Op = tuple[str, str, dict]

MIN = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)
BASE = dt.datetime(2000, 1, 1)
STATUS = {name: sid for sid, name in refdata.STATUSES}
PRICE = {sid: Decimal(price) for sid, _n, price, _d in refdata.SERVICES}
OPERATION_SERVICE = {oid: sid for oid, _n, sid in refdata.OPERATION_TYPES}
INPATIENT, OUTPATIENT, EMERGENCY, AMBULATORY = 1, 2, 3, 4

# Relative arrivals per hour of the day (0..23).
EMERGENCY_CURVE = (3, 2, 2, 1.5, 1.5, 1.5, 2, 3, 5, 6, 7, 7, 7, 6, 6, 6, 6, 7, 8, 8, 7, 6, 5, 4)
AMBULATORY_CURVE = (0,) * 7 + (2, 6, 8, 8, 7, 5, 6, 7, 6, 4, 2, 1) + (0,) * 5
ELECTIVE_CURVE = (0,) * 7 + (5, 6, 4, 2) + (0,) * 13
# Share of a day's visits per classification.
MIX = {OUTPATIENT: 0.52, EMERGENCY: 0.28, AMBULATORY: 0.16, INPATIENT: 0.04}
TRIAGE_WEIGHTS = (2, 10, 35, 35, 18)  # Level 1 .. Level 5, percent
WAIT_MEAN_MIN = {1: 0.5, 2: 8, 3: 35, 4: 70, 5: 100, OUTPATIENT: 25, AMBULATORY: 12, INPATIENT: 30}
ADMIT_P_TRIAGE = {1: 0.8, 2: 0.5, 3: 0.2, 4: 0.05, 5: 0.01}
LOS_MEDIAN_H = {1: 60, 2: 48, 3: 72, 4: 40, 5: 96}  # per ward
WARD_OF_SPECIALITY = {2: 1, 3: 2, 4: 3, 5: 4, 6: 1, 9: 5}
COMPLAINTS = ("Chest pain", "Abdominal pain", "Shortness of breath", "Fever", "Fall injury",
              "Road traffic accident", "Headache", "Laceration", "Back pain", "Vomiting",
              "Allergic reaction", "Fracture suspected")  # fmt: skip
FIRST_NAMES = ("Ahmad", "Fatima", "Mohammad", "Layla", "Ali", "Mariam", "Hasan", "Zainab",
               "Khalid", "Aisha", "Ibrahim", "Noor", "Samir", "Reem", "Walid", "Hiba")  # fmt: skip
LAST_NAMES = ("Abbas", "Barakat", "Darwish", "Ghanem", "Habib", "Kassem", "Mahmoud", "Najjar",
              "Qasim", "Sabbagh", "Shami", "Yassin", "Zein", "Awad")  # fmt: skip
NATIONALITIES = ("Jordanian",) * 6 + ("Syrian", "Egyptian", "Iraqi", "Palestinian", "Other")
INSURERS = ("National Health Fund", "Gulf Insurance", "MedNet", "Arab Assurance")


class Generator:
    """A discrete-event simulation of one hospital; see the module docstring."""

    def __init__(self, seed: int, tz: str = "UTC", visits_per_day: int = 400) -> None:
        self.rng = random.Random(seed)
        self.tz = ZoneInfo(tz)
        self.visits_per_day = visits_per_day
        self.clock: dt.datetime | None = None
        self._now = 0  # self.clock as whole seconds since BASE
        self.next_id = {name: 1 for name, t in TABLES.items() if t.identity}
        self.patients = 0  # patients 1..patients exist
        self._heap: list = []
        self._seq = itertools.count()
        self._planned: dt.date | None = None  # last day whose arrivals are scheduled
        self._adopted = False
        self._free_beds = _beds_by_ward()
        self._doctors = _doctors_by_speciality()

    # -- public interface ------------------------------------------------------------------

    def reference_rows(self) -> dict[str, list[dict]]:
        return refdata.reference_rows()

    def local(self, moment: dt.datetime) -> dt.datetime:
        """Hospital local wall-clock time, whole seconds, no zone."""
        if moment.tzinfo is not None:
            moment = moment.astimezone(self.tz).replace(tzinfo=None)
        return moment.replace(microsecond=0)

    def week(self, end: dt.datetime) -> Iterator[Op]:
        end = self.local(end)
        return self.run(end - 7 * DAY, end)

    def days(self, start: dt.datetime, n: int) -> Iterator[Op]:
        start = self.local(start)
        return self.run(start, start + n * DAY)

    def run(self, start: dt.datetime, end: dt.datetime) -> Iterator[Op]:
        """Operations with times in [start, end); call again with later windows to go on."""
        start, end = self.local(start), self.local(end)
        if self.clock is None:
            self._now, self.clock = _key(start), start
        if self._planned is None:
            self._plan_day(start.date(), not_before=start, book_today=not self._adopted)
        heap, pop, stop = self._heap, heapq.heappop, _key(end)
        while heap and heap[0][0] < stop:
            key, _seq, handler, args = pop(heap)
            if key != self._now:
                self._now = key
                self.clock = BASE + dt.timedelta(seconds=key)
            yield from handler(*args)
        if _key(end) > self._now:
            self._now, self.clock = _key(end), end

    def start_at(self, moment: dt.datetime) -> None:
        """Put the clock at `moment` before adopting open state from a database."""
        self.clock = self.local(moment)
        self._now = _key(self.clock)

    def set_start_ids(self, max_ids: dict[str, int], patients: int) -> None:
        """Continue after rows that already exist: ids above their maxima."""
        for table, top in max_ids.items():
            if table in self.next_id:
                self.next_id[table] = max(self.next_id[table], (top or 0) + 1)
        self.patients = max(self.patients, patients)

    # -- scheduling ------------------------------------------------------------------------

    def _at(self, when: dt.datetime, handler: Callable, *args) -> None:
        heapq.heappush(self._heap, (_key(when), next(self._seq), handler, args))

    def _after(self, minutes: float, handler: Callable, *args) -> None:
        # Whole seconds since BASE: integer keys keep the heap fast and times exact.
        heapq.heappush(self._heap, (self._now + int(minutes * 60), next(self._seq), handler, args))

    def _id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def _count(self, mean: float) -> int:
        return max(0, round(self.rng.gauss(mean, math.sqrt(mean) if mean > 0 else 0)))

    def _plan_day(self, day: dt.date, not_before: dt.datetime, book_today: bool = False):
        """Schedule one day's walk-ins and tomorrow's appointment bookings."""
        rng, vpd = self.rng, self.visits_per_day
        midnight = dt.datetime.combine(day, dt.time())
        weekend = day.weekday() >= 5
        plan = (
            (EMERGENCY, EMERGENCY_CURVE, vpd * MIX[EMERGENCY]),
            (AMBULATORY, AMBULATORY_CURVE, vpd * MIX[AMBULATORY] * (0.4 if weekend else 1)),
            (INPATIENT, ELECTIVE_CURVE, 0 if weekend else vpd * MIX[INPATIENT] * 7 / 5),
        )
        for cls, curve, mean in plan:
            for hour in rng.choices(range(24), weights=curve, k=self._count(mean)):
                when = midnight + dt.timedelta(hours=hour, seconds=rng.randrange(3600))
                if when >= not_before:
                    self._at(when, self._arrive, cls, None)
        if book_today:
            self._book_day(day, not_before, not_before)
        booking_start = max(midnight + dt.timedelta(hours=8), not_before)
        self._book_day(day + DAY, booking_start, not_before)
        self._planned = day
        self._at(midnight + DAY, self._next_day, day + DAY)

    def _next_day(self, day: dt.date) -> Iterator[Op]:
        self._plan_day(day, not_before=dt.datetime.combine(day, dt.time()))
        return iter(())

    def _book_day(self, day: dt.date, booking_from: dt.datetime, not_before: dt.datetime):
        """Appointments for `day`, booked at random times from `booking_from` on."""
        rng = self.rng
        mean = self.visits_per_day * MIX[OUTPATIENT] * (0.3 if day.weekday() >= 5 else 1.15)
        start = dt.datetime.combine(day, dt.time(8))
        for _ in range(self._count(mean)):
            slot = start + dt.timedelta(minutes=20 * rng.randrange(26))
            if slot < not_before:
                continue
            # Booked during the nine hours after `booking_from`, and never after the slot.
            booked = min(booking_from + dt.timedelta(seconds=rng.randrange(9 * 3600)), slot)
            self._at(booked, self._book, slot)

    # -- people ----------------------------------------------------------------------------

    def _patient(self) -> tuple[int, list[Op]]:
        """A returning patient, or a new one with its insert operation."""
        rng = self.rng
        if self.patients and rng.random() < 0.6:
            return rng.randint(1, self.patients), []
        pid = self._id("Patients")
        self.patients = max(self.patients, pid)
        age = rng.randrange(1, 14) if rng.random() < 0.15 else int(rng.triangular(14, 95, 40))
        row = {
            "PatientID": pid,
            "FirstName": rng.choice(FIRST_NAMES),
            "LastName": rng.choice(LAST_NAMES),
            "Phone": f"555-01{rng.randrange(100):02d}-{rng.randrange(10000):04d}",
            "Age": age,
            "Gender": rng.choice("MF"),
            "Nationality": rng.choice(NATIONALITIES),
            "InsuranceProvider": rng.choice(INSURERS) if rng.random() < 0.55 else None,
        }
        return pid, [("insert", "Patients", row)]

    def _doctor(self, cls: int, type_id: int) -> int | None:
        rng, docs = self.rng, self._doctors
        if cls == EMERGENCY:
            return rng.choice(docs[1])
        if cls == AMBULATORY:
            if type_id == 9:
                return rng.choice(docs[4])
            # Nurse-led procedures have no doctor; they count as "Unassigned".
            return None if rng.random() < 0.5 else rng.choice(docs[2])
        if cls == INPATIENT:
            return rng.choice(docs[rng.choice((3, 3, 4, 6))])
        if rng.random() < 0.04:
            return refdata.RESIDENT_ID
        return rng.choice(docs[rng.choices((2, 3, 4, 5, 6), weights=(5, 2, 2, 2, 2))[0]])

    # -- visit flow ------------------------------------------------------------------------

    def _book(self, slot: dt.datetime) -> Iterator[Op]:
        rng = self.rng
        pid, ops = self._patient()
        yield from ops
        row = {
            "AppointmentID": self._id("Appointments"),
            "PatientID": pid,
            "DoctorID": self._doctor(OUTPATIENT, 3),
            "AppointmentDate": slot.date(),
            "AppointmentTime": slot.time(),
            "Purpose": rng.choice(("Initial examination", "Follow-up", "Results review")),
            "Status": "Scheduled",
            "VisitID": None,
        }
        yield ("insert", "Appointments", row)
        self._schedule_appointment(row, slot)

    def _schedule_appointment(self, row: dict, slot: dt.datetime) -> None:
        rng, r = self.rng, self.rng.random()
        if r < 0.05:
            lead = max(60, int((slot - self.clock).total_seconds()))
            self._at(self.clock + dt.timedelta(seconds=rng.randrange(lead)), self._appt_end,
                     row, "Cancelled")  # fmt: skip
        elif r < 0.14:
            self._at(slot + 30 * MIN, self._appt_end, row, "No-Show")
        else:
            arrival = slot + dt.timedelta(seconds=int(rng.gauss(-600, 600)))
            self._at(max(arrival, self.clock), self._arrive, OUTPATIENT, row)

    def _appt_end(self, row: dict, status: str) -> Iterator[Op]:
        yield ("update", "Appointments", {**row, "Status": status})

    def _arrive(self, cls: int, appointment: dict | None) -> Iterator[Op]:
        rng, now = self.rng, self.clock
        if appointment is None:
            pid, ops = self._patient()
            yield from ops
        else:
            pid = appointment["PatientID"]
        type_id = _visit_type(rng, cls, appointment)
        doctor = appointment["DoctorID"] if appointment else self._doctor(cls, type_id)
        visit = {
            "VisitID": self._id("Visits"),
            "PatientID": pid,
            "DoctorID": doctor,
            "ClassificationID": cls,
            "TypeID": type_id,
            "VisitDate": now,
        }
        yield ("insert", "Visits", visit)
        yield self._status(visit, "Registered", now)
        triage = None
        if cls == EMERGENCY:
            triage = rng.choices((1, 2, 3, 4, 5), weights=TRIAGE_WEIGHTS)[0]
            yield ("insert", "EmergencyDetails", {
                "EmergencyDetailID": self._id("EmergencyDetails"),
                "VisitID": visit["VisitID"],
                "TriageLevelID": triage,
                "ChiefComplaint": rng.choice(COMPLAINTS),
            })  # fmt: skip
        if appointment is not None:
            yield ("update", "Appointments",
                   {**appointment, "Status": "Completed", "VisitID": visit["VisitID"]})  # fmt: skip
        if rng.random() < 0.015:  # registered twice or in error
            self._after(rng.uniform(2, 20), self._close, visit,
                     "Cancelled")  # fmt: skip
            return
        delay = 0.2 if triage == 1 else rng.uniform(1, 5)
        self._after(delay, self._wait, visit, triage)

    def _status(self, visit: dict, name: str, when: dt.datetime) -> Op:
        return ("insert", "VisitStatusHistory", {
            "HistoryID": self._id("VisitStatusHistory"),
            "VisitID": visit["VisitID"],
            "StatusID": STATUS[name],
            "StatusTime": when,
        })  # fmt: skip

    def _wait(self, visit: dict, triage: int | None) -> Iterator[Op]:
        rng, now = self.rng, self.clock
        yield self._status(visit, "Waiting", now)
        key = triage or visit["ClassificationID"]
        wait = min(rng.expovariate(1 / WAIT_MEAN_MIN[key]), 360)
        leaves = (triage or 3) >= 4 or visit["ClassificationID"] == OUTPATIENT
        if leaves and rng.random() < 0.03:  # left without being seen
            self._after(wait * 1.5 + 5, self._close, visit, "No-Show")
        elif rng.random() < 0.01:
            self._after(wait / 2 + 1, self._close, visit, "Cancelled")
        else:
            self._after(wait + 0.5, self._consult, visit, triage)

    def _close(self, visit: dict, status: str) -> Iterator[Op]:
        yield self._status(visit, status, self.clock)

    def _consult(self, visit: dict, triage: int | None) -> Iterator[Op]:
        rng = self.rng
        yield self._status(visit, "In Consultation", self.clock)
        cls = visit["ClassificationID"]
        minutes = rng.uniform(5, 15) if cls == AMBULATORY else rng.uniform(10, 40)
        if rng.random() < 0.01:  # a status clicked too early, removed again by the clerk
            self._after(1, self._mistake, visit)
            minutes = max(minutes, 5)
        admit_p = {INPATIENT: 1.0, OUTPATIENT: 0.02, AMBULATORY: 0.0}.get(cls)
        if admit_p is None:
            admit_p = ADMIT_P_TRIAGE[triage]
        if rng.random() < admit_p:
            self._after(minutes, self._admit, visit, triage)
        else:
            self._after(minutes, self._finish, visit, triage)

    def _mistake(self, visit: dict) -> Iterator[Op]:
        wrong = self._status(visit, "Finished", self.clock)
        yield wrong
        self._after(self.rng.uniform(1, 3), _emit,
                 ("delete", "VisitStatusHistory", wrong[2]))  # fmt: skip

    def _finish(self, visit: dict, triage: int | None) -> Iterator[Op]:
        yield self._status(visit, "Finished", self.clock)
        yield from self._bill({"VisitID": visit["VisitID"], "AdmissionID": None},
                              _visit_items(self.rng, visit))  # fmt: skip

    # -- admissions ------------------------------------------------------------------------

    def _admit(self, visit: dict, triage: int | None) -> Iterator[Op]:
        now = self.clock
        ward = self._ward_for(visit, triage)
        admission = {
            "AdmissionID": self._id("Admissions"),
            "VisitID": visit["VisitID"],
            "BedID": self._take_bed(ward),
            "AdmissionDate": now,
            "DischargeDate": None,
        }
        yield self._status(visit, "Admitted", now)
        yield ("insert", "Admissions", admission)
        self._schedule_stay(admission, visit, ward, now)

    def _schedule_stay(self, admission, visit, ward, admitted_at, in_ward=True) -> None:
        rng, now = self.rng, self.clock
        hours = max(8.0, rng.lognormvariate(math.log(LOS_MEDIAN_H[ward]), 0.6))
        discharge = max(admitted_at + dt.timedelta(hours=hours), now + 30 * MIN)
        if in_ward:
            self._after(rng.uniform(30, 240), self._to_ward, admission,
                     visit, ward)  # fmt: skip
        surgical = ward in (2, 3) or visit["ClassificationID"] == INPATIENT
        op = None
        remaining_h = (discharge - now).total_seconds() / 3600
        if surgical and rng.random() < 0.7 and remaining_h > 12:
            # At most half-way through the stay, so the operation ends before discharge.
            op = _operation_type(rng, ward)
            self._after(60 * rng.uniform(2, min(30, remaining_h / 2)), self._operate, admission, op)
        self._at(discharge, self._discharge, admission, visit, ward, op)

    def _ward_for(self, visit: dict, triage: int | None) -> int:
        if triage == 1 and self.rng.random() < 0.6:
            return 5
        docs = self._doctors
        for speciality, ward in WARD_OF_SPECIALITY.items():
            if visit["DoctorID"] in docs.get(speciality, ()):
                return ward
        return self.rng.choices((1, 2, 3), weights=(5, 3, 2))[0]

    def _take_bed(self, ward: int) -> int | None:
        free = self._free_beds[ward]
        if not free:  # overflow into any ward with room, else board in the ED
            free = next((beds for beds in self._free_beds.values() if beds), None)
        return free.pop() if free else None

    def _free_bed(self, bed: int | None) -> None:
        if bed is not None:
            self._free_beds[_WARD_OF_BED[bed]].append(bed)

    def _to_ward(self, admission: dict, visit: dict, ward: int) -> Iterator[Op]:
        yield self._status(visit, "In Ward", self.clock)
        if admission["BedID"] is None:
            bed = self._take_bed(ward)
            if bed is not None:
                admission["BedID"] = bed
                yield ("update", "Admissions", dict(admission))

    def _operate(self, admission: dict, op_type: int) -> Iterator[Op]:
        rng, now = self.rng, self.clock
        session = {
            "OperationSessionID": self._id("OperationSessions"),
            "AdmissionID": admission["AdmissionID"],
            "OperationTypeID": op_type,
            "SurgeonID": rng.choice(
                self._doctors[6 if op_type == 5 else 4 if op_type in (4, 7) else 3]
            ),  # fmt: skip
            "StartTime": now,
            "EndTime": None,
        }
        yield ("insert", "OperationSessions", session)
        self._after(rng.uniform(30, 240), self._operated, session)

    def _operated(self, session: dict) -> Iterator[Op]:
        yield ("update", "OperationSessions", {**session, "EndTime": self.clock})

    def _discharge(self, admission, visit, ward, op_type) -> Iterator[Op]:
        now = self.clock
        admission["DischargeDate"] = now
        yield ("update", "Admissions", dict(admission))
        yield self._status(visit, "Discharged", now)
        self._free_bed(admission["BedID"])
        days = max(1, math.ceil((now - admission["AdmissionDate"]).total_seconds() / 86400))
        items = _stay_items(self.rng, ward, days, op_type)
        yield from self._bill({"VisitID": None, "AdmissionID": admission["AdmissionID"]}, items)

    # -- billing ---------------------------------------------------------------------------

    def _bill(self, owner: dict, items: list[tuple[int, int]]) -> Iterator[Op]:
        rng, now = self.rng, self.clock
        payer = rng.choices((1, 2, 3), weights=(50, 38, 12))[0]
        bill_id = self._id("Bills")
        total = sum((PRICE[s] * q for s, q in items), Decimal("0.00"))
        bill = {"BillID": bill_id, **owner, "PayerTypeID": payer, "BillDate": now,
                "TotalAmount": total, "PaymentStatus": "Pending", "PaymentDate": None}  # fmt: skip
        yield ("insert", "Bills", bill)
        for service, qty in items:
            yield ("insert", "BillItems", {
                "BillItemID": self._id("BillItems"), "BillID": bill_id, "ServiceID": service,
                "Quantity": qty, "Price": PRICE[service],
            })  # fmt: skip
        self._schedule_payment(bill)

    def _schedule_payment(self, bill: dict) -> None:
        rng = self.rng
        if rng.random() < 0.03:
            self._after(rng.uniform(10, 2880), self._settle, bill,
                     "Cancelled")  # fmt: skip
            return
        delay = rng.uniform(2, 25) if bill["PayerTypeID"] == 1 else rng.uniform(1440, 14400)
        self._after(delay, self._settle, bill, "Paid")

    def _settle(self, bill: dict, status: str) -> Iterator[Op]:
        paid = self.clock if status == "Paid" else None
        yield ("update", "Bills", {**bill, "PaymentStatus": status, "PaymentDate": paid})

    # -- resuming from a database ----------------------------------------------------------

    def adopt(self, state) -> None:
        """Take over open visits, admissions, bills and appointments read from a database
        (see exporter.simulate.live.read_open_state) so their stories go on."""
        now, rng = self.clock, self.rng
        self._adopted = True
        for admission, visit, status in state.admissions:
            if admission["BedID"] is not None:
                for beds in self._free_beds.values():
                    if admission["BedID"] in beds:
                        beds.remove(admission["BedID"])
            ward = _WARD_OF_BED.get(admission["BedID"], 1)
            self._schedule_stay(admission, visit, ward, admission["AdmissionDate"],
                                in_ward=status == "Admitted")  # fmt: skip
        for visit, status, triage in state.visits:
            soon = now + dt.timedelta(minutes=rng.uniform(0.5, 10))
            if status == "Registered":
                self._at(soon, self._wait, visit, triage)
            elif status == "Waiting":
                self._at(soon + dt.timedelta(minutes=rng.uniform(0, 20)), self._consult, visit,
                         triage)  # fmt: skip
            elif status == "In Consultation":
                self._at(soon, self._finish, visit, triage)
        for bill in state.bills:
            self._schedule_payment(bill)
        for row in state.appointments:
            slot = dt.datetime.combine(row["AppointmentDate"], row["AppointmentTime"])
            self._schedule_appointment(row, max(slot, now))


def _key(when: dt.datetime) -> int:
    return (when - BASE) // dt.timedelta(seconds=1)


def _emit(op: Op) -> Iterator[Op]:
    yield op


def _visit_type(rng: random.Random, cls: int, appointment: dict | None) -> int:
    if cls == OUTPATIENT:
        return 3 if appointment and appointment["Purpose"] == "Initial examination" else 4
    if cls == EMERGENCY:
        return 6 if rng.random() < 0.2 else 5
    if cls == AMBULATORY:
        return rng.choices((7, 8, 9, 10), weights=(4, 3, 1, 2))[0]
    return rng.choice((1, 2))


def _operation_type(rng: random.Random, ward: int) -> int:
    if ward == 3:
        return rng.choice((4, 7))
    if ward in (1, 5):
        return 5
    return rng.choice((1, 2, 3, 6))


def _visit_items(rng: random.Random, visit: dict) -> list[tuple[int, int]]:
    cls, type_id = visit["ClassificationID"], visit["TypeID"]
    if cls == AMBULATORY:
        return [({7: 12, 8: 13, 9: 14, 10: 15}[type_id], 1)]
    items = [(3, 1)] if cls == EMERGENCY else [(1 if visit["DoctorID"] in _GENERALISTS else 2, 1)]
    if rng.random() < (0.6 if cls == EMERGENCY else 0.4):
        items.append((rng.choice((6, 7)), 1))
    if rng.random() < (0.35 if cls == EMERGENCY else 0.2):
        items.append((rng.choices((8, 10, 9, 19), weights=(6, 3, 2, 1))[0], 1))
    return items


def _stay_items(rng, ward: int, days: int, op_type: int | None) -> list[tuple[int, int]]:
    items = [(5 if ward == 5 else 4, days), (6, rng.randint(1, 3)), (7, rng.randint(1, 2))]
    if op_type is not None:
        items.append((OPERATION_SERVICE[op_type], 1))
    if rng.random() < 0.5:
        items.append((rng.choice((8, 9, 10)), 1))
    return items


def _beds_by_ward() -> dict[int, list[int]]:
    beds: dict[int, list[int]] = {}
    for row in refdata.beds():
        beds.setdefault(row["WardID"], []).append(row["BedID"])
    for free in beds.values():
        free.reverse()  # pop() hands out the lowest bed number first
    return beds


def _doctors_by_speciality() -> dict[int, list[int]]:
    _rows, links = refdata.doctors()
    docs: dict[int, list[int]] = {}
    for link in links:
        docs.setdefault(link["SpecialityID"], []).append(link["DoctorID"])
    return docs


_WARD_OF_BED = {row["BedID"]: row["WardID"] for row in refdata.beds()}
_GENERALISTS = frozenset(_doctors_by_speciality()[2]) | {refdata.RESIDENT_ID}
