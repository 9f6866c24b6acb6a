"""Apply a generator's operations to the database in few round trips.

Inserts are buffered per table and sent as multi-row INSERTs in foreign-key order; an
update or delete of a row that is still buffered is folded into the buffer. Updates and
deletes of rows already written run after the buffered inserts, in stream order, so every
row they refer to exists. A flush is one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import pyodbc

from exporter.simulate.dialect import Dialect
from exporter.simulate.generator import Op
from exporter.simulate.schema import TABLES

log = logging.getLogger(__name__)


class Writer:
    def __init__(self, conn: pyodbc.Connection, dialect: Dialect) -> None:
        self.conn = conn
        self.dialect = dialect
        self._inserts: dict[str, dict[object, dict]] = {name: {} for name in TABLES}
        self._later: list[str] = []
        self.pending = 0
        self.written = 0

    def add(self, op: Op) -> None:
        kind, table, row = op
        key = row[TABLES[table].key]
        buffered = self._inserts[table]
        if kind == "insert":
            buffered[key] = row
        elif key in buffered:
            if kind == "update":
                buffered[key] = row
            else:
                del buffered[key]
        elif kind == "update":
            self._later.append(self.dialect.update(table, row))
        else:
            self._later.append(self.dialect.delete(table, row))
        self.pending += 1

    def apply(self, ops: Iterable[Op], flush_every: int = 20000) -> int:
        """Write every operation; return how many were applied."""
        count = 0
        for op in ops:
            self.add(op)
            count += 1
            if self.pending >= flush_every:
                self.flush()
        self.flush()
        return count

    def flush(self) -> None:
        if not self.pending:
            return
        cur = self.conn.cursor()
        try:
            for table, rows in self._inserts.items():
                if rows:
                    for statement in self.dialect.insert(table, list(rows.values())):
                        cur.execute(statement)
                    rows.clear()
            for statement in self._later:
                cur.execute(statement)
            self.conn.commit()
        except pyodbc.Error:
            self.conn.rollback()
            raise
        self._later.clear()
        self.written += self.pending
        log.debug("flushed %d operations", self.pending)
        self.pending = 0

    def sync_identities(self) -> None:
        """After explicit keys were written, let the database's own inserts continue above
        them (PostgreSQL sequences; SQL Server identities follow on their own)."""
        cur = self.conn.cursor()
        for table in TABLES:
            statement = self.dialect.after_explicit_ids(table)
            if statement:
                cur.execute(statement)
        self.conn.commit()
