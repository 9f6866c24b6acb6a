"""Run the weekly snapshot procedure and export a week's snapshot tables to CSV.

CSV format: UTF-8, a header row with the schema's column names, one file per table named
`Weekly_<Table>_<week start>.csv`; times in ISO-8601 (`2024-03-04T08:15:00`, local wall
clock, no zone), dates `2024-03-04`, money with two decimals, booleans `true`/`false`, NULL
as an empty field.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
from decimal import Decimal
from pathlib import Path

import pyodbc

from exporter.simulate.dialect import Dialect
from exporter.simulate.schema import TABLES, WEEKLY, weekly_columns

log = logging.getLogger(__name__)


def run_snapshot(conn: pyodbc.Connection, dialect: Dialect, week_start: dt.date | None) -> None:
    """Call RunWeeklySnapshot; None lets the procedure pick last week."""
    conn.cursor().execute(dialect.call_weekly_snapshot(), week_start)
    conn.commit()
    log.info("weekly snapshot taken for week starting %s", week_start or "last Monday")


def _field(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def export_week(conn: pyodbc.Connection, week_start: dt.date, out_dir: Path) -> dict[str, Path]:
    """Write every Weekly_* table's rows of one week to CSV; return the files by table."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cur = conn.cursor()
    files = {}
    for source in WEEKLY:
        cols = weekly_columns(source)
        table = f"Weekly_{source}"
        path = out_dir / f"{table}_{week_start.isoformat()}.csv"
        cur.execute(
            f"SELECT {', '.join(cols)} FROM dbo.{table} WHERE WeekStart = ? "
            f"ORDER BY {TABLES[source].key}",
            week_start,
        )
        rows = 0
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(cols)
            for record in cur:
                writer.writerow([_field(v) for v in record])
                rows += 1
        log.info("exported %d rows of %s to %s", rows, table, path)
        files[table] = path
    return files
