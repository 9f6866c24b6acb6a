"""A throw-away PostgreSQL 15 server on 127.0.0.1 for tests and the demo.

    with PostgresServer(base_dir, log_dir) as pg:
        pg.setup_hospital(debezium_password="...")   # database, schema, reference data, CDC
        conn = pyodbc.connect(pg.odbc_dsn("hospital_salam"))

The server runs as the unprivileged ``postgres`` user (PostgreSQL refuses root), with
``wal_level=logical`` so that Debezium can decode the write-ahead log. Local roles are
trusted on 127.0.0.1; the ``debezium`` role alone must give its password, as it would in
production. Leaving the ``with`` block stops the server (fast shutdown).
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

from devstack.process import Service, free_port

log = logging.getLogger(__name__)

PG_BIN = Path(os.environ.get("HOSPITAL_PG_BIN", "/usr/lib/postgresql/15/bin"))
REPO = Path(__file__).resolve().parent.parent
SQL_DIR = REPO / "sql" / "postgres"
DATABASE = "hospital_salam"
SUPERUSER = "postgres"
DEBEZIUM_ROLE = "debezium"
# The scripts a hospital database needs, in order; 05 (the pg_cron job) is optional.
SETUP_SCRIPTS = ("01_schema.sql", "02_reference_data.sql", "03_cdc.sql", "04_weekly_snapshot.sql")

HBA = """\
# Debezium authenticates with its password, like it would in production.
host    replication  debezium  127.0.0.1/32  scram-sha-256
host    all          debezium  127.0.0.1/32  scram-sha-256
# Every other role is a local test role: trusted, on the loopback address only.
local   all          all                     trust
host    all          all       127.0.0.1/32  trust
"""


def _os_user() -> str | None:
    """The account to run the server as: `postgres` when we are root, else ourselves."""
    return "postgres" if os.geteuid() == 0 else None


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class PostgresServer:
    """One PostgreSQL cluster in `base_dir`; a context manager that always stops it."""

    def __init__(self, base_dir: Path, log_dir: Path, port: int | None = None) -> None:
        self.base_dir = Path(base_dir)
        self.log_dir = Path(log_dir)
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.user = _os_user()
        self._own_dir: Path | None = None
        self.service: Service | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> PostgresServer:
        root = self._cluster_root()
        data, sock = root / "data", root / "sock"
        sock.mkdir(parents=True, exist_ok=True)
        self._chown(root)
        if not (data / "PG_VERSION").exists():
            self._initdb(data)
        argv = [
            str(PG_BIN / "postgres"), "-D", str(data),
            "-c", f"port={self.port}",
            "-c", "listen_addresses=127.0.0.1",
            "-c", f"unix_socket_directories={sock}",
            # Logical decoding (Debezium's pgoutput) needs the full logical WAL level.
            "-c", "wal_level=logical",
            "-c", "max_replication_slots=10",
            "-c", "max_wal_senders=10",
            "-c", "fsync=off",  # a test cluster: durability across power loss is not needed
            "-c", "TimeZone=UTC",
        ]  # fmt: skip
        self.service = Service("postgres", argv, self.log_dir, user=self.user).start()
        self.service.wait_ready(lambda: self._psql("SELECT 1", "postgres") == "1", timeout=60)
        log.info("PostgreSQL ready on %s:%d", self.host, self.port)
        return self

    def stop(self) -> None:
        if self.service is not None:
            # SIGINT is PostgreSQL's "fast" shutdown: abort sessions, checkpoint, exit.
            self.service.stop(timeout=30, sig=signal.SIGINT)
            self.service = None
        if self._own_dir is not None:
            shutil.rmtree(self._own_dir, ignore_errors=True)
            self._own_dir = None

    def __enter__(self) -> PostgresServer:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- clients ---------------------------------------------------------------------------

    def odbc_dsn(self, database: str = DATABASE, user: str = SUPERUSER) -> str:
        """An ODBC connection string for the PostgreSQL Unicode driver (no password)."""
        return (
            f"Driver={{PostgreSQL Unicode}};Server={self.host};Port={self.port};"
            f"Database={database};Uid={user};BoolsAsChar=0;"
        )

    def psql(self, sql: str, database: str = DATABASE) -> str:
        """Run SQL through psql (meta-commands allowed); return its unaligned output."""
        return self._psql(sql, database)

    def run_file(self, path: Path, database: str = DATABASE) -> None:
        log.info("loading %s into %s", path.name, database)
        self._psql(Path(path).read_text(encoding="utf-8"), database)

    def create_database(self, name: str = DATABASE, template: str | None = None) -> None:
        clause = f" TEMPLATE {template}" if template else ""
        self._psql(f"CREATE DATABASE {name}{clause} ENCODING 'UTF8'", "postgres")
        # A database-level setting is not copied from a template, so set it every time.
        self._psql(f"ALTER DATABASE {name} SET search_path = dbo, public", "postgres")

    def drop_database(self, name: str) -> None:
        self._psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", "postgres")

    def setup_hospital(
        self,
        database: str = DATABASE,
        debezium_password: str | None = None,
        scripts: Iterable[str] = SETUP_SCRIPTS,
    ) -> None:
        """Create the hospital database and load the numbered scripts into it."""
        self.create_database(database)
        for name in scripts:
            self.run_file(SQL_DIR / name, database)
        if debezium_password is not None:
            self.set_password(DEBEZIUM_ROLE, debezium_password)

    def set_password(self, role: str, password: str) -> None:
        self._psql(f"ALTER ROLE {role} PASSWORD {_sql_literal(password)}", "postgres")

    # -- internals -------------------------------------------------------------------------

    def _cluster_root(self) -> Path:
        """`base_dir`, or a private folder in /tmp when the server's user cannot reach it."""
        self.base_dir.mkdir(parents=True, exist_ok=True)
        if self.user is None or self._reachable(self.base_dir):
            return self.base_dir
        # pytest's temporary folders are 0700 root; the postgres user cannot enter them.
        self._own_dir = Path(tempfile.mkdtemp(prefix="hospital-pg-", dir="/tmp"))
        log.info("%s is not reachable by %s; using %s", self.base_dir, self.user, self._own_dir)
        return self._own_dir

    def _reachable(self, path: Path) -> bool:
        probe = ["runuser", "-u", self.user, "--", "test", "-x", str(path)]
        return subprocess.run(probe, check=False).returncode == 0

    def _chown(self, root: Path) -> None:
        if self.user is None:
            return
        entry = pwd.getpwnam(self.user)
        for path in [root, *root.rglob("*")]:
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _initdb(self, data: Path) -> None:
        argv = [
            str(PG_BIN / "initdb"), "-D", str(data), "-U", SUPERUSER,
            "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8",
        ]  # fmt: skip
        if self.user is not None:
            argv = ["runuser", "-u", self.user, "--", *argv]
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / "initdb.log", "ab") as out:
            subprocess.run(argv, check=True, stdout=out, stderr=subprocess.STDOUT)
        (data / "pg_hba.conf").write_text(HBA)
        self._chown(data)

    def _psql(self, sql: str, database: str) -> str:
        argv = [
            str(PG_BIN / "psql"), "-h", self.host, "-p", str(self.port), "-U", SUPERUSER,
            "-d", database, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-f", "-",
        ]  # fmt: skip
        done = subprocess.run(argv, input=sql, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"psql failed on {database}: {done.stderr.strip()}")
        return done.stdout.strip()
