"""The few places where PostgreSQL and SQL Server SQL differ, behind one small interface."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from exporter.simulate.schema import TABLES

_GO = re.compile(r"^\s*GO\s*(?:--.*)?$", re.IGNORECASE | re.MULTILINE)


class Dialect:
    name = "abstract"
    boolean_true = "TRUE"
    boolean_false = "FALSE"
    string_prefix = ""
    # Rows per multi-row INSERT: SQL Server accepts at most 1000 row constructors.
    max_rows_per_insert = 1000

    def literal(self, value) -> str:
        """A SQL literal for a generated value. Strings have their quotes doubled."""
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return self.boolean_true if value else self.boolean_false
        if isinstance(value, int | Decimal):
            return str(value)
        if isinstance(value, dt.datetime):
            return "'" + value.strftime("%Y-%m-%dT%H:%M:%S") + "'"
        if isinstance(value, dt.date | dt.time):
            return "'" + value.isoformat() + "'"
        if isinstance(value, str):
            return self.string_prefix + "'" + value.replace("'", "''") + "'"
        raise TypeError(f"no SQL literal for {type(value).__name__}")

    def table(self, name: str) -> str:
        return f"dbo.{name}"

    def insert(self, table: str, rows: list[dict]) -> list[str]:
        """Multi-row INSERT statements for `rows`, all of which carry every column."""
        cols = TABLES[table].columns
        head = f"INSERT INTO {self.table(table)} ({', '.join(cols)}) VALUES\n  "
        out = []
        for i in range(0, len(rows), self.max_rows_per_insert):
            chunk = rows[i : i + self.max_rows_per_insert]
            values = ",\n  ".join(
                "(" + ", ".join(self.literal(r[c]) for c in cols) + ")" for r in chunk
            )
            out.append(self.wrap_identity_insert(table, head + values))
        return out

    def update(self, table: str, row: dict) -> str:
        t = TABLES[table]
        sets = ", ".join(f"{c} = {self.literal(row[c])}" for c in t.columns if c != t.key)
        return f"UPDATE {self.table(table)} SET {sets} WHERE {t.key} = {self.literal(row[t.key])}"

    def delete(self, table: str, row: dict) -> str:
        t = TABLES[table]
        return f"DELETE FROM {self.table(table)} WHERE {t.key} = {self.literal(row[t.key])}"

    def wrap_identity_insert(self, table: str, sql: str) -> str:
        return sql

    def after_explicit_ids(self, table: str) -> str | None:
        """SQL that moves an identity's next value past explicitly inserted keys."""
        return None

    def call_weekly_snapshot(self) -> str:
        raise NotImplementedError

    def split_script(self, text: str) -> list[str]:
        raise NotImplementedError


class Postgres(Dialect):
    name = "postgres"

    def after_explicit_ids(self, table: str) -> str | None:
        t = TABLES[table]
        if not t.identity:
            return None
        return (
            f"SELECT setval(pg_get_serial_sequence('dbo.{t.lower}', '{t.key.lower()}'), "
            f"GREATEST((SELECT MAX({t.key}) FROM dbo.{table}), 1))"
        )

    def call_weekly_snapshot(self) -> str:
        return "CALL dbo.RunWeeklySnapshot(?)"

    def split_script(self, text: str) -> list[str]:
        return split_postgres(text)


class SqlServer(Dialect):
    name = "sqlserver"
    boolean_true = "1"
    boolean_false = "0"
    string_prefix = "N"

    def wrap_identity_insert(self, table: str, sql: str) -> str:
        if not TABLES[table].identity:
            return sql
        # IDENTITY_INSERT is per session and for one table at a time, so switch it around
        # each statement rather than leaving it on.
        t = self.table(table)
        return f"SET IDENTITY_INSERT {t} ON; {sql}; SET IDENTITY_INSERT {t} OFF;"

    def call_weekly_snapshot(self) -> str:
        return "EXEC dbo.RunWeeklySnapshot @WeekStart = ?"

    def split_script(self, text: str) -> list[str]:
        return [b.strip() for b in _GO.split(text) if _strip_comments(b).strip()]


def _strip_comments(text: str) -> str:
    return re.sub(r"--[^\n]*", "", text)


def split_postgres(text: str) -> list[str]:
    """Split a PostgreSQL script into statements on `;`, respecting quotes, dollar quotes
    and comments. psql meta-commands (lines starting with a backslash) are dropped."""
    out, buf, i, n = [], [], 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "-" and text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if ch == "\\" and (i == 0 or text[i - 1] == "\n"):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if ch == "'":
            j = i + 1
            while True:
                j = text.index("'", j)
                if text.startswith("''", j):
                    j += 2
                    continue
                break
            buf.append(text[i : j + 1])
            i = j + 1
            continue
        if ch == "$":
            m = re.match(r"\$[A-Za-z_]*\$", text[i:])
            if m:
                tag = m.group(0)
                j = text.index(tag, i + len(tag))
                buf.append(text[i : j + len(tag)])
                i = j + len(tag)
                continue
        if ch == ";":
            stmt = "".join(buf).strip()
            if stmt:
                out.append(stmt)
            buf = []
            i += 1
            continue
        buf.append(ch)
        i += 1
    tail = "".join(buf).strip()
    if tail:
        out.append(tail)
    return out


DIALECTS: dict[str, Dialect] = {"postgres": Postgres(), "sqlserver": SqlServer()}


def get(name: str) -> Dialect:
    try:
        return DIALECTS[name]
    except KeyError:
        raise ValueError(f"unknown database dialect {name!r}; use postgres or sqlserver") from None
