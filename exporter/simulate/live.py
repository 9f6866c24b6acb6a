"""Live mode: continue the hospital from the database's current state, in real time.

Open visits, admissions, unpaid bills and booked appointments are read back and handed to
the generator, which then runs forward at `speed` times real time; each tick's operations
are committed as one small transaction, so dashboards fed by CDC move continuously.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field

import pyodbc

from exporter.simulate import db
from exporter.simulate.dialect import Dialect
from exporter.simulate.generator import Generator
from exporter.simulate.schema import TABLES
from exporter.simulate.writer import Writer

log = logging.getLogger(__name__)

OPEN_STATUSES = ("Registered", "Waiting", "In Consultation")


@dataclass
class OpenState:
    visits: list = field(default_factory=list)  # (visit row, status name, triage level)
    admissions: list = field(default_factory=list)  # (admission row, visit row, status)
    bills: list = field(default_factory=list)
    appointments: list = field(default_factory=list)


def _rows(cur: pyodbc.Cursor, table: str, alias: str, tail: str, extra: str = "") -> list:
    cols = TABLES[table].columns
    select = ", ".join(f"{alias}.{c}" for c in cols) + (f", {extra}" if extra else "")
    cur.execute(f"SELECT {select} FROM dbo.{table} {alias} {tail}")
    return [(dict(zip(cols, r[: len(cols)], strict=True)), *r[len(cols) :]) for r in cur]


_LATEST = """
    JOIN (SELECT h.VisitID, s.StatusName,
                 ROW_NUMBER() OVER (PARTITION BY h.VisitID
                                    ORDER BY h.StatusTime DESC, h.HistoryID DESC) AS rn
          FROM dbo.VisitStatusHistory h JOIN dbo.VisitStatus s ON s.StatusID = h.StatusID) cur
      ON cur.VisitID = v.VisitID AND cur.rn = 1
"""


def read_open_state(conn: pyodbc.Connection, today: dt.date) -> OpenState:
    cur = conn.cursor()
    state = OpenState()
    names = ", ".join(f"'{s}'" for s in OPEN_STATUSES)
    for visit, status, triage in _rows(
        cur, "Visits", "v",
        _LATEST + " LEFT JOIN dbo.EmergencyDetails e ON e.VisitID = v.VisitID"
        f" WHERE cur.StatusName IN ({names}) ORDER BY v.VisitID",
        "cur.StatusName, e.TriageLevelID",
    ):  # fmt: skip
        state.visits.append((visit, status, triage))
    visits = {}
    for visit, status in _rows(
        cur, "Visits", "v",
        _LATEST + " JOIN dbo.Admissions a ON a.VisitID = v.VisitID"
        " WHERE a.DischargeDate IS NULL ORDER BY v.VisitID",
        "cur.StatusName",
    ):  # fmt: skip
        visits[visit["VisitID"]] = (visit, status)
    for (admission,) in _rows(
        cur, "Admissions", "a", "WHERE a.DischargeDate IS NULL ORDER BY a.AdmissionID"
    ):
        visit, status = visits[admission["VisitID"]]
        state.admissions.append((admission, visit, status))
    state.bills = [
        r[0]
        for r in _rows(cur, "Bills", "b", "WHERE b.PaymentStatus = 'Pending' ORDER BY b.BillID")
    ]
    state.appointments = [
        r[0]
        for r in _rows(
            cur, "Appointments", "p",
            f"WHERE p.Status = 'Scheduled' AND p.AppointmentDate >= '{today.isoformat()}'"
            " ORDER BY p.AppointmentID",
        )
    ]  # fmt: skip
    log.info(
        "open state: %d visits, %d admissions, %d bills, %d appointments",
        len(state.visits), len(state.admissions), len(state.bills), len(state.appointments),
    )  # fmt: skip
    return state


def prepare(conn: pyodbc.Connection, gen: Generator, now_local: dt.datetime) -> None:
    """Set the generator's ids, clock and open state from the database."""
    identity = [t for t in TABLES.values() if t.identity]
    ids = db.max_ids(conn, identity)
    gen.set_start_ids(ids, ids["Patients"])
    gen.start_at(now_local)
    gen.adopt(read_open_state(conn, now_local.date()))


def run_live(
    conn: pyodbc.Connection,
    dialect: Dialect,
    gen: Generator,
    speed: float,
    duration: float | None = None,
    tick: float = 1.0,
    start: dt.datetime | None = None,
) -> int:
    """Run until `duration` real seconds have passed (forever when None); return ops written."""
    sim = gen.local(start or dt.datetime.now(dt.UTC))
    prepare(conn, gen, sim)
    writer = Writer(conn, dialect)
    began = time.monotonic()
    log.info("live simulation from %s at %.1fx", sim.isoformat(), speed)
    while True:
        elapsed = time.monotonic() - began
        if duration is not None and elapsed >= duration:
            break
        time.sleep(min(tick, duration - elapsed) if duration is not None else tick)
        target = gen.local(sim) + dt.timedelta(seconds=(time.monotonic() - began) * speed)
        target = target.replace(microsecond=0)
        writer.apply(gen.run(gen.clock, target))
        log.debug("simulated up to %s", target.isoformat())
    writer.sync_identities()
    log.info("live simulation stopped at %s after %d operations", gen.clock, writer.written)
    return writer.written
