"""One real PostgreSQL server for the database tests; a fresh hospital database per test."""

from __future__ import annotations

import itertools
import os
import shutil

import pyodbc
import pytest

from devstack.postgres import PG_BIN, PostgresServer

TEMPLATE = "hospital_template"
_names = itertools.count(1)


def _postgres_available() -> bool:
    return (PG_BIN / "postgres").exists() and shutil.which("runuser") is not None


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    if not _postgres_available():
        pytest.skip(f"PostgreSQL binaries not found in {PG_BIN}")
    base = tmp_path_factory.mktemp("pg")
    with PostgresServer(base / "cluster", base / "logs") as server:
        # Schema, reference data, CDC and snapshot procedure loaded once; tests clone it.
        server.setup_hospital(TEMPLATE, debezium_password=os.urandom(12).hex())
        yield server


@pytest.fixture
def hospital_db(pg_server):
    """The name of a fresh database cloned from the loaded template, dropped afterwards."""
    name = f"hospital_t{next(_names)}"
    pg_server.create_database(name, template=TEMPLATE)
    try:
        yield name
    finally:
        pg_server.drop_database(name)


@pytest.fixture
def conn(pg_server, hospital_db):
    connection = pyodbc.connect(pg_server.odbc_dsn(hospital_db), autocommit=False)
    try:
        yield connection
    finally:
        connection.close()
