"""Points 2, 3 and 5: replay from a real broker, memory after it, and scrape cost.

A simulated period of a large hospital is produced once to a broker whose data folder is kept
under ~/.cache/hospital-bench/ (a cold run builds it). Then, side by side: the raw
consume-only rate of kafka-python over the same 24 partitions, and the exporter process from
start to /ready 200. The broker's JVM is pinned to CPU 1 and the measured process to CPU 0.
"""

from __future__ import annotations

import os
import statistics
import time
import tracemalloc
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition

from bench.broker import PREFIX, pin_tree, started, topics
from bench.common import percentile, pin
from tests.support.exporter_process import ExporterProcess, http_get


def raw_consume(bootstrap: str) -> tuple[int, float, float]:
    """kafka-python reading every partition from the beginning to the end, no decoding, with
    the exporter's consumer settings: (messages, wall seconds, CPU seconds)."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        max_poll_records=5000,
        fetch_max_wait_ms=200,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    try:
        partitions = [
            TopicPartition(topic, number)
            for topic in topics()
            for number in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if ends[tp] > 0}
        count = 0
        started, cpu_started = time.perf_counter(), time.process_time()
        deadline = time.monotonic() + 1800
        while remaining and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=500).items():
                count += len(records)
                if records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
        return count, time.perf_counter() - started, time.process_time() - cpu_started
    finally:
        consumer.close()


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status_kb(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            values[name] = int(rest.split()[0])
    return values


def rows_by_table(text: str) -> dict[str, float]:
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        if family.name == "hospital_exporter_rows":
            return {s.labels["table"]: s.value for s in family.samples}
    return {}


def progress_lines(process) -> list[str]:
    return [
        line.split("INFO ", 1)[-1]
        for line in process.service.log_path.read_text().splitlines()
        if "catching up" in line or "caught up" in line
    ]


def exporter_replay(
    bootstrap: str, base: Path, scrape_requests: int, library: str = "kafka-python"
) -> dict:
    settings = {
        "topics.prefix": PREFIX,
        "log.progress-interval": 5,
        "kafka.client-library": library,
    }
    process = ExporterProcess(base, bootstrap, settings)
    started = time.perf_counter()
    process.start(wait_ready=False)
    pin_tree(process.service.proc.pid, "0")
    process.wait_ready(timeout=3600)
    seconds = time.perf_counter() - started
    try:
        cpu = cpu_seconds(process.service.proc.pid)
        memory = status_kb(process.service.proc.pid)
        # The first scrape after ready can wait behind the first pruning of the state.
        first = time.perf_counter()
        status, body = http_get(process.url("/metrics"), timeout=300)
        first_scrape_ms = (time.perf_counter() - first) * 1000
        assert status == 200, f"/metrics answered {status}"
        rows = rows_by_table(body.decode())
        scrape = {
            path: timed_gets(process.url(path), scrape_requests) for path in ("/metrics", "/stats")
        }
        progress = progress_lines(process)
    finally:
        process.stop()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "memory": memory,
        "rows": rows,
        "scrape": scrape,
        "first_scrape_ms": first_scrape_ms,
        "progress": progress,
    }


def timed_gets(url: str, count: int) -> dict[str, float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        status, body = http_get(url, timeout=120)
        times.append((time.perf_counter() - started) * 1000)
        assert status == 200 and body
    return {
        "median_ms": statistics.median(times),
        "p95_ms": percentile(times, 0.95),
        "bytes": len(body),
    }


def empty_exporter_rss(bootstrap: str, base: Path) -> int:
    """RSS of an exporter with nothing to read: the fixed cost of the process."""
    with ExporterProcess(base, bootstrap, {"topics.prefix": "benchnothing"}) as process:
        time.sleep(1)
        return status_kb(process.service.proc.pid)["VmRSS"]


def bytes_per_row_in_process(days: int = 7, visits_per_day: int = 2500) -> dict:
    """tracemalloc over applying a simulated week to a fresh state: allocations kept per row."""
    from bench.decode import encoded, exporter_pipeline, operations

    batch = encoded(operations(days, visits_per_day), "postgres", False)
    tuples = [(topic, 0, offset, key, value) for offset, (topic, key, value) in enumerate(batch)]
    tracemalloc.start()
    pipeline = exporter_pipeline()
    before = tracemalloc.get_traced_memory()[0]
    pipeline.handle_batch(tuples)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    rows = sum(len(rows) for rows in pipeline.state.rows.values())
    return {"bytes": after - before, "rows": rows, "messages": len(tuples)}


def _confluent_reader(bootstrap: str):
    """A confluent-kafka consumer assigned to every partition from its first offset, and the
    end offsets, with the exporter's fetch settings; None when confluent-kafka is not
    installed."""
    try:
        from confluent_kafka import OFFSET_BEGINNING, Consumer
        from confluent_kafka import TopicPartition as Partition
    except ImportError:
        return None
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "hospital-bench-raw",  # required by the client; nothing is committed
            "enable.auto.commit": False,
            "fetch.wait.max.ms": 200,
            "max.partition.fetch.bytes": 8 * 1024 * 1024,
            # When the reader is slower than the broker, librdkafka's prefetch queue fills
            # and it postpones the next fetch by a whole second by default: ask again soon.
            "fetch.queue.backoff.ms": 10,
        }
    )
    metadata = consumer.list_topics(timeout=10).topics
    ends = {}
    for topic in topics():
        for number in metadata[topic].partitions:
            ends[(topic, number)] = consumer.get_watermark_offsets(
                Partition(topic, number), timeout=10
            )[1]
    consumer.assign([Partition(t, n, OFFSET_BEGINNING) for t, n in ends])
    return consumer, ends


def confluent_consume(bootstrap: str) -> tuple[int, float] | None:
    """The same read with confluent-kafka (librdkafka), when it is installed."""
    reader = _confluent_reader(bootstrap)
    if reader is None:
        return None
    consumer, ends = reader
    try:
        remaining = {tp for tp, end in ends.items() if end > 0}
        count = 0
        started_at = time.perf_counter()
        deadline = time.monotonic() + 1800
        while remaining and time.monotonic() < deadline:
            for message in consumer.consume(num_messages=5000, timeout=0.5):
                if message.error() is not None:
                    continue
                message.value()
                count += 1
                if message.offset() + 1 >= ends[(message.topic(), message.partition())]:
                    remaining.discard((message.topic(), message.partition()))
        return count, time.perf_counter() - started_at
    finally:
        consumer.close()


def confluent_version() -> str | None:
    try:
        import confluent_kafka
    except ImportError:
        return None
    return f"{confluent_kafka.version()[0]} (librdkafka {confluent_kafka.libversion()[0]})"


def run(
    days: int,
    visits_per_day: int,
    raw_repeats: int,
    replay_repeats: int,
    scrape_requests: int,
    work: Path,
) -> dict:
    pin({0})
    kafka, produced = started(days, visits_per_day, schemas=False)
    try:
        bootstrap = kafka.bootstrap
        raw = [raw_consume(bootstrap) for _ in range(raw_repeats)]
        alternative = [confluent_consume(bootstrap) for _ in range(raw_repeats)]
        replays = [
            exporter_replay(bootstrap, work / f"replay-{n}", scrape_requests)
            for n in range(replay_repeats)
        ]
        over_confluent = []
        if confluent_version() is not None:
            over_confluent = [
                exporter_replay(
                    bootstrap, work / f"confluent-{n}", scrape_requests, "confluent-kafka"
                )
                for n in range(replay_repeats)
            ]
        empty = empty_exporter_rss(bootstrap, work / "empty")
    finally:
        kafka.stop()
    raw_rates = [count / seconds for count, seconds, _ in raw]
    raw_cpu_rates = [count / cpu for count, _, cpu in raw]
    alternative_rates = [count / seconds for count, seconds in filter(None, alternative)]
    messages = produced["messages"]
    return {
        "days": days,
        "visits_per_day": visits_per_day,
        "messages": messages,
        "produce_seconds": produced["seconds"],
        "produce_bytes": produced["bytes"],
        "raw_counts": [count for count, _, _ in raw],
        "raw_rate": statistics.median(raw_rates),
        "raw_rates": raw_rates,
        "raw_cpu_rate": statistics.median(raw_cpu_rates),
        "raw_cpu_rates": raw_cpu_rates,
        "confluent_version": confluent_version(),
        "confluent_counts": [count for count, _ in filter(None, alternative)],
        "confluent_rates": alternative_rates,
        "confluent_rate": statistics.median(alternative_rates) if alternative_rates else None,
        "over_confluent": [
            {key: run[key] for key in ("seconds", "cpu_seconds", "memory", "rows")}
            for run in over_confluent
        ],
        "replay_seconds": [r["seconds"] for r in replays],
        "replay_rate": messages / statistics.median(r["seconds"] for r in replays),
        "replay_cpu_seconds": [r["cpu_seconds"] for r in replays],
        "replay_cpu_rate": messages / statistics.median(r["cpu_seconds"] for r in replays),
        "last": replays[-1],
        "empty_rss_kb": empty,
    }
