"""The broker the replay reads: a simulated period produced once, kept under the cache.

Producing millions of messages through kafka-python's producer takes far longer than the
replay itself, so the simulator's messages are piped as `key<TAB>value` lines into one
`kcat -P` per topic (librdkafka, batched, no per-message future). A tombstone is an empty
value, sent as a null with `-Z`. The murmur2 partitioner is the one Java and kafka-python
clients use, so every version of a row lands on the partition a Debezium connector would use.

The data folder is reused by a later run with the same parameters: `produced.json` marks a
complete load, and the broker is restarted on its former ports, which its KRaft metadata
expects.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

from bench.common import CACHE, HOSPITAL_TZ, SIM_END
from devstack.kafka import KafkaBroker
from devstack.process import free_port, port_open
from tests.support.debezium import Encoder
from tests.support.feed import TABLES, messages, simulated_operations

PREFIX = "benchreplay"
SEED = 17


def topics() -> list[str]:
    return [Encoder(topic_prefix=PREFIX).topic(table) for table in TABLES]


def folder(days: int, visits_per_day: int, schemas: bool) -> Path:
    return CACHE / f"broker-{days}d-{visits_per_day}v-seed{SEED}-{'schemas' if schemas else 'bare'}"


def started(days: int, visits_per_day: int, schemas: bool) -> tuple[KafkaBroker, dict]:
    """A running broker holding the topics, and what was produced (count, seconds, bytes)."""
    base = folder(days, visits_per_day, schemas)
    marker = base / "produced.json"
    if base.exists() and not marker.exists():
        shutil.rmtree(base)  # an interrupted first run: start over
    ports = _ports(base)
    broker = KafkaBroker(base, base / "logs", heap="-Xmx1g", **ports)
    broker.start(timeout=300)
    pin_tree(broker.service.proc.pid, "1")
    if marker.exists():
        return broker, json.loads(marker.read_text())
    try:
        broker.create_topics(topics(), partitions=3, compact=True)
        produced = load(broker.bootstrap, days, visits_per_day, schemas)
    except BaseException:
        broker.stop()
        raise
    produced["ports"] = {"port": broker.port, "controller_port": broker.controller_port}
    marker.write_text(json.dumps(produced))
    return broker, produced


def _ports(base: Path) -> dict[str, int]:
    """The ports of the first start when they are free, as the stored metadata names them."""
    marker = base / "produced.json"
    if marker.exists():
        ports = json.loads(marker.read_text()).get("ports", {})
        if ports and not any(port_open(p) for p in ports.values()):
            return ports
    return {"port": free_port(), "controller_port": free_port()}


def pin_tree(pid: int, cpus: str) -> None:
    # Every thread of the process (a JVM has dozens), not only its main thread.
    subprocess.run(["taskset", "-a", "-cp", cpus, str(pid)], capture_output=True, check=False)


def load(bootstrap: str, days: int, visits_per_day: int, schemas: bool) -> dict:
    """Pipe the simulated period into one kcat producer per topic; count what was sent."""
    encoder = Encoder(flavor="postgres", schemas=schemas, topic_prefix=PREFIX)
    operations = simulated_operations(
        seed=SEED, tz=HOSPITAL_TZ, end_local=SIM_END, hours=24 * days, visits_per_day=visits_per_day
    )
    producers = {topic: _kcat(bootstrap, topic) for topic in topics()}
    count = size = 0
    began = time.monotonic()
    try:
        for topic, key, value in messages(operations, encoder, HOSPITAL_TZ):
            line = key + b"\t" + (value or b"") + b"\n"
            producers[topic].stdin.write(line)
            count += 1
            size += len(line)
    finally:
        for process in producers.values():
            process.stdin.close()
        failures = [topic for topic, p in producers.items() if p.wait(timeout=900) != 0]
    if failures:
        raise RuntimeError(f"kcat failed for {', '.join(failures)}")
    return {"messages": count, "bytes": size, "seconds": time.monotonic() - began}


def _kcat(bootstrap: str, topic: str) -> subprocess.Popen:
    argv = [
        "kcat",
        "-P",
        "-b",
        bootstrap,
        "-t",
        topic,
        "-K",
        "\t",
        "-Z",
        "-X",
        "topic.partitioner=murmur2_random",
        "-X",
        "linger.ms=50",
        "-X",
        "batch.size=1000000",
        "-X",
        "queue.buffering.max.kbytes=262144",
        "-X",
        "acks=1",
    ]
    process = subprocess.Popen(argv, stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
    pin_tree(process.pid, "1")
    return process
