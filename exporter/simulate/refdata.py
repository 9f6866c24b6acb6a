"""Reference data of the hospital: codes, wards and beds, prices, and the medical staff.

This module is the single source of sql/<dialect>/02_reference_data.sql:

    python -m exporter.simulate.refdata postgres > sql/postgres/02_reference_data.sql

and tests/db checks that the committed files match it, so the generator and the database
always agree on every identifier. The doctors are a fixed, fictitious roster.
"""

from __future__ import annotations

import sys
from decimal import Decimal

from exporter.simulate import dialect as dialects
from exporter.simulate.schema import REFERENCE_TABLES

SPECIALITIES = (
    (1, "Emergency", "Ground floor, east wing"),
    (2, "Internal Medicine", "Clinics, level 1"),
    (3, "General Surgery", "Clinics, level 2"),
    (4, "Orthopedics", "Clinics, level 2"),
    (5, "Pediatrics", "Children's wing"),
    (6, "Cardiology", "Heart centre, level 3"),
    (7, "Radiology", "Basement, imaging"),
    (8, "Laboratory", "Basement, laboratory"),
    (9, "ICU", "Level 4"),
)
CLASSIFICATIONS = ((1, "Inpatient"), (2, "Outpatient"), (3, "Emergency"), (4, "Ambulatory"))
VISIT_TYPES = (
    (1, "Pre-Operation Assessment", 1),
    (2, "Elective Admission", 1),
    (3, "Initial Examination", 2),
    (4, "Follow-up Visit", 2),
    (5, "Emergency Examination", 3),
    (6, "Trauma Emergency", 3),
    (7, "Injection", 4),
    (8, "Dressing/Wound Care", 4),
    (9, "Remove Cast", 4),
    (10, "Vitals Check", 4),
)
STATUSES = (
    (1, "Registered"),
    (2, "Waiting"),
    (3, "In Consultation"),
    (4, "Finished"),
    (5, "Admitted"),
    (6, "In Ward"),
    (7, "Discharged"),
    (8, "Cancelled"),
    (9, "No-Show"),
)
# (WardID, name, type, location, bed count, bed type, speciality of its admissions)
WARDS = (
    (1, "Medical Ward A", "Medical", "Level 1, north", 60, "Standard", 2),
    (2, "Surgical Ward A", "Surgical", "Level 2, north", 40, "Standard", 3),
    (3, "Orthopedic Ward", "Surgical", "Level 2, south", 25, "Standard", 4),
    (4, "Pediatrics Ward", "Pediatric", "Children's wing", 25, "Pediatric", 5),
    (5, "ICU", "Intensive Care", "Level 4", 14, "ICU", 9),
)
TRIAGE_LEVELS = (
    (1, "Level 1 - Resuscitation"),
    (2, "Level 2 - Emergency"),
    (3, "Level 3 - Urgent"),
    (4, "Level 4 - Less Urgent"),
    (5, "Level 5 - Non-Urgent"),
)
PAYER_TYPES = ((1, "Cash"), (2, "Insurance"), (3, "Company"))
SERVICES = (
    (1, "General Consultation", "150.00", "Outpatient consultation with a general physician"),
    (2, "Specialist Consultation", "250.00", "Outpatient consultation with a specialist"),
    (3, "Emergency Assessment", "300.00", "Emergency department assessment"),
    (4, "Bed Day - General Ward", "800.00", "One day in a general ward bed"),
    (5, "ICU Day", "3500.00", "One day in intensive care"),
    (6, "Complete Blood Count", "60.00", "Laboratory"),
    (7, "Basic Metabolic Panel", "90.00", "Laboratory"),
    (8, "X-Ray", "200.00", "Imaging"),
    (9, "CT Scan", "1200.00", "Imaging"),
    (10, "Ultrasound", "400.00", "Imaging"),
    (11, "ECG", "120.00", "Cardiology diagnostics"),
    (12, "Injection Administration", "40.00", "Nursing procedure"),
    (13, "Wound Dressing", "80.00", "Nursing procedure"),
    (14, "Cast Removal", "100.00", "Orthopedic procedure"),
    (15, "Vitals Check", "30.00", "Nursing procedure"),
    (16, "Surgery Package - Minor", "5000.00", "Theatre, surgeon and anaesthesia"),
    (17, "Surgery Package - Major", "15000.00", "Theatre, surgeon and anaesthesia"),
    (18, "Cardiac Catheterization Package", "22000.00", "Catheter laboratory"),
    (19, "MRI", "2500.00", "Imaging"),
)
# (OperationTypeID, name, service billed for it)
OPERATION_TYPES = (
    (1, "Appendectomy", 16),
    (2, "Hernia Repair", 16),
    (3, "Cesarean Section", 17),
    (4, "Orthopedic Fixation", 17),
    (5, "Cardiac Catheterization", 18),
    (6, "Cholecystectomy", 17),
    (7, "Knee Arthroscopy", 16),
)

# Staff per speciality; a few doctors hold a second speciality (see EXTRA_SPECIALITIES).
STAFF = {1: 8, 2: 8, 3: 5, 4: 4, 5: 5, 6: 4, 7: 3, 8: 2, 9: 3}
_FIRST = ("Amal", "Omar", "Lina", "Karim", "Sara", "Yusuf", "Nour", "Hadi", "Rana", "Sami",
          "Dina", "Tarek", "Maya", "Ziad", "Huda", "Faris")  # fmt: skip
_LAST = ("Haddad", "Nasser", "Khoury", "Saleh", "Mansour", "Aziz", "Rahal", "Daher", "Issa",
         "Farah", "Hamdan", "Jaber", "Touma")  # fmt: skip
# (doctor, second speciality, whether the first stays primary). Doctor 12 (Internal
# Medicine and Cardiology) has no primary flag, so the lowest speciality id decides.
EXTRA_SPECIALITIES = ((9, 6, True), (12, 6, None), (1, 9, True))
# A resident without a speciality yet: his waiting patients count as "Unassigned".
RESIDENT_ID = sum(STAFF.values()) + 1


def doctors() -> tuple[list[dict], list[dict]]:
    rows, links = [], []
    doctor_id = 0
    for speciality, count in STAFF.items():
        for _ in range(count):
            doctor_id += 1
            rows.append(_doctor(doctor_id))
            links.append([doctor_id, speciality, True])
    rows.append(_doctor(RESIDENT_ID))
    for doctor, second, first_primary in EXTRA_SPECIALITIES:
        first = next(link for link in links if link[0] == doctor)
        first[2] = bool(first_primary)
        links.append([doctor, second, False])
    links.sort()
    return rows, [{"DoctorID": d, "SpecialityID": s, "IsPrimary": p} for d, s, p in links]


def _doctor(doctor_id: int) -> dict:
    first = _FIRST[doctor_id % len(_FIRST)]
    last = _LAST[(doctor_id * 7) % len(_LAST)]
    return {
        "DoctorID": doctor_id,
        "FirstName": first,
        "LastName": last,
        "Phone": f"555-02{doctor_id:02d}",
        "Email": f"dr.{first.lower()}.{last.lower()}{doctor_id}@hospital.example",
    }


def beds() -> list[dict]:
    rows, bed_id = [], 0
    for ward_id, _name, _type, _loc, count, bed_type, _spec in WARDS:
        for number in range(1, count + 1):
            bed_id += 1
            rows.append(
                {"BedID": bed_id, "BedNumber": f"{ward_id}-{number:02d}", "WardID": ward_id,
                 "BedType": bed_type}
            )  # fmt: skip
    return rows


def reference_rows() -> dict[str, list[dict]]:
    """Every reference table's rows, keyed by table name, in foreign-key order."""
    doctor_rows, links = doctors()
    rows = {
        "Speciality": [
            {"SpecialityID": i, "SpecialityName": n, "Location": loc} for i, n, loc in SPECIALITIES
        ],
        "Wards": [
            {"WardID": w[0], "WardName": w[1], "WardType": w[2], "Location": w[3]} for w in WARDS
        ],
        "Beds": beds(),
        "VisitClassification": [
            {"ClassificationID": i, "ClassificationName": n} for i, n in CLASSIFICATIONS
        ],
        "VisitType": [
            {"TypeID": i, "TypeName": n, "ClassificationID": c} for i, n, c in VISIT_TYPES
        ],
        "VisitStatus": [{"StatusID": i, "StatusName": n} for i, n in STATUSES],
        "OperationType": [
            {"OperationTypeID": i, "OperationName": n} for i, n, _s in OPERATION_TYPES
        ],
        "TriageLevels": [{"TriageLevelID": i, "LevelDescription": d} for i, d in TRIAGE_LEVELS],
        "PayerTypes": [{"PayerTypeID": i, "PayerTypeName": n} for i, n in PAYER_TYPES],
        "ServiceCatalog": [
            {"ServiceID": i, "ServiceName": n, "Price": Decimal(p), "Description": d}
            for i, n, p, d in SERVICES
        ],
        "Doctors": doctor_rows,
        "Doctor_Speciality": links,
    }
    return {name: rows[name] for name in REFERENCE_TABLES}


def render_sql(dialect_name: str) -> str:
    """The 02_reference_data.sql script for a dialect."""
    d = dialects.get(dialect_name)
    go = "\nGO" if d.name == "sqlserver" else ""
    parts = [
        "-- Reference data: codes, wards and beds, priced services, the medical staff.",
        "-- Generated by `python -m exporter.simulate.refdata "
        f"{d.name}`; edit exporter/simulate/refdata.py, not this file.",
    ]
    if d.name == "sqlserver":
        parts.append("USE Hospital_Salam;\nGO")
    else:
        parts.append("SET search_path = dbo, public;")
    for table, rows in reference_rows().items():
        for stmt in d.insert(table, rows):
            stmt = stmt if stmt.endswith(";") else stmt + ";"
            parts.append(stmt + go)
        tail = d.after_explicit_ids(table)
        if tail:
            parts.append(tail + ";")
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_sql(sys.argv[1] if len(sys.argv) > 1 else "postgres"))
