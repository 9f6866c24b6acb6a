"""The exporter's KPIs computed straight from the tables, to check the streamed ones.

    kpis(conn, "postgres", now_local) -> {"visits_today_total": 312, ...}

The queries live in sql/<dialect>/kpi_queries.sql; the result has the shape of the
exporter's /stats document.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pyodbc

from exporter.simulate import db

UNASSIGNED = "Unassigned"
_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


def load_queries(dialect_name: str) -> dict[str, str]:
    """Named queries of the dialect's kpi_queries.sql, comments removed."""
    text = db.script_path(dialect_name, "kpi_queries.sql").read_text(encoding="utf-8")
    parts = _NAME.split(text)
    queries = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        lines = [ln for ln in body.splitlines() if not ln.lstrip().startswith("--")]
        queries[name] = "\n".join(lines).strip().rstrip(";")
    return queries


def _run(cur: pyodbc.Cursor, sql: str, now: dt.datetime) -> list:
    return cur.execute(sql, *([now] * sql.count("?"))).fetchall()


def kpis(conn: pyodbc.Connection, dialect: str, now_local: dt.datetime) -> dict:
    """KPIs as of `now_local` (hospital local wall-clock time, no zone)."""
    now = now_local.replace(tzinfo=None, microsecond=0)
    q = load_queries(dialect)
    cur = conn.cursor()
    classes = sorted(r[0] for r in _run(cur, q["classifications"], now))
    specialities = sorted(r[0] for r in _run(cur, q["specialities"], now))

    by_class = dict.fromkeys(classes, 0)
    by_class.update(
        {name: int(n) for name, n in _run(cur, q["visits_today_by_classification"], now)}
    )
    waiting_class = dict.fromkeys(classes, 0)
    waiting_spec = dict.fromkeys(specialities, 0)
    for cls, spec, n in _run(cur, q["waiting_now"], now):
        waiting_class[cls] += int(n)
        waiting_spec[spec] = waiting_spec.get(spec, 0) + int(n)
    if not waiting_spec.get(UNASSIGNED):
        waiting_spec.pop(UNASSIGNED, None)

    revenue = _run(cur, q["revenue_paid_today"], now)[0][0]
    return {
        "visits_today_total": int(_run(cur, q["visits_today_total"], now)[0][0]),
        "visits_today_by_classification": by_class,
        "admissions_today": int(_run(cur, q["admissions_today"], now)[0][0]),
        "inpatients_now": int(_run(cur, q["inpatients_now"], now)[0][0]),
        "waiting_now_by_speciality": waiting_spec,
        "waiting_now_by_classification": waiting_class,
        "revenue_paid_today": Decimal(revenue).quantize(Decimal("0.01")),
    }
