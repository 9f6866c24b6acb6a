"""Debezium change events as the Kafka Connect JSON converter writes them, for tests and benches.

`Encoder(flavor=...)` builds message values (and keys) for the eight source tables, with or
without schemas, in either the PostgreSQL connector's shape (lower-case names, `lsn`) or the
SQL Server connector's (`commit_lsn`, `change_lsn`, `event_serial_no`). Row values are given as
Python values: int, str, bool, Decimal, and naive datetimes in hospital wall-clock time.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import orjson

_EPOCH = datetime(1970, 1, 1)

# Every column of the eight tables as the schema defines them: (name, kind).
COLUMNS = {
    "Visits": [
        ("VisitID", "int"),
        ("PatientID", "int"),
        ("DoctorID", "int"),
        ("ClassificationID", "int"),
        ("TypeID", "int"),
        ("VisitDate", "time"),
    ],
    "VisitStatusHistory": [
        ("HistoryID", "int"),
        ("VisitID", "int"),
        ("StatusID", "int"),
        ("StatusTime", "time"),
    ],
    "Admissions": [
        ("AdmissionID", "int"),
        ("VisitID", "int"),
        ("BedID", "int"),
        ("AdmissionDate", "time"),
        ("DischargeDate", "time"),
    ],
    "Bills": [
        ("BillID", "int"),
        ("VisitID", "int"),
        ("AdmissionID", "int"),
        ("PayerTypeID", "int"),
        ("BillDate", "time"),
        ("TotalAmount", "decimal"),
        ("PaymentStatus", "text"),
        ("PaymentDate", "time"),
    ],
    "VisitClassification": [("ClassificationID", "int"), ("ClassificationName", "text")],
    "VisitStatus": [("StatusID", "int"), ("StatusName", "text")],
    "Speciality": [("SpecialityID", "int"), ("SpecialityName", "text"), ("Location", "text")],
    "Doctor_Speciality": [("DoctorID", "int"), ("SpecialityID", "int"), ("IsPrimary", "bool")],
}
KEYS = {
    "Visits": ("VisitID",),
    "VisitStatusHistory": ("HistoryID",),
    "Admissions": ("AdmissionID",),
    "Bills": ("BillID",),
    "VisitClassification": ("ClassificationID",),
    "VisitStatus": ("StatusID",),
    "Speciality": ("SpecialityID",),
    "Doctor_Speciality": ("DoctorID", "SpecialityID"),
}
NOT_NULL = {"VisitID", "HistoryID", "AdmissionID", "BillID", "StatusID", "DoctorID"}

TIME_TYPES = {
    "Timestamp": ("io.debezium.time.Timestamp", "int64"),
    "MicroTimestamp": ("io.debezium.time.MicroTimestamp", "int64"),
    "NanoTimestamp": ("io.debezium.time.NanoTimestamp", "int64"),
    "ZonedTimestamp": ("io.debezium.time.ZonedTimestamp", "string"),
    "ConnectTimestamp": ("org.apache.kafka.connect.data.Timestamp", "int64"),
}


def wall_units(value: datetime, per_second: int) -> int:
    return (value - _EPOCH) // timedelta(microseconds=1) * per_second // 1_000_000


@dataclass
class Encoder:
    """Builds Debezium messages; `flavor` is "postgres" or "sqlserver"."""

    flavor: str = "postgres"
    schemas: bool = True
    time_type: str = "MicroTimestamp"
    decimal_mode: str = "precise"  # precise | string | double | variable
    zone_offset: str = "+02:00"  # offset written into ZonedTimestamp strings
    topic_prefix: str = "hospital"
    _sequence: int = field(default=1000, repr=False)

    # -- names ------------------------------------------------------------------------------

    def name(self, identifier: str) -> str:
        return identifier.lower() if self.flavor == "postgres" else identifier

    def topic(self, table: str) -> str:
        if self.flavor == "postgres":
            return f"{self.topic_prefix}.dbo.{table.lower()}"
        return f"{self.topic_prefix}.Hospital_Salam.dbo.{table}"

    # -- values -----------------------------------------------------------------------------

    def _encode_time(self, value):
        if value is None:
            return None
        if isinstance(value, date) and not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day)
        if self.time_type == "ZonedTimestamp":
            return value.isoformat() + self.zone_offset
        per_second = {"Timestamp": 1000, "ConnectTimestamp": 1000, "MicroTimestamp": 10**6}
        return wall_units(value, per_second.get(self.time_type, 10**9))

    def _encode_decimal(self, value: Decimal | None):
        if value is None:
            return None
        if self.decimal_mode == "string":
            return str(value)
        if self.decimal_mode == "double":
            return float(value)
        unscaled = int(value.scaleb(2))
        raw = unscaled.to_bytes((unscaled.bit_length() + 8) // 8 or 1, "big", signed=True)
        encoded = base64.b64encode(raw).decode()
        if self.decimal_mode == "variable":
            return {"scale": 2, "value": encoded}
        return encoded

    def encode_row(self, table: str, row: dict | None) -> dict | None:
        if row is None:
            return None
        encoded = {}
        for column, kind in COLUMNS[table]:
            value = row.get(column)
            if kind == "time":
                value = self._encode_time(value)
            elif kind == "decimal":
                value = self._encode_decimal(value)
            encoded[self.name(column)] = value
        return encoded

    # -- schemas ----------------------------------------------------------------------------

    def _field_schema(self, column: str, kind: str) -> dict:
        optional = column not in NOT_NULL
        schema: dict = {"field": self.name(column), "optional": optional}
        if kind == "int":
            schema["type"] = "int32"
        elif kind == "text":
            schema["type"] = "string"
        elif kind == "bool":
            schema["type"] = "boolean"
        elif kind == "time":
            logical, kind_type = TIME_TYPES[self.time_type]
            schema.update(type=kind_type, name=logical, version=1)
        elif self.decimal_mode == "precise":
            schema.update(
                type="bytes",
                name="org.apache.kafka.connect.data.Decimal",
                version=1,
                parameters={"scale": "2", "connect.decimal.precision": "12"},
            )
        elif self.decimal_mode == "variable":
            schema.update(
                type="struct",
                name="io.debezium.data.VariableScaleDecimal",
                fields=[
                    {"type": "int32", "optional": False, "field": "scale"},
                    {"type": "bytes", "optional": False, "field": "value"},
                ],
            )
        else:
            schema["type"] = "string" if self.decimal_mode == "string" else "double"
        return schema

    def _row_schema(self, table: str, field_name: str) -> dict:
        return {
            "type": "struct",
            "fields": [self._field_schema(c, k) for c, k in COLUMNS[table]],
            "optional": True,
            "name": f"{self.topic(table)}.Value",
            "field": field_name,
        }

    def _source_schema(self) -> dict:
        def f(name, kind="string", optional=True):
            return {"type": kind, "optional": optional, "field": name}

        common = [
            f("version", optional=False),
            f("connector", optional=False),
            f("name", optional=False),
            f("ts_ms", "int64", False),
            {
                "type": "string",
                "optional": True,
                "name": "io.debezium.data.Enum",
                "version": 1,
                "parameters": {"allowed": "true,first,first_in_data_collection,last,false"},
                "default": "false",
                "field": "snapshot",
            },
            f("db", optional=False),
            f("sequence"),
            f("ts_us", "int64"),
            f("ts_ns", "int64"),
            f("schema", optional=False),
            f("table", optional=False),
        ]
        if self.flavor == "postgres":
            extra = [f("txId", "int64"), f("lsn", "int64"), f("xmin", "int64")]
            name = "io.debezium.connector.postgresql.Source"
        else:
            extra = [f("change_lsn"), f("commit_lsn"), f("event_serial_no", "int64")]
            name = "io.debezium.connector.sqlserver.Source"
        return {
            "type": "struct",
            "fields": common + extra,
            "optional": False,
            "name": name,
            "field": "source",
        }

    def schema(self, table: str) -> dict:
        transaction = {
            "type": "struct",
            "fields": [
                {"type": "string", "optional": False, "field": "id"},
                {"type": "int64", "optional": False, "field": "total_order"},
                {"type": "int64", "optional": False, "field": "data_collection_order"},
            ],
            "optional": True,
            "name": "event.block",
            "version": 1,
            "field": "transaction",
        }
        return {
            "type": "struct",
            "fields": [
                self._row_schema(table, "before"),
                self._row_schema(table, "after"),
                self._source_schema(),
                transaction,
                {"type": "string", "optional": False, "field": "op"},
                {"type": "int64", "optional": True, "field": "ts_ms"},
                {"type": "int64", "optional": True, "field": "ts_us"},
                {"type": "int64", "optional": True, "field": "ts_ns"},
            ],
            "optional": False,
            "name": f"{self.topic(table)}.Envelope",
            "version": 2,
        }

    # -- messages ---------------------------------------------------------------------------

    def source(self, table: str, ts_ms: int, position: int, snapshot: bool) -> dict:
        source = {
            "version": "3.6.1.Final",
            "connector": "postgresql" if self.flavor == "postgres" else "sqlserver",
            "name": self.topic_prefix,
            "ts_ms": ts_ms,
            "snapshot": "true" if snapshot else "false",
            "db": "hospital_salam" if self.flavor == "postgres" else "Hospital_Salam",
            "sequence": None,
            "ts_us": ts_ms * 1000,
            "ts_ns": ts_ms * 1_000_000,
            "schema": "dbo",
            "table": self.name(table),
        }
        if self.flavor == "postgres":
            source.update(txId=position // 10 + 700, lsn=position, xmin=None)
        else:
            lsn = f"{position >> 32:08x}:{(position >> 8) & 0xFFFFFF:08x}:{position & 0xFF:04x}"
            source.update(change_lsn=None if snapshot else lsn, commit_lsn=lsn, event_serial_no=1)
        return source

    def value(
        self,
        table: str,
        op: str,
        before: dict | None = None,
        after: dict | None = None,
        *,
        ts_ms: int = 1_764_774_620_000,
        position: int | None = None,
    ) -> bytes:
        """One message value; `position` orders versions of a row (an LSN), default rising."""
        if position is None:
            self._sequence += 1
            position = self._sequence
        payload = {
            "before": self.encode_row(table, before),
            "after": self.encode_row(table, after),
            "source": self.source(table, ts_ms, position, op == "r"),
            "transaction": None,
            "op": op,
            "ts_ms": ts_ms + 3,
            "ts_us": (ts_ms + 3) * 1000,
            "ts_ns": (ts_ms + 3) * 1_000_000,
        }
        if not self.schemas:
            return orjson.dumps(payload)
        return orjson.dumps({"schema": self.schema(table), "payload": payload})

    def key(self, table: str, row: dict) -> bytes:
        payload = {self.name(column): row[column] for column in KEYS[table]}
        if not self.schemas:
            return orjson.dumps(payload)
        fields = [
            {"type": "int32", "optional": False, "field": self.name(column)}
            for column in KEYS[table]
        ]
        schema = {
            "type": "struct",
            "fields": fields,
            "optional": False,
            "name": f"{self.topic(table)}.Key",
        }
        return orjson.dumps({"schema": schema, "payload": payload})
