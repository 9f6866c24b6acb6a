"""The state is pruned on a clock once ready, and by messages read as well while catching up."""

from __future__ import annotations

from exporter import source
from exporter.source import _PruneSchedule

MESSAGES = source.CATCH_UP_PRUNE_MESSAGES
SECONDS = source.CATCH_UP_PRUNE_SECONDS


def test_the_first_check_prunes():
    assert _PruneSchedule(60).due(now=100.0, events=0, ready=False)


def test_a_fast_catch_up_prunes_by_messages_before_the_clock_says_so():
    schedule = _PruneSchedule(60)
    schedule.pruned(now=100.0, events=0, ready=False)
    assert not schedule.due(now=100.5, events=MESSAGES - 1, ready=False)
    assert schedule.due(now=100.5, events=MESSAGES, ready=False)
    schedule.pruned(now=100.5, events=MESSAGES, ready=False)
    assert not schedule.due(now=101.0, events=2 * MESSAGES - 1, ready=False)


def test_a_slow_catch_up_prunes_by_the_clock():
    schedule = _PruneSchedule(60)
    schedule.pruned(now=100.0, events=0, ready=False)
    assert not schedule.due(now=100.0 + SECONDS - 0.1, events=10, ready=False)
    assert schedule.due(now=100.0 + SECONDS, events=10, ready=False)


def test_once_ready_only_the_configured_interval_counts():
    schedule = _PruneSchedule(60)
    schedule.pruned(now=100.0, events=0, ready=True)
    assert not schedule.due(now=159.0, events=10 * MESSAGES, ready=True)
    assert schedule.due(now=160.0, events=10 * MESSAGES, ready=True)


def test_a_short_configured_interval_also_holds_while_catching_up():
    schedule = _PruneSchedule(1)
    schedule.pruned(now=100.0, events=0, ready=False)
    assert schedule.due(now=101.0, events=0, ready=False)
