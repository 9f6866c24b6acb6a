"""The cyclic garbage collector is off during the start-up catch-up, and on again after it."""

from __future__ import annotations

import gc

import pytest

from exporter import source
from exporter.source import _CatchUpCollection


@pytest.fixture
def collector_on():
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    if not was_enabled:
        gc.disable()


def test_automatic_collection_is_off_while_catching_up_and_on_after(collector_on, monkeypatch):
    collections = []
    monkeypatch.setattr(source.gc, "collect", lambda: collections.append(1) or 0)
    collection = _CatchUpCollection()
    collection.start()
    assert not gc.isenabled()

    started = collection._next - source.CATCH_UP_COLLECT_SECONDS
    collection.tick(started + 1)
    assert collections == []
    collection.tick(started + source.CATCH_UP_COLLECT_SECONDS)  # bounds the cycles kept
    assert collections == [1]

    collection.finish()
    assert gc.isenabled() and collections == [1, 1]
    collection.finish()  # a second finish (ready, then the consumer's end) changes nothing
    assert gc.isenabled() and collections == [1, 1]


def test_a_process_that_turned_the_collector_off_keeps_it_off(collector_on):
    gc.disable()
    collection = _CatchUpCollection()
    collection.start()
    collection.finish()
    assert not gc.isenabled()
