"""During the catch-up, partitions that have read well ahead of the slowest one wait for it."""

from __future__ import annotations

from kafka import TopicPartition

from exporter.source import CATCH_UP_LEAD, _balance

VISITS = TopicPartition("hospital.dbo.visits", 0)
STATUSES = TopicPartition("hospital.dbo.visitstatushistory", 0)
BILLS = TopicPartition("hospital.dbo.bills", 0)


class PausableClient:
    """The assignment and pause calls of a Kafka consumer, recorded; nothing is fetched."""

    def __init__(self, partitions) -> None:
        self.assigned = set(partitions)
        self.paused_now: set = set()
        self.calls: list[tuple[str, set]] = []

    def assignment(self) -> set:
        return set(self.assigned)

    def paused(self) -> set:
        return set(self.paused_now)

    def pause(self, *partitions) -> None:
        self.paused_now |= set(partitions)
        self.calls.append(("pause", set(partitions)))

    def resume(self, *partitions) -> None:
        self.paused_now -= set(partitions)
        self.calls.append(("resume", set(partitions)))


def test_a_partition_far_ahead_waits_and_goes_on_once_the_slowest_is_close():
    client = PausableClient([VISITS, STATUSES, BILLS])
    _balance(client, {VISITS: 0.9, STATUSES: 0.2, BILLS: 0.2 + CATCH_UP_LEAD / 2})
    assert client.paused_now == {VISITS}

    _balance(client, {VISITS: 0.9, STATUSES: 0.5, BILLS: 0.5})
    assert client.paused_now == {VISITS}  # still too far ahead

    _balance(client, {VISITS: 0.9, STATUSES: 0.89, BILLS: 0.9})
    assert client.paused_now == set()
    assert client.calls == [("pause", {VISITS}), ("resume", {VISITS})]


def test_finished_partitions_do_not_hold_the_others_back():
    client = PausableClient([VISITS, STATUSES])
    client.paused_now = {VISITS}
    _balance(client, {VISITS: 0.99})  # STATUSES has read everything: not in the shares
    assert client.paused_now == set()


def test_nothing_left_to_read_resumes_everything():
    client = PausableClient([VISITS, STATUSES])
    client.paused_now = {VISITS, STATUSES}
    _balance(client, {})
    assert client.paused_now == set()


def test_partitions_no_longer_assigned_are_left_alone():
    client = PausableClient([STATUSES])
    _balance(client, {VISITS: 0.9, STATUSES: 0.1})
    assert client.calls == []
