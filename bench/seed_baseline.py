"""The service as first designed, for comparison: every message parsed whole with json.loads
(schema included), and KPI counters bumped up and down by each event.

Written from the design's "Handlers logic": a visits-today set and per-classification counter,
admissions today, an active-admissions set, the latest status per visit with waiting counters
moved on each status change, and paid-today revenue moved by the after-minus-before delta.
Only the per-event work matters here; its day boundary is fixed.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from datetime import datetime, timedelta

_EPOCH = datetime(1970, 1, 1)


class SeedService:
    def __init__(self, today: datetime, tables: dict[str, str], lower_case: bool) -> None:
        self.today = today.date()
        # PostgreSQL's connector writes lower-case column names, SQL Server's the declared ones.
        names = (
            "VisitID DoctorID ClassificationID VisitDate StatusID AdmissionID AdmissionDate "
            "DischargeDate PaymentStatus PaymentDate TotalAmount"
        ).split()
        self.c = {name: name.lower() if lower_case else name for name in names}
        self.topic_table = tables  # topic -> table name
        self.visits_today_ids: set[int] = set()
        self.visits_today_by_classification: dict[int, int] = defaultdict(int)
        self.admissions_today = 0
        self.active_admissions: set[int] = set()
        self.visit_info_by_id: dict[int, tuple] = {}
        self.current_status_by_visit: dict[int, int] = {}
        self.waiting_by_classification: dict[int, int] = defaultdict(int)
        self.waiting_by_doctor: dict[int, int] = defaultdict(int)
        self.revenue_paid_today = 0.0
        self.handlers = {
            "Visits": self._visit,
            "VisitStatusHistory": self._status,
            "Admissions": self._admission,
            "Bills": self._bill,
        }

    def handle(self, topic: str, value: bytes | None) -> None:
        if value is None:
            return
        event = json.loads(value)
        payload = event.get("payload", event)
        handler = self.handlers.get(self.topic_table.get(topic))
        if handler is not None and payload is not None:
            handler(payload)

    def _day(self, micros) -> object:
        return None if micros is None else (_EPOCH + timedelta(microseconds=micros)).date()

    def _visit(self, payload: dict) -> None:
        c = self.c
        row = payload.get("after")
        if row is None:
            return
        visit_id = row[c["VisitID"]]
        self.visit_info_by_id[visit_id] = (row[c["DoctorID"]], row[c["ClassificationID"]])
        if self._day(row[c["VisitDate"]]) == self.today and visit_id not in self.visits_today_ids:
            self.visits_today_ids.add(visit_id)
            self.visits_today_by_classification[row[c["ClassificationID"]]] += 1

    def _status(self, payload: dict) -> None:
        c = self.c
        row = payload.get("after")
        if row is None:
            return
        visit_id, new = row[c["VisitID"]], row[c["StatusID"]]
        old = self.current_status_by_visit.get(visit_id)
        self.current_status_by_visit[visit_id] = new
        doctor, classification = self.visit_info_by_id.get(visit_id, (None, None))
        if old == 2:  # Waiting
            self.waiting_by_classification[classification] -= 1
            self.waiting_by_doctor[doctor] -= 1
        if new == 2:
            self.waiting_by_classification[classification] += 1
            self.waiting_by_doctor[doctor] += 1

    def _admission(self, payload: dict) -> None:
        c = self.c
        row = payload.get("after")
        if row is None:
            return
        admission_id = row[c["AdmissionID"]]
        if payload.get("op") in ("c", "r"):
            if self._day(row[c["AdmissionDate"]]) == self.today:
                self.admissions_today += 1
            self.active_admissions.add(admission_id)
        if row[c["DischargeDate"]] is not None:
            self.active_admissions.discard(admission_id)

    def _paid_today(self, row: dict | None) -> float:
        c = self.c
        if row is None or row.get(c["PaymentStatus"]) != "Paid":
            return 0.0
        if self._day(row.get(c["PaymentDate"])) != self.today:
            return 0.0
        raw = base64.b64decode(row[c["TotalAmount"]])
        return int.from_bytes(raw, "big", signed=True) / 100

    def _bill(self, payload: dict) -> None:
        delta = self._paid_today(payload.get("after")) - self._paid_today(payload.get("before"))
        if delta:
            self.revenue_paid_today = max(0.0, self.revenue_paid_today + delta)
