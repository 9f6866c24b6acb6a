"""`hospital-exporter simulate ...` and `hospital-exporter snapshot ...` subcommands."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import time
from zoneinfo import ZoneInfo

from exporter.simulate import db, dialect, live, snapshot
from exporter.simulate.generator import Generator
from exporter.simulate.schema import TABLES
from exporter.simulate.writer import Writer

log = logging.getLogger(__name__)


def _db_flags(parser: argparse.ArgumentParser) -> None:
    env = os.environ.get
    parser.add_argument(
        "--db.dsn", dest="db_dsn", default=env("HOSPITAL_DB_DSN", ""),
        help="ODBC connection string without password (env HOSPITAL_DB_DSN); the password "
        "comes from env HOSPITAL_DB_PASSWORD",
    )  # fmt: skip
    parser.add_argument(
        "--db.dialect", dest="db_dialect", choices=sorted(dialect.DIALECTS),
        default=env("HOSPITAL_DB_DIALECT", "postgres"),
        help="database kind (env HOSPITAL_DB_DIALECT)",
    )  # fmt: skip
    parser.add_argument(
        "--timezone", default=env("HOSPITAL_TIMEZONE", "UTC"),
        help="the hospital's IANA time zone; table times are its wall clock "
        "(env HOSPITAL_TIMEZONE)",
    )  # fmt: skip


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def register(subparsers) -> None:
    fmt = argparse.ArgumentDefaultsHelpFormatter
    sim = subparsers.add_parser("simulate", help="generate hospital activity in the database")
    sim_sub = sim.add_subparsers(dest="simulate_command", required=True)

    week = sim_sub.add_parser("week", help="write days of history ending at --end",
                              formatter_class=fmt)  # fmt: skip
    _db_flags(week)
    week.add_argument("--seed", type=int, default=1)
    week.add_argument("--end", type=dt.datetime.fromisoformat, default=None,
                      help="end of the history (ISO-8601; no zone = hospital local time); "
                      "default now")  # fmt: skip
    week.add_argument("--days", type=int, default=7)
    week.add_argument("--visits-per-day", type=int, default=400)
    week.set_defaults(func=cmd_week)

    run = sim_sub.add_parser("live", help="go on from the database's state in real time",
                             formatter_class=fmt)  # fmt: skip
    _db_flags(run)
    run.add_argument("--seed", type=int, default=1)
    run.add_argument("--speed", type=float, default=1.0, help="simulated seconds per second")
    run.add_argument("--duration", type=float, default=None, help="real seconds; default forever")
    run.add_argument("--visits-per-day", type=int, default=400)
    run.set_defaults(func=cmd_live)

    load = sim_sub.add_parser("load-schema", help="run sql/<dialect>/01..04 scripts",
                              formatter_class=fmt)  # fmt: skip
    _db_flags(load)
    load.set_defaults(func=cmd_load_schema)

    snap = subparsers.add_parser("snapshot", help="weekly snapshot tables")
    snap_sub = snap.add_subparsers(dest="snapshot_command", required=True)
    take = snap_sub.add_parser("run", help="call RunWeeklySnapshot", formatter_class=fmt)
    _db_flags(take)
    take.add_argument("--week-start", type=_date, default=None,
                      help="the Monday of the week; default last week")  # fmt: skip
    take.set_defaults(func=cmd_snapshot_run)
    export = snap_sub.add_parser("export", help="write a week's Weekly_* tables to CSV",
                                 formatter_class=fmt)  # fmt: skip
    _db_flags(export)
    export.add_argument("--week-start", type=_date, required=True)
    export.add_argument("--out", required=True, help="output folder")
    export.set_defaults(func=cmd_snapshot_export)


def _connect(args):
    return db.connect(args.db_dsn), dialect.get(args.db_dialect)


def cmd_week(args) -> int:
    conn, d = _connect(args)
    gen = Generator(args.seed, args.timezone, args.visits_per_day)
    end = args.end or dt.datetime.now(ZoneInfo(args.timezone))
    ids = db.max_ids(conn, [t for t in TABLES.values() if t.identity])
    gen.set_start_ids(ids, ids["Patients"])
    began = time.monotonic()
    writer = Writer(conn, d)
    count = writer.apply(gen.days(gen.local(end) - dt.timedelta(days=args.days), args.days))
    writer.sync_identities()
    log.info("wrote %d operations in %.1fs", count, time.monotonic() - began)
    print(f"{count} operations written, history up to {gen.local(end).isoformat()}")
    return 0


def cmd_live(args) -> int:
    conn, d = _connect(args)
    gen = Generator(args.seed, args.timezone, args.visits_per_day)
    try:
        live.run_live(conn, d, gen, args.speed, args.duration)
    except KeyboardInterrupt:
        log.info("live simulation interrupted")
    return 0


def cmd_load_schema(args) -> int:
    conn, d = _connect(args)
    db.load_scripts(conn, d.name)
    password = os.environ.get("HOSPITAL_DEBEZIUM_PASSWORD")
    if password and d.name == "postgres":
        db.set_role_password(conn, "debezium", password)
    print(f"schema loaded ({d.name})")
    return 0


def cmd_snapshot_run(args) -> int:
    conn, d = _connect(args)
    snapshot.run_snapshot(conn, d, args.week_start)
    return 0


def cmd_snapshot_export(args) -> int:
    conn, _d = _connect(args)
    files = snapshot.export_week(conn, args.week_start, args.out)
    for path in files.values():
        print(path)
    return 0
