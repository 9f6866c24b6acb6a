"""The T-SQL scripts parse, and both dialects define the same tables, columns and indexes."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from exporter.simulate import refdata
from exporter.simulate.dialect import SqlServer, split_postgres
from exporter.simulate.groundtruth import load_queries
from exporter.simulate.schema import TABLES, WEEKLY, weekly_columns

SQL = Path(__file__).resolve().parents[2] / "sql"
SCRIPTS = sorted(p.name for p in (SQL / "sqlserver").glob("*.sql"))

# Statement kinds sqlglot's T-SQL dialect cannot parse into a tree (it raises, or falls back
# to an opaque Command). They are only tokenised, and must match one of these shapes:
TOKENISE_ONLY = {
    # IF-guarded calls of the CDC system procedures (sqlglot has no IF ... EXEC statement)
    "cdc procedure": re.compile(r"^IF\b.*\bEXEC sys\.sp_cdc_enable_(db|table)\b", re.S),
    # identity insert switch for explicit keys in reference data
    "identity insert": re.compile(r"^SET IDENTITY_INSERT dbo\.\w+ (ON|OFF)$"),
    # database-level permission and role membership (no object in the statement)
    "grant database permission": re.compile(r"^GRANT VIEW DATABASE STATE TO \w+$"),
    "role membership": re.compile(r"^ALTER ROLE \w+ ADD MEMBER \w+$"),
}


def _statements(batch: str) -> list[str]:
    """Top-level statements of a batch (our scripts have no ';' inside strings)."""
    body = re.sub(r"--[^\n]*", "", batch)
    return [s.strip() for s in body.split(";") if s.strip()]


def _parses(sql: str) -> bool:
    logging.disable(logging.WARNING)  # sqlglot warns when it falls back to Command
    try:
        trees = sqlglot.parse(sql, read="tsql", error_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.errors.ParseError:
        return False
    finally:
        logging.disable(logging.NOTSET)
    return not any(isinstance(t, exp.Command) for t in trees if t is not None)


@pytest.mark.parametrize("script", SCRIPTS)
def test_tsql_script_parses(script):
    text = (SQL / "sqlserver" / script).read_text(encoding="utf-8")
    batches = SqlServer().split_script(text)
    assert batches
    for batch in batches:
        if _parses(batch):
            continue
        for statement in _statements(batch):
            if _parses(statement):
                continue
            kinds = [k for k, shape in TOKENISE_ONLY.items() if shape.match(statement)]
            assert kinds, f"{script}: does not parse as T-SQL:\n{statement[:300]}"
            sqlglot.tokenize(statement, read="tsql")  # quotes and brackets balance


def _tables(dialect: str, script: str, read: str) -> dict[str, dict]:
    text = (SQL / dialect / script).read_text(encoding="utf-8")
    chunks = SqlServer().split_script(text) if dialect == "sqlserver" else split_postgres(text)
    tables: dict[str, dict] = {}
    for chunk in chunks:
        for stmt in _statements(chunk) if dialect == "sqlserver" else [chunk]:
            if not re.match(r"^\s*CREATE (UNIQUE )?(TABLE|INDEX)", stmt):
                continue
            logging.disable(logging.WARNING)
            tree = sqlglot.parse_one(stmt, read=read)
            logging.disable(logging.NOTSET)
            if tree.args.get("kind") == "TABLE":
                schema = tree.this
                name = schema.this.name.lower()
                columns = [
                    c.name.lower() for c in schema.expressions if isinstance(c, exp.ColumnDef)
                ]
                constraints = sorted(
                    c.name.lower() for c in schema.find_all(exp.Constraint) if c.name
                )
                tables[name] = {"columns": columns, "constraints": constraints, "indexes": []}
            else:
                table = tree.this.args["table"].name.lower()
                tables[table]["indexes"].append(tree.this.name.lower())
    return tables


@pytest.mark.parametrize("script", ["01_schema.sql", "04_weekly_snapshot.sql"])
def test_dialects_define_same_tables_columns_constraints_indexes(script):
    pg = _tables("postgres", script, "postgres")
    ms = _tables("sqlserver", script, "tsql")
    assert pg.keys() == ms.keys()
    for name in pg:
        assert pg[name]["columns"] == ms[name]["columns"], name
        named_pg = [c for c in pg[name]["constraints"] if not c.startswith("df_")]
        named_ms = [c for c in ms[name]["constraints"] if not c.startswith("df_")]
        assert named_pg == named_ms, name
        assert sorted(pg[name]["indexes"]) == sorted(ms[name]["indexes"]), name


def test_python_schema_matches_ddl():
    pg = _tables("postgres", "01_schema.sql", "postgres")
    assert set(pg) == {t.lower for t in TABLES.values()}
    for table in TABLES.values():
        assert pg[table.lower]["columns"] == [c.lower() for c in table.columns]
    weekly = _tables("postgres", "04_weekly_snapshot.sql", "postgres")
    for source in WEEKLY:
        expected = [c.lower() for c in weekly_columns(source)]
        assert weekly[f"weekly_{source.lower()}"]["columns"] == expected


@pytest.mark.parametrize("dialect", ["postgres", "sqlserver"])
def test_reference_data_file_is_generated_from_refdata(dialect):
    text = (SQL / dialect / "02_reference_data.sql").read_text(encoding="utf-8")
    assert text == refdata.render_sql(dialect), (
        "regenerate with python -m exporter.simulate.refdata"
    )


def test_kpi_query_files_name_the_same_queries():
    assert load_queries("postgres").keys() == load_queries("sqlserver").keys()
