"""The eight source tables the exporter reads, and the columns it keeps of each.

Only the columns a KPI needs are kept, so no patient name, phone number or patient ID ever
enters memory. Column kinds tell the decoder how to read a value.
"""

from __future__ import annotations

from dataclasses import dataclass

# Column kinds understood by exporter.decode.
INT = "int"
TIME = "time"  # a point in time, kept as hospital wall-clock microseconds since the epoch
DECIMAL = "decimal"
TEXT = "text"
BOOL = "bool"


@dataclass(frozen=True)
class TableSpec:
    name: str
    key: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]  # (column, kind), key columns first
    # The declared scale of DECIMAL columns, used for base64 decimals that arrive without a
    # schema (DECIMAL(12,2) in both dialects).
    decimal_scale: int = 2

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    def index(self, column: str) -> int:
        return self.column_names.index(column)


VISITS = TableSpec(
    "Visits",
    key=("VisitID",),
    columns=(("VisitID", INT), ("DoctorID", INT), ("ClassificationID", INT), ("VisitDate", TIME)),
)
STATUS_HISTORY = TableSpec(
    "VisitStatusHistory",
    key=("HistoryID",),
    columns=(("HistoryID", INT), ("VisitID", INT), ("StatusID", INT), ("StatusTime", TIME)),
)
ADMISSIONS = TableSpec(
    "Admissions",
    key=("AdmissionID",),
    columns=(("AdmissionID", INT), ("AdmissionDate", TIME), ("DischargeDate", TIME)),
)
BILLS = TableSpec(
    "Bills",
    key=("BillID",),
    columns=(
        ("BillID", INT),
        ("TotalAmount", DECIMAL),
        ("PaymentStatus", TEXT),
        ("PaymentDate", TIME),
    ),
)
CLASSIFICATIONS = TableSpec(
    "VisitClassification",
    key=("ClassificationID",),
    columns=(("ClassificationID", INT), ("ClassificationName", TEXT)),
)
STATUSES = TableSpec(
    "VisitStatus", key=("StatusID",), columns=(("StatusID", INT), ("StatusName", TEXT))
)
SPECIALITIES = TableSpec(
    "Speciality",
    key=("SpecialityID",),
    columns=(("SpecialityID", INT), ("SpecialityName", TEXT)),
)
DOCTOR_SPECIALITIES = TableSpec(
    "Doctor_Speciality",
    key=("DoctorID", "SpecialityID"),
    columns=(("DoctorID", INT), ("SpecialityID", INT), ("IsPrimary", BOOL)),
)

TABLES: tuple[TableSpec, ...] = (
    VISITS,
    STATUS_HISTORY,
    ADMISSIONS,
    BILLS,
    CLASSIFICATIONS,
    STATUSES,
    SPECIALITIES,
    DOCTOR_SPECIALITIES,
)
TABLES_BY_NAME = {table.name: table for table in TABLES}
