"""A Kafka Connect worker with the Debezium PostgreSQL plugin, on 127.0.0.1.

Distributed mode, although there is one worker: connector configurations, source offsets and
statuses live in Kafka topics as they do in production, so a restarted worker resumes the
registered connector by itself (standalone mode forgets connectors on restart and keeps
offsets in a local file, which would make the re-delivery test exercise a different path).
"""

from __future__ import annotations

import json
import logging
import urllib.request
from pathlib import Path

from devstack.kafka import java_command
from devstack.process import CACHE_DIR, Service, free_port

log = logging.getLogger(__name__)

DEBEZIUM_POSTGRES = CACHE_DIR / "debezium-postgres"
DEFAULT_HEAP = "-Xmx768m"
WORKER_MAIN = "org.apache.kafka.connect.cli.ConnectDistributed"

LOG4J2_TEMPLATE = """\
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = {log_file}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %X{{connector.context}}%m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.reflections.name = org.reflections
logger.reflections.level = ERROR
logger.clients.name = org.apache.kafka.clients
logger.clients.level = WARN
"""


class ConnectWorker:
    """One distributed-mode worker; `restart()` keeps its REST port and its Kafka topics."""

    def __init__(
        self,
        base_dir: Path,
        log_dir: Path,
        bootstrap: str,
        port: int | None = None,
        plugins: tuple[Path, ...] = (DEBEZIUM_POSTGRES,),
        env: dict[str, str] | None = None,
        group_id: str = "hospital-connect",
        heap: str = DEFAULT_HEAP,
    ) -> None:
        self.base_dir = Path(base_dir)
        self.log_dir = Path(log_dir)
        self.bootstrap = bootstrap
        self.port = port or free_port()
        self.plugins = plugins
        self.env = env or {}
        self.group_id = group_id
        self.heap = heap
        self.properties = self.base_dir / "worker.properties"
        self.log4j_file = self.base_dir / "log4j2.properties"
        self.plugin_dir = self.base_dir / "plugins"
        self.service: Service | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- configuration -----------------------------------------------------------------------

    def _worker_properties(self) -> str:
        prefix = self.group_id
        settings = {
            "bootstrap.servers": self.bootstrap,
            "group.id": self.group_id,
            "key.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "key.converter.schemas.enable": "true",
            "value.converter.schemas.enable": "true",
            "config.storage.topic": f"{prefix}.configs",
            "offset.storage.topic": f"{prefix}.offsets",
            "status.storage.topic": f"{prefix}.status",
            "config.storage.replication.factor": "1",
            "offset.storage.replication.factor": "1",
            "status.storage.replication.factor": "1",
            "offset.storage.partitions": "5",
            "status.storage.partitions": "1",
            # Flush source offsets often: a crash re-delivers at most this much history.
            "offset.flush.interval.ms": "2000",
            # With one worker, a restart would otherwise hold its tasks unassigned for up to
            # five minutes waiting for the "departed" worker to return.
            "scheduled.rebalance.max.delay.ms": "0",
            "listeners": f"http://127.0.0.1:{self.port}",
            "rest.advertised.host.name": "127.0.0.1",
            "rest.advertised.port": str(self.port),
            "plugin.path": str(self.plugin_dir),
            # Every plugin ships ServiceLoader manifests; skipping the class-path scan saves
            # several seconds per start.
            "plugin.discovery": "service_load",
            "topic.creation.enable": "true",
            # Connector configurations name secrets as ${env:VAR} or ${file:path:key}; the
            # worker resolves them, the stored configuration keeps the placeholder.
            "config.providers": "env,file",
            "config.providers.env.class": (
                "org.apache.kafka.common.config.provider.EnvVarConfigProvider"
            ),
            "config.providers.file.class": (
                "org.apache.kafka.common.config.provider.FileConfigProvider"
            ),
        }
        return "".join(f"{key}={value}\n" for key, value in settings.items())

    def _link_plugins(self) -> None:
        """plugin.path wants a folder of plugin folders; link each cached plugin into one."""
        self.plugin_dir.mkdir(parents=True, exist_ok=True)
        for plugin in self.plugins:
            if not Path(plugin).is_dir():
                raise FileNotFoundError(f"{plugin} is missing; run scripts/fetch-jvm.sh")
            link = self.plugin_dir / Path(plugin).name
            if not link.exists():
                link.symlink_to(Path(plugin).resolve(), target_is_directory=True)

    def _write_config(self) -> None:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._link_plugins()
        self.properties.write_text(self._worker_properties())
        self.log4j_file.write_text(LOG4J2_TEMPLATE.format(log_file=self.log_dir / "connect.log"))

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, timeout: float = 120) -> ConnectWorker:
        self._write_config()
        argv = java_command(
            WORKER_MAIN, str(self.properties), log4j_file=self.log4j_file, heap=self.heap
        )
        self.service = Service("connect-stdout", argv, self.log_dir, env=self.env)
        self.service.start()
        self.wait_ready(timeout)
        log.info("kafka connect ready on %s", self.url)
        return self

    def wait_ready(self, timeout: float = 120) -> None:
        """Until the REST API lists the plugins and the worker has joined its group."""
        if self.service is None:
            raise RuntimeError("connect worker not started")
        self.service.wait_ready(self._plugins_loaded, timeout)
        self.service.wait_ready(lambda: isinstance(self.get("/connectors"), list), timeout)

    def _plugins_loaded(self) -> bool:
        return bool(self.get("/connector-plugins"))

    def get(self, path: str):
        with urllib.request.urlopen(self.url + path, timeout=5) as response:
            return json.load(response)

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop(timeout=30)

    def kill(self) -> None:
        if self.service is not None:
            self.service.kill()

    def restart(self, timeout: float = 120) -> None:
        self.stop()
        self.start(timeout)

    def __enter__(self) -> ConnectWorker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
