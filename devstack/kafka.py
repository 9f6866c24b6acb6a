"""A single-node Apache Kafka (KRaft, broker and controller in one JVM) for tests and the demo."""

from __future__ import annotations

import base64
import logging
import os
import subprocess
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

from devstack.process import CACHE_DIR, Service, free_port, port_open, wait_until

log = logging.getLogger(__name__)

KAFKA_LIBS = CACHE_DIR / "kafka-libs"
DEFAULT_HEAP = "-Xmx512m"

# log4j2 in the properties syntax, so that no YAML/JSON parser is needed on the class path.
LOG4J2_TEMPLATE = """\
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = {log_file}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.apache.name = org.apache.kafka
logger.apache.level = INFO
"""


def java_command(main_class: str, *args: str, log4j_file: Path, heap: str = DEFAULT_HEAP):
    """The java invocation for a Kafka main class with the cached jars on the class path."""
    if not KAFKA_LIBS.is_dir():
        raise FileNotFoundError(f"{KAFKA_LIBS} is missing; run scripts/fetch-jvm.sh")
    return [
        "java",
        heap,
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={log4j_file}",
        "-cp",
        f"{KAFKA_LIBS}/*",
        main_class,
        *args,
    ]


def new_cluster_id() -> str:
    """16 random bytes, URL-safe base64 without padding, as Kafka's StorageTool expects.

    An id that starts with "-" would be read as an option on the command line, so one is
    drawn again, as Kafka's own generator does."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


class KafkaBroker:
    """One combined KRaft node on 127.0.0.1.

    `restart()` keeps the data folder and both ports, so clients can reconnect to the same
    bootstrap address and find their topics and offsets.
    """

    def __init__(
        self,
        base_dir: Path,
        log_dir: Path,
        port: int | None = None,
        controller_port: int | None = None,
        heap: str = DEFAULT_HEAP,
    ) -> None:
        self.base_dir = Path(base_dir)
        self.log_dir = Path(log_dir)
        self.port = port or free_port()
        self.controller_port = controller_port or free_port()
        self.heap = heap
        self.data_dir = self.base_dir / "data"
        self.properties = self.base_dir / "server.properties"
        self.log4j_file = self.base_dir / "log4j2.properties"
        self.service: Service | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    # -- configuration ---------------------------------------------------------------------

    def _server_properties(self) -> str:
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": (
                f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}"
            ),
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": "3",
            # One broker: every internal topic must live with a single replica.
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            # Consumers join at once instead of waiting 3 s for more members.
            "group.initial.rebalance.delay.ms": "0",
            # Compaction runs often enough that a test can observe it within seconds.
            "log.cleaner.backoff.ms": "1000",
            "auto.create.topics.enable": "true",
        }
        return "".join(f"{key}={value}\n" for key, value in settings.items())

    def _write_config(self) -> None:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.properties.write_text(self._server_properties())
        self.log4j_file.write_text(LOG4J2_TEMPLATE.format(log_file=self.log_dir / "kafka.log"))

    def _format_storage(self) -> None:
        """Format the data folder once; `-g` makes a second run on formatted storage a no-op."""
        if (self.data_dir / "meta.properties").exists():
            return
        argv = java_command(
            "kafka.tools.StorageTool",
            "format",
            "-t",
            new_cluster_id(),
            "-c",
            str(self.properties),
            "-g",
            log4j_file=self.log4j_file,
            heap="-Xmx256m",
        )
        result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"kafka storage format failed: {result.stderr or result.stdout}")

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, timeout: float = 90) -> KafkaBroker:
        self._write_config()
        self._format_storage()
        argv = java_command(
            "kafka.Kafka", str(self.properties), log4j_file=self.log4j_file, heap=self.heap
        )
        # The JVM's own stdout (GC warnings, fatal errors) goes to a separate file; the broker
        # itself logs through log4j2 into kafka.log.
        self.service = Service("kafka-stdout", argv, self.log_dir, cwd=self.base_dir)
        self.service.start()
        self.wait_ready(timeout)
        log.info("kafka ready on %s", self.bootstrap)
        return self

    def wait_ready(self, timeout: float = 90) -> None:
        """Until the broker answers metadata requests (a listening port is not enough)."""
        if self.service is None:
            raise RuntimeError("kafka broker not started")
        self.service.wait_ready(lambda: port_open(self.port), timeout)
        self.service.wait_ready(self._answers_metadata, timeout)

    def _answers_metadata(self) -> bool:
        admin = self.admin()
        try:
            return bool(admin.describe_cluster().get("brokers"))
        finally:
            admin.close()

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop(timeout=30)
            wait_until(lambda: not port_open(self.port), 15, "kafka port release")

    def kill(self) -> None:
        """SIGKILL, as a crash would; the data folder stays for a later start()."""
        if self.service is not None:
            self.service.kill()

    def restart(self, timeout: float = 90) -> None:
        self.stop()
        self.start(timeout)

    def __enter__(self) -> KafkaBroker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- topics ------------------------------------------------------------------------------

    def admin(self):
        from kafka.admin import KafkaAdminClient

        return KafkaAdminClient(
            bootstrap_servers=self.bootstrap, client_id="devstack-admin", request_timeout_ms=10000
        )

    def create_topics(
        self, names: Iterable[str], partitions: int = 3, compact: bool = True
    ) -> None:
        """Create the topics that do not exist yet; existing ones are left as they are."""
        from kafka.admin import NewTopic
        from kafka.errors import TopicAlreadyExistsError

        configs = {"cleanup.policy": "compact"} if compact else {}
        admin = self.admin()
        try:
            existing = set(admin.list_topics())
            wanted = [
                NewTopic(name, partitions, 1, topic_configs=configs)
                for name in names
                if name not in existing
            ]
            if not wanted:
                return
            try:
                admin.create_topics(wanted, timeout_ms=30000)
            except TopicAlreadyExistsError:
                pass  # raced with auto-creation or another caller
        finally:
            admin.close()
        self._wait_topics_visible([t.name for t in wanted])

    def _wait_topics_visible(self, names: list[str]) -> None:
        def visible() -> bool:
            admin = self.admin()
            try:
                return set(names) <= set(admin.list_topics())
            finally:
                admin.close()

        wait_until(visible, 30, f"topics {', '.join(names)}")


def main() -> None:
    """Run a broker in the foreground (handy when debugging the exporter by hand)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    base = Path(os.environ.get("KAFKA_BASE_DIR", "run/kafka"))
    with KafkaBroker(base, base / "logs") as broker:
        print(f"kafka on {broker.bootstrap}; Ctrl-C stops it", flush=True)
        try:
            while broker.service.running:
                time.sleep(1)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
