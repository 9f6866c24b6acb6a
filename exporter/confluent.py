"""confluent-kafka (librdkafka) as the exporter's Kafka client, when `kafka.client-library` is
`confluent-kafka`.

exporter.source drives one consumer through a handful of kafka-python calls: list the topics
and their partitions, assign partitions, seek, ask for beginning and end offsets, poll and
close. ConfluentConsumer answers the same calls with confluent-kafka, so the reading, the
catch-up, the health checks and the rebuild after a failure stay one piece of code.

librdkafka fetches in threads of its own while the pipeline applies the records it has
already handed over, and parses record batches in C: a catch-up takes about 60% of the time
it takes with kafka-python (BENCHMARKS.md). The package is optional (`pip install
hospital-exporter[confluent]`): kafka-python stays the default client.
"""

from __future__ import annotations

import logging

from kafka import TopicPartition

from exporter.pipeline import Message

log = logging.getLogger(__name__)
REPEAT_LOG_SECONDS = 60.0


class _Repeats(logging.Filter):
    """librdkafka logs every failed connection attempt, several a second while a broker is
    down; the source already reports the outage. One line per kind of event a minute."""

    def __init__(self) -> None:
        super().__init__()
        self._last: dict[str, float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        kind = str(record.msg).split(" ", 1)[0]  # librdkafka's facility: FAIL, ERROR...
        last = self._last.get(kind)
        if last is not None and record.created - last < REPEAT_LOG_SECONDS:
            return False
        self._last[kind] = record.created
        return True


log.addFilter(_Repeats())


def require():
    """The confluent_kafka module; ImportError saying how to install it when it is missing."""
    try:
        import confluent_kafka
    except ImportError:
        raise ImportError(
            "kafka.client-library is confluent-kafka, but the confluent-kafka package is not "
            "installed (pip install 'hospital-exporter[confluent]')"
        ) from None
    return confluent_kafka


def setting_names(client: dict) -> dict:
    """librdkafka names its settings with dots (`security.protocol`); an environment
    variable cannot hold one, so HOSPITAL_EXPORTER_KAFKA_CLIENT_SECURITY_PROTOCOL arrives as
    `security_protocol`. A name without a dot has its underscores read as dots."""
    return {
        name if "." in name else name.replace("_", "."): value for name, value in client.items()
    }


def available() -> bool:
    try:
        require()
    except ImportError:
        return False
    return True


class ConfluentConsumer:
    """The kafka-python KafkaConsumer calls exporter.source makes, over a confluent-kafka
    Consumer. Partitions are kafka-python TopicPartitions and records the pipeline's
    Message tuples. Positions (the next offset of each partition) are kept here: they are
    where the last poll ended or where a seek put them. A failed request raises, as
    kafka-python's do, and the source builds a new consumer."""

    def __init__(self, settings: dict, request_timeout: float, max_records: int) -> None:
        self._kafka = require()
        self._consumer = self._kafka.Consumer(settings, logger=log)
        self._timeout = request_timeout
        self._max_records = max_records
        self._assigned: list[TopicPartition] = []
        self._next: dict[TopicPartition, int] = {}
        self._reassign = False  # the assignment or a position changed since the last poll
        self._paused: set[TopicPartition] = set()

    # -- metadata and offsets ----------------------------------------------------------------

    def topics(self) -> set[str]:
        metadata = self._consumer.list_topics(timeout=self._timeout)
        return {name for name, topic in metadata.topics.items() if topic.error is None}

    def partitions_for_topic(self, topic: str) -> set[int] | None:
        found = self._consumer.list_topics(topic, timeout=self._timeout).topics.get(topic)
        if found is None or found.error is not None:
            return None
        return set(found.partitions)

    def beginning_offsets(self, partitions) -> dict[TopicPartition, int]:
        return self._list_offsets(partitions, self._kafka.OFFSET_BEGINNING)

    def end_offsets(self, partitions) -> dict[TopicPartition, int]:
        return self._list_offsets(partitions, self._kafka.OFFSET_END)

    def _list_offsets(self, partitions, which: int) -> dict[TopicPartition, int]:
        """One request for every partition, as kafka-python asks. get_watermark_offsets asks
        per partition, and while fetches are under way each request waits behind a fetch's
        long poll: seconds for a few dozen partitions. offsets_for_times with the special
        times -2 and -1 lists the first and the end offsets."""
        partitions = list(partitions)
        if not partitions:
            return {}
        asked = [self._kafka.TopicPartition(tp.topic, tp.partition, which) for tp in partitions]
        found = self._consumer.offsets_for_times(asked, timeout=self._timeout)
        offsets = {}
        for answer in found:
            if answer.error is not None:
                raise self._kafka.KafkaException(answer.error)
            offsets[TopicPartition(answer.topic, answer.partition)] = answer.offset
        return offsets

    # -- assignment and positions ------------------------------------------------------------

    def assignment(self) -> set[TopicPartition]:
        return set(self._assigned)

    def assign(self, partitions) -> None:
        self._assigned = list(partitions)
        self._reassign = True

    def seek_to_beginning(self, *partitions: TopicPartition) -> None:
        for tp, offset in self.beginning_offsets(partitions).items():
            self.seek(tp, offset)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self._next[tp] = offset
        self._reassign = True

    def position(self, tp: TopicPartition) -> int:
        return self._next[tp]

    def pause(self, *partitions: TopicPartition) -> None:
        self._paused.update(partitions)
        if not self._reassign:  # else paused again with the new assignment
            self._consumer.pause(self._client_partitions(partitions))

    def resume(self, *partitions: TopicPartition) -> None:
        self._paused.difference_update(partitions)
        if not self._reassign:
            self._consumer.resume(self._client_partitions(partitions))

    def paused(self) -> set[TopicPartition]:
        return set(self._paused)

    def _client_partitions(self, partitions) -> list:
        return [self._kafka.TopicPartition(tp.topic, tp.partition) for tp in partitions]

    def _apply_assignment(self) -> None:
        # Assigning with explicit offsets is librdkafka's seek for partitions not yet fetched.
        kafka = self._kafka
        self._consumer.assign(
            [
                kafka.TopicPartition(tp.topic, tp.partition, self._next.get(tp, 0))
                for tp in self._assigned
            ]
        )
        self._reassign = False
        self._paused &= set(self._assigned)
        if self._paused:
            self._consumer.pause(self._client_partitions(self._paused))

    # -- records -----------------------------------------------------------------------------

    def poll(self, timeout_ms: int) -> dict[TopicPartition, list[Message]]:
        """At most max_records records, per partition in offset order, as kafka-python's
        poll returns them."""
        if self._reassign:
            self._apply_assignment()
        # consume() waits for all max_records or the whole timeout; kafka-python's poll
        # returns as soon as records are there, which a live change must not wait behind.
        first = self._consumer.poll(timeout_ms / 1000)
        if first is None:
            return {}
        messages = [first, *self._consumer.consume(self._max_records - 1, 0)]
        by_partition: dict[tuple[str, int], list[Message]] = {}
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() == self._kafka.KafkaError._PARTITION_EOF:
                    continue
                raise self._kafka.KafkaException(error)
            where = (message.topic(), message.partition())
            records = by_partition.get(where)
            if records is None:
                records = by_partition[where] = []
            records.append(Message(message.offset(), message.key(), message.value()))
        batches = {}
        for (topic, number), records in by_partition.items():
            tp = TopicPartition(topic, number)
            self._next[tp] = records[-1].offset + 1
            batches[tp] = records
        return batches

    def close(self, autocommit: bool = False) -> None:
        self._consumer.close()
