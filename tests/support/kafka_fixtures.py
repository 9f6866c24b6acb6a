"""Pytest fixtures for a real Kafka broker; import them into a conftest.py.

from tests.support.kafka_fixtures import kafka_broker  # noqa: F401
"""

from __future__ import annotations

import pytest

from devstack.kafka import KAFKA_LIBS, KafkaBroker


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory):
    """One broker for the whole session; tests use topic names of their own."""
    if not KAFKA_LIBS.is_dir():
        pytest.skip(f"{KAFKA_LIBS} missing; run scripts/fetch-jvm.sh")
    base = tmp_path_factory.mktemp("kafka")
    broker = KafkaBroker(base, base / "logs")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
