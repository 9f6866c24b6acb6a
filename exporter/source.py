"""Consumes the change topics from Kafka into the pipeline, and reports on doing so.

On start every partition is read from the beginning: the topics are compacted, so they hold
the latest version of every row and the state is rebuilt from them. The end offsets seen at
start are the catch-up target; the exporter is ready once it has reached them. No consumer
group is used: one exporter instance reads every partition itself, and nothing is committed.
"""

from __future__ import annotations

import gc
import logging
import threading
import time

from kafka import KafkaConsumer, TopicPartition

from exporter import confluent
from exporter.config import Config
from exporter.confluent import ConfluentConsumer
from exporter.pipeline import Pipeline
from exporter.stats import Clock, local_day
from exporter.telemetry import Telemetry

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30.0
DISCOVERY_INTERVAL_SECONDS = 30.0
CATCH_UP_PRUNE_SECONDS = 5.0
# At full speed a catch-up reads this many messages in well under a second (see _PruneSchedule).
CATCH_UP_PRUNE_MESSAGES = 50_000
CATCH_UP_HEALTH_SECONDS = 30.0
CATCH_UP_COLLECT_SECONDS = 60.0
# During the catch-up a partition this far ahead of the slowest one, as shares of what each
# has to read, waits for it: see _balance.
CATCH_UP_LEAD = 0.02


class KafkaSource:
    def __init__(
        self, config: Config, pipeline: Pipeline, telemetry: Telemetry, clock: Clock
    ) -> None:
        self.config = config
        self.pipeline = pipeline
        self.telemetry = telemetry
        self.clock = clock
        self.stopping = threading.Event()
        self._positions: dict[TopicPartition, int] = {}  # next offset, kept across rebuilds
        self._begin: dict[TopicPartition, int] = {}
        self._target: dict[TopicPartition, int] | None = None  # catch-up goal, set once
        self._next_discovery = 0.0
        self._thread = threading.Thread(target=self.run, name="kafka", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        self.stopping.set()
        self._thread.join(timeout)

    # -- the outer loop: build a consumer, use it until it fails, back off, again -------------

    def run(self) -> None:
        backoff = 1.0
        while not self.stopping.is_set():
            consumer = None
            try:
                consumer = self._new_consumer()
                backoff = 1.0
                self._consume(consumer)
            except Exception as error:  # the broker went away or refused us; keep serving
                self.telemetry.kafka_connected = False
                self.telemetry.kafka_reconnects += 1
                log.warning(
                    "Kafka consumer failed (%s: %s); retrying in %.0fs",
                    type(error).__name__,
                    str(error)[:200],
                    backoff,
                )
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            finally:
                if consumer is not None:
                    try:
                        consumer.close(autocommit=False)
                    except Exception:
                        pass

    def _new_consumer(self) -> KafkaConsumer | ConfluentConsumer:
        if self.config["kafka.client-library"] == "confluent-kafka":
            return self._new_confluent_consumer()
        settings = {
            "bootstrap_servers": self.config["kafka.bootstrap-servers"].split(","),
            "client_id": "hospital-exporter",
            "group_id": None,
            "enable_auto_commit": False,
            "auto_offset_reset": "earliest",
            "max_poll_records": 5000,
            "fetch_max_wait_ms": 200,
            "max_partition_fetch_bytes": 8 * 1024 * 1024,
            "request_timeout_ms": 10_000,
            "reconnect_backoff_max_ms": 5_000,
        }
        settings.update(self.config["kafka.client"])
        return KafkaConsumer(**settings)

    def _new_confluent_consumer(self) -> ConfluentConsumer:
        """The same reading with librdkafka, in its setting names (see exporter.confluent)."""
        settings = {
            "bootstrap.servers": self.config["kafka.bootstrap-servers"],
            "client.id": "hospital-exporter",
            # librdkafka wants a group even for assigned partitions; nothing is committed.
            "group.id": "hospital-exporter",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "fetch.wait.max.ms": 200,
            "max.partition.fetch.bytes": 8 * 1024 * 1024,
            # Once its prefetch queue is full, librdkafka waits a second before fetching
            # again by default; a catch-up empties that queue far sooner.
            "fetch.queue.backoff.ms": 10,
            "reconnect.backoff.max.ms": 5_000,
        }
        settings.update(confluent.setting_names(self.config["kafka.client"]))
        return ConfluentConsumer(settings, request_timeout=10.0, max_records=5000)

    # -- the inner loop ------------------------------------------------------------------------

    def _consume(self, consumer: KafkaConsumer) -> None:
        self._assign(consumer)
        progress = _Progress(self.config["log.progress-interval"])
        collection = _CatchUpCollection()
        if not self.telemetry.ready:
            collection.start()
        try:
            self._poll_loop(consumer, progress, collection)
        finally:
            collection.finish()

    def _poll_loop(
        self, consumer: KafkaConsumer, progress: _Progress, collection: _CatchUpCollection
    ) -> None:
        poll_ms = int(self.config["kafka.poll-timeout"] * 1000)
        health_every = self.config["kafka.health-interval"]
        prune_every = self.config["state.prune-interval"]
        last_health = -float("inf")
        prunes = _PruneSchedule(prune_every)
        while not self.stopping.is_set():
            batches = consumer.poll(timeout_ms=poll_ms)
            if batches:
                self.pipeline.handle_partitions(
                    (partition.topic, partition.partition, records)
                    for partition, records in batches.items()
                )
                progress.events += sum(map(len, batches.values()))
            now = time.monotonic()
            # While a catch-up streams records, they prove that the brokers answer, and the
            # end-offset round trip waits behind megabytes of fetched data: ask less often.
            streaming = batches and not self.telemetry.ready
            interval = max(health_every, CATCH_UP_HEALTH_SECONDS) if streaming else health_every
            if now - last_health >= interval:
                self._check(consumer)
                last_health = now
            if not self.telemetry.ready:
                self._update_catch_up(consumer, progress)
                collection.tick(now)
            if self.telemetry.ready:
                collection.finish()
            if prunes.due(now, progress.events, self.telemetry.ready):
                self._prune()
                prunes.pruned(now, progress.events, self.telemetry.ready)

    def _assign(self, consumer: KafkaConsumer) -> None:
        """Assign every partition of every existing change topic, at our last position."""
        existing = consumer.topics()
        partitions = []
        for topic in self.pipeline.topics:
            if topic not in existing:
                continue
            for number in sorted(consumer.partitions_for_topic(topic) or ()):
                partitions.append(TopicPartition(topic, number))
        assigned = set(consumer.assignment())
        if set(partitions) == assigned and assigned:
            return
        consumer.assign(partitions)
        fresh = [tp for tp in partitions if tp not in self._positions]
        if fresh:
            self._begin.update(consumer.beginning_offsets(fresh))
            consumer.seek_to_beginning(*fresh)
        for tp in partitions:
            if tp in self._positions:
                consumer.seek(tp, self._positions[tp])
        if self._target is None:
            self._target = consumer.end_offsets(partitions) if partitions else {}
            total = sum(self._target[tp] - self._begin.get(tp, 0) for tp in partitions)
            log.info(
                "reading %d partitions of %d topics from the beginning: %d messages to catch up",
                len(partitions),
                len({tp.topic for tp in partitions}),
                total,
            )
        self.telemetry.kafka_connected = True

    def _check(self, consumer: KafkaConsumer) -> None:
        """Ask the brokers for the end offsets: proves they answer, and gives the lag.

        end_offsets gives up after the client's request timeout, so a dead broker is noticed;
        the metadata calls of topic discovery would wait for ever, so they run only when a
        change topic is still missing, right after the brokers have answered."""
        assigned = list(consumer.assignment())
        ends = consumer.end_offsets(assigned) if assigned else {}
        lag = {}
        for tp in assigned:
            position = consumer.position(tp)
            self._positions[tp] = position
            lag[(tp.topic, tp.partition)] = max(0, ends[tp] - position)
        self.telemetry.lag = lag
        if not self.telemetry.kafka_connected:
            log.info("Kafka brokers answer again")
        self.telemetry.kafka_connected = True
        missing = set(self.pipeline.topics) - {tp.topic for tp in assigned}
        if missing and time.monotonic() >= self._next_discovery:
            self._next_discovery = time.monotonic() + DISCOVERY_INTERVAL_SECONDS
            self._assign(consumer)  # topics created since start (a new connector)

    def _update_catch_up(self, consumer: KafkaConsumer, progress: _Progress) -> None:
        target = self._target or {}
        done = total = 0
        unfinished = {}  # partition -> share of its messages read
        for tp, end in target.items():
            position = consumer.position(tp)
            self._positions[tp] = position
            begin = self._begin.get(tp, 0)
            total += end - begin
            done += min(position, end) - begin
            if position < end:
                unfinished[tp] = (position - begin) / (end - begin)
        self.telemetry.replay_progress = 1.0 if total == 0 else done / total
        _balance(consumer, unfinished)
        if done >= total:
            self.telemetry.ready = True
            self.telemetry.replay_progress = 1.0
            log.info("caught up: %d messages in %.1fs; ready", total, progress.elapsed())
            self._prune()
        else:
            progress.maybe_log(done, total)

    def _prune(self) -> None:
        """Drop rows that can no longer change a KPI (see HospitalState.prune)."""
        state = self.pipeline.state
        today = local_day(self.clock(), self.config["timezone"])
        with state.lock:
            dropped = state.prune(
                today,
                self.config["state.retention-days"],
                set(self.config["state.final-statuses"]),
            )
        for table, count in dropped.items():
            self.telemetry.pruned[table] += count
        if dropped:
            log.debug("pruned rows that can no longer change a KPI: %s", dropped)


def _balance(consumer, unfinished: dict[TopicPartition, float]) -> None:
    """Pauses the partitions that have read more than CATCH_UP_LEAD of their messages
    beyond the slowest partition, and resumes them once it has come close.

    A visit's rows travel on several topics, and a finished visit can only be pruned
    once its final status row is in. A client that lets the Visits topic run to its end
    while status rows trail (librdkafka does) keeps a year of open-looking visits in
    memory: more than twice the peak. Each partition covers the same period, so equal
    shares read are about equal points in time."""
    assigned = consumer.assignment()
    slowest = min(unfinished.values(), default=1.0)
    ahead = {
        tp for tp, share in unfinished.items() if share > slowest + CATCH_UP_LEAD and tp in assigned
    }
    paused = consumer.paused() & assigned
    if ahead - paused:
        consumer.pause(*(ahead - paused))
    if paused - ahead:
        consumer.resume(*(paused - ahead))


class _PruneSchedule:
    """When to prune the state: every `interval` seconds once ready. While catching up more
    often, after CATCH_UP_PRUNE_SECONDS or CATCH_UP_PRUNE_MESSAGES messages, whichever comes
    first, so that replaying years of compacted history never holds more than a moment's
    worth of finished visits: the process's heap keeps the size it once grew to."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next_time = 0.0
        self._next_events = CATCH_UP_PRUNE_MESSAGES

    def due(self, now: float, events: int, ready: bool) -> bool:
        return now >= self._next_time or (not ready and events >= self._next_events)

    def pruned(self, now: float, events: int, ready: bool) -> None:
        seconds = self.interval if ready else min(self.interval, CATCH_UP_PRUNE_SECONDS)
        self._next_time = now + seconds
        self._next_events = events + CATCH_UP_PRUNE_MESSAGES


class _CatchUpCollection:
    """Keeps the cyclic garbage collector out of the start-up catch-up.

    On a year's replay, automatic collections took a tenth of the catch-up while finding
    almost nothing: each one walks the records in flight and the rows stored since the last
    one, and the state holds no reference cycles. So while catching up automatic collection
    is off and a full collection runs every CATCH_UP_COLLECT_SECONDS instead, which bounds the
    cycles that can pile up (the Kafka client leaves some ten thousand objects of them over
    that replay); at ready a last one runs and automatic collection is on again."""

    def __init__(self) -> None:
        self.active = False
        self._next = 0.0

    def start(self) -> None:
        if gc.isenabled():
            gc.disable()
            self.active = True
            self._next = time.monotonic() + CATCH_UP_COLLECT_SECONDS

    def tick(self, now: float) -> None:
        if self.active and now >= self._next:
            gc.collect()
            self._next = now + CATCH_UP_COLLECT_SECONDS

    def finish(self) -> None:
        if self.active:
            self.active = False
            gc.collect()
            gc.enable()


class _Progress:
    """Logs catch-up progress at most every `interval` seconds."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.events = 0
        self._started = self._last_time = time.monotonic()
        self._last_events = 0

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def maybe_log(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last_time < self.interval:
            return
        rate = (self.events - self._last_events) / (now - self._last_time)
        log.info(
            "catching up: %.1f%% (%d of %d messages), %.0f events/s",
            100 * done / total,
            done,
            total,
            rate,
        )
        self._last_time, self._last_events = now, self.events
