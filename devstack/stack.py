"""The local pipeline, wired end to end: PostgreSQL -> Debezium/Connect -> Kafka -> exporter
-> Prometheus -> Alertmanager. Used by `make demo` and by the end-to-end test.

Start order follows the data: a database with its schema and history, the broker with the
table topics created up front (so the exporter can subscribe before a table has a row), the
Connect worker and its connector, the exporter (until /ready), then monitoring.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from devstack.connect import ConnectWorker
from devstack.kafka import KafkaBroker
from devstack.process import Service, free_port, port_open

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent
CONNECTOR_FILE = REPO / "connect" / "postgres.json"
EXPORTER_CONFIG = REPO / "config" / "postgres-local.yml"
TABLES = (
    "visits",
    "visitstatushistory",
    "admissions",
    "bills",
    "visitclassification",
    "visitstatus",
    "speciality",
    "doctor_speciality",
)
TOPICS = tuple(f"hospital.dbo.{table}" for table in TABLES)
# The customary ports, used when free: the seed's HTML dashboard expects the exporter on
# 5000. Kafka's controller gets a free port, as its customary 9093 is Alertmanager's.
WELL_KNOWN_PORTS = {
    "postgres": 5432,
    "kafka": 9092,
    "connect": 8083,
    "exporter": 5000,
    "prometheus": 9090,
    "alertmanager": 9093,
}


@dataclass
class Settings:
    run_dir: Path
    log_dir: Path
    # The local stack's replication role gets a new random password each time it starts.
    debezium_password: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    preferred_ports: dict[str, int] = field(default_factory=dict)
    webhook_url: str | None = None
    scrape_interval: str = "1s"
    load_week: bool = True
    monitoring: bool = True


def hospital_exporter() -> list[str]:
    """The console script of the environment we run in (the project's venv)."""
    beside = Path(sys.executable).parent / "hospital-exporter"
    found = str(beside) if beside.exists() else shutil.which("hospital-exporter")
    if not found:
        raise FileNotFoundError("hospital-exporter is not installed; run `make deps`")
    return [found]


def hospital_timezone() -> str:
    """The exporter's time zone; the simulator must write wall-clock times in the same one."""
    settings = yaml.safe_load(EXPORTER_CONFIG.read_text()) or {}
    return settings.get("timezone", "UTC")


def _http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as response:
        return response.status == 200


class Stack:
    """All services of the local pipeline; a context manager that stops them in reverse."""

    def __init__(self, settings: Settings, on_start: Callable[[Stack], None] | None = None):
        self.settings = settings
        self.on_start = on_start or (lambda _stack: None)
        self.ports = {name: self._port(name) for name in WELL_KNOWN_PORTS}
        self.postgres = None
        self.kafka: KafkaBroker | None = None
        self.connect: ConnectWorker | None = None
        self.exporter: Service | None = None
        self.simulator: Service | None = None
        self.prometheus = None
        self.alertmanager = None
        self._cleanup = contextlib.ExitStack()

    def _port(self, name: str) -> int:
        preferred = self.settings.preferred_ports.get(name)
        if preferred and not port_open(preferred):
            return preferred
        return free_port()

    @property
    def exporter_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['exporter']}"

    @property
    def connector_env(self) -> dict[str, str]:
        return {"HOSPITAL_DEBEZIUM_PASSWORD": self.settings.debezium_password}

    # -- start -------------------------------------------------------------------------------

    def __enter__(self) -> Stack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        self._start_database()
        self._start_kafka()
        self._start_connect()
        self.start_exporter()
        if self.settings.monitoring:
            self._start_monitoring()

    def _start_database(self) -> None:
        from devstack.postgres import PostgresServer

        base = self.settings.run_dir / "postgres"
        self.postgres = PostgresServer(base, self.settings.log_dir, port=self.ports["postgres"])
        self._cleanup.enter_context(self.postgres)
        self.on_start(self)
        self.postgres.setup_hospital(debezium_password=self.settings.debezium_password)
        if self.settings.load_week:
            self.simulate("week")

    def _start_kafka(self) -> None:
        base = self.settings.run_dir / "kafka"
        self.kafka = KafkaBroker(base, self.settings.log_dir, port=self.ports["kafka"])
        self._cleanup.enter_context(self.kafka)
        self.on_start(self)
        self.kafka.create_topics(TOPICS, partitions=3, compact=True)

    def _start_connect(self) -> None:
        self.connect = ConnectWorker(
            self.settings.run_dir / "connect",
            self.settings.log_dir,
            self.kafka.bootstrap,
            port=self.ports["connect"],
            env=self.connector_env,
        )
        self._cleanup.enter_context(self.connect)
        self.on_start(self)
        self.apply_connector()

    def apply_connector(self, timeout: float = 120) -> None:
        """Register through the same command operators use: `hospital-exporter connector`."""
        argv = [
            *hospital_exporter(),
            "connector",
            "apply",
            str(CONNECTOR_FILE),
            "--connect-url",
            self.connect.url,
            "--set",
            f"database.port={self.postgres.port}",
            "--timeout",
            str(timeout),
        ]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"connector registration failed: {done.stderr.strip()}")
        log.info("%s", done.stdout.strip())

    def start_exporter(self, timeout: float = 120) -> None:
        argv = [
            *hospital_exporter(),
            "serve",
            "--config",
            str(EXPORTER_CONFIG),
            "--web.listen-address",
            f"127.0.0.1:{self.ports['exporter']}",
            "--kafka.bootstrap-servers",
            self.kafka.bootstrap,
        ]
        self.exporter = Service("exporter", argv, self.settings.log_dir, cwd=REPO)
        self._cleanup.callback(self.exporter.stop)
        self.exporter.start()
        self.on_start(self)
        self.exporter.wait_ready(lambda: _http_ok(f"{self.exporter_url}/ready"), timeout)

    def restart_exporter(self, timeout: float = 120) -> None:
        self.exporter.stop()
        self.start_exporter(timeout)

    def _start_monitoring(self) -> None:
        from devstack.prometheus import AlertmanagerServer, PrometheusServer

        base, logs = self.settings.run_dir, self.settings.log_dir
        webhook = self.settings.webhook_url or "http://127.0.0.1:9/unused"
        self.alertmanager = AlertmanagerServer(
            base / "alertmanager", logs, webhook, port=self.ports["alertmanager"]
        )
        self._cleanup.enter_context(self.alertmanager)
        self.prometheus = PrometheusServer(
            base / "prometheus",
            logs,
            exporter_target=f"127.0.0.1:{self.ports['exporter']}",
            alertmanager=self.alertmanager.url,
            port=self.ports["prometheus"],
            scrape_interval=self.settings.scrape_interval,
        )
        self._cleanup.enter_context(self.prometheus)
        self.on_start(self)

    # -- the database side -------------------------------------------------------------------

    def simulate(self, action: str, *extra: str) -> None:
        """Run a `hospital-exporter simulate` step against the local database to completion."""
        argv = [*hospital_exporter(), "simulate", action, *self._database_flags(), *extra]
        done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=REPO)
        if done.returncode != 0:
            raise RuntimeError(f"simulate {action} failed: {done.stderr.strip()[-500:]}")

    def start_simulator(self, speed: str = "60") -> None:
        argv = [
            *hospital_exporter(),
            "simulate",
            "live",
            *self._database_flags(),
            "--speed",
            str(speed),
        ]
        self.simulator = Service("simulator", argv, self.settings.log_dir, cwd=REPO)
        self._cleanup.callback(self.simulator.stop)
        self.simulator.start()
        self.on_start(self)

    def _database_flags(self) -> list[str]:
        return [
            "--db.dialect",
            "postgres",
            "--db.dsn",
            self.postgres.odbc_dsn(),
            "--timezone",
            hospital_timezone(),
        ]

    # -- supervision -------------------------------------------------------------------------

    def services(self) -> dict[str, Service]:
        found = {
            "postgres": getattr(self.postgres, "service", None),
            "kafka": getattr(self.kafka, "service", None),
            "connect": getattr(self.connect, "service", None),
            "exporter": self.exporter,
            "alertmanager": getattr(self.alertmanager, "service", None),
            "prometheus": getattr(self.prometheus, "service", None),
            "simulator": self.simulator,
        }
        return {name: service for name, service in found.items() if service is not None}

    def process_groups(self) -> dict[str, int]:
        return {
            name: service.proc.pid
            for name, service in self.services().items()
            if service.proc is not None and service.running
        }

    def check_alive(self) -> None:
        """Raise, with the log's tail, if a service died behind our back."""
        for service in self.services().values():
            service.check_alive()

    def stop(self) -> None:
        self._cleanup.close()
