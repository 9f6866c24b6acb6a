"""Connections to the hospital database through pyodbc, and loading the SQL scripts."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pyodbc

from exporter.simulate import dialect as dialects

log = logging.getLogger(__name__)

SQL_ROOT = Path(__file__).resolve().parent.parent.parent / "sql"
SCRIPTS = ("01_schema.sql", "02_reference_data.sql", "03_cdc.sql", "04_weekly_snapshot.sql")


def connect(dsn: str, password: str | None = None, autocommit: bool = False) -> pyodbc.Connection:
    """Open a connection; the password, when given, comes from the environment, never a file."""
    if not dsn:
        raise ValueError("no database connection string: set --db.dsn or HOSPITAL_DB_DSN")
    if password is None:
        password = os.environ.get("HOSPITAL_DB_PASSWORD")
    if password:
        dsn = dsn.rstrip(";") + ";PWD={" + password.replace("}", "}}") + "};"
    return pyodbc.connect(dsn, autocommit=autocommit)


def script_path(dialect_name: str, name: str) -> Path:
    return SQL_ROOT / dialect_name / name


def load_scripts(conn: pyodbc.Connection, dialect_name: str, names=SCRIPTS) -> None:
    """Run the numbered scripts statement by statement (PostgreSQL) or batch by batch
    (T-SQL, split on GO), committing after each script."""
    d = dialects.get(dialect_name)
    cur = conn.cursor()
    for name in names:
        path = script_path(d.name, name)
        statements = d.split_script(path.read_text(encoding="utf-8"))
        log.info("running %s (%d statements)", path.name, len(statements))
        for statement in statements:
            cur.execute(statement)
        conn.commit()


def set_role_password(conn: pyodbc.Connection, role: str, password: str) -> None:
    """PostgreSQL: give a role its password (ALTER ROLE takes no bind parameters)."""
    literal = "'" + password.replace("'", "''") + "'"
    conn.cursor().execute(f"ALTER ROLE {role} PASSWORD {literal}")
    conn.commit()


def max_ids(conn: pyodbc.Connection, tables) -> dict[str, int]:
    cur = conn.cursor()
    out = {}
    for t in tables:
        out[t.name] = cur.execute(f"SELECT MAX({t.key}) FROM dbo.{t.name}").fetchone()[0] or 0
    return out
