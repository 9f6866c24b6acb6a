"""A plain model of the source tables and a direct computation of the KPIs over them.

Written independently of exporter.state, so the property tests compare two implementations of
the KPI definitions: the exporter's (fed with change events) and this one (over final rows).
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

CLASSIFICATIONS = {1: "Inpatient", 2: "Outpatient", 3: "Emergency", 4: "Ambulatory"}
STATUSES = {
    1: "Registered",
    2: "Waiting",
    3: "In Consultation",
    4: "Finished",
    5: "Admitted",
    6: "In Ward",
    7: "Discharged",
    8: "Cancelled",
    9: "No-Show",
}
SPECIALITIES = {1: "Emergency", 2: "Internal Medicine", 3: "General Surgery", 4: "Cardiology"}


def reference_rows() -> list[tuple[str, dict]]:
    rows = [
        ("VisitClassification", {"ClassificationID": k, "ClassificationName": v})
        for k, v in CLASSIFICATIONS.items()
    ]
    rows += [("VisitStatus", {"StatusID": k, "StatusName": v}) for k, v in STATUSES.items()]
    rows += [
        ("Speciality", {"SpecialityID": k, "SpecialityName": v, "Location": "Main"})
        for k, v in SPECIALITIES.items()
    ]
    return rows


def expected_kpis(tables: dict[str, dict], today: date) -> dict:
    """The /stats numbers computed straight from the final rows of every table."""
    classification_names = {
        r["ClassificationID"]: r["ClassificationName"]
        for r in tables["VisitClassification"].values()
    }
    status_names = {r["StatusID"]: r["StatusName"] for r in tables["VisitStatus"].values()}
    speciality_names = {
        r["SpecialityID"]: r["SpecialityName"] for r in tables["Speciality"].values()
    }

    visits_today = Counter(dict.fromkeys(classification_names.values(), 0))
    for visit in tables["Visits"].values():
        if visit["VisitDate"] is not None and visit["VisitDate"].date() == today:
            visits_today[classification_names.get(visit["ClassificationID"], "Unknown")] += 1

    latest: dict[int, dict] = {}
    for row in tables["VisitStatusHistory"].values():
        current = latest.get(row["VisitID"])
        if current is None or (row["StatusTime"], row["HistoryID"]) > (
            current["StatusTime"],
            current["HistoryID"],
        ):
            latest[row["VisitID"]] = row

    def speciality(doctor: int) -> str:
        links = [r for r in tables["Doctor_Speciality"].values() if r["DoctorID"] == doctor]
        if not links:
            return "Unassigned"
        primary = [r["SpecialityID"] for r in links if r["IsPrimary"]]
        chosen = min(primary) if primary else min(r["SpecialityID"] for r in links)
        return speciality_names.get(chosen, "Unknown")

    by_class = Counter(dict.fromkeys(classification_names.values(), 0))
    by_speciality = Counter(dict.fromkeys(speciality_names.values(), 0))
    visits_by_id = {visit["VisitID"]: visit for visit in tables["Visits"].values()}
    for visit_id, status in latest.items():
        visit = visits_by_id.get(visit_id)
        if visit is None or status_names.get(status["StatusID"]) != "Waiting":
            continue
        by_class[classification_names.get(visit["ClassificationID"], "Unknown")] += 1
        by_speciality[speciality(visit["DoctorID"])] += 1

    admissions = tables["Admissions"].values()
    revenue = sum(
        (
            b["TotalAmount"]
            for b in tables["Bills"].values()
            if b["PaymentStatus"] == "Paid"
            and b["PaymentDate"] is not None
            and b["PaymentDate"].date() == today
        ),
        Decimal(0),
    )
    return {
        "visits_today_total": sum(visits_today.values()),
        "visits_today_by_classification": dict(visits_today),
        "admissions_today": sum(
            1 for a in admissions if a["AdmissionDate"] and a["AdmissionDate"].date() == today
        ),
        "inpatients_now": sum(1 for a in admissions if a["DischargeDate"] is None),
        "waiting_now_by_speciality": {
            k: v for k, v in by_speciality.items() if k in speciality_names.values() or v
        },
        "waiting_now_by_classification": dict(by_class),
        "revenue_paid_today": float(revenue),
    }
