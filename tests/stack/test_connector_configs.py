"""The Debezium connector files in connect/: keys, tables, topic settings, no secrets."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

CONNECT_DIR = Path(__file__).resolve().parents[2] / "connect"
TABLES = (
    "Visits",
    "VisitStatusHistory",
    "Admissions",
    "Bills",
    "VisitClassification",
    "VisitStatus",
    "Speciality",
    "Doctor_Speciality",
)
COMMON = {
    "tasks.max": "1",
    "topic.prefix": "hospital",
    "snapshot.mode": "initial",
    "tombstones.on.delete": "true",
    "decimal.handling.mode": "precise",
    "time.precision.mode": "adaptive",
    "heartbeat.interval.ms": "10000",
    "key.converter": "org.apache.kafka.connect.json.JsonConverter",
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    "key.converter.schemas.enable": "true",
    "value.converter.schemas.enable": "true",
    "topic.creation.default.partitions": "3",
    "topic.creation.default.cleanup.policy": "compact",
}
PLACEHOLDER = re.compile(r"^\$\{(env|file):[^}]+\}$")


def load(name: str) -> dict:
    document = json.loads((CONNECT_DIR / name).read_text())
    assert set(document) == {"name", "config"}
    assert all(isinstance(v, str) for v in document["config"].values()), "Connect wants strings"
    return document["config"]


def table_list(config: dict) -> list[str]:
    return [item.strip() for item in config["table.include.list"].split(",")]


@pytest.mark.parametrize("name", ["postgres.json", "sqlserver.json"])
def test_common_settings(name):
    config = load(name)
    for key, value in COMMON.items():
        assert config.get(key) == value, key


@pytest.mark.parametrize("name", ["postgres.json", "sqlserver.json"])
def test_no_literal_secret(name):
    config = load(name)
    for key, value in config.items():
        if "password" in key.lower() or "secret" in key.lower():
            assert PLACEHOLDER.match(value), f"{key} must come from a config provider"


def test_postgres_tables_and_source():
    config = load("postgres.json")
    assert config["connector.class"] == "io.debezium.connector.postgresql.PostgresConnector"
    assert table_list(config) == [f"dbo.{table.lower()}" for table in TABLES]
    assert config["plugin.name"] == "pgoutput"
    assert config["publication.name"] == "hospital_cdc"
    assert config["publication.autocreate.mode"] in {"disabled", "filtered"}
    assert config["database.dbname"] == "hospital_salam"
    assert config["database.user"] == "debezium"


def test_sqlserver_tables_and_source():
    config = load("sqlserver.json")
    assert config["connector.class"] == "io.debezium.connector.sqlserver.SqlServerConnector"
    assert table_list(config) == [f"dbo.{table}" for table in TABLES]
    assert config["database.names"] == "Hospital_Salam"
    assert config["database.encrypt"] == "true"
    assert config["schema.history.internal.kafka.topic"]
    assert "database.dbname" not in config  # Debezium 1.x key, replaced by database.names
