"""Random histories of the eight tables, delivered as Kafka would, give the KPIs of the rows.

Each history is a sequence of inserts, updates and deletes on a small key space (so rows are
rewritten and deleted often), spanning local midnight. Its change events go to 3 partitions per
topic by key; delivery interleaves the partitions in any order, keeps each partition's order,
and re-sends runs of events as a restarted connector does. The exporter's KPIs must equal a
direct computation over the final rows, on both sides of midnight.
"""

from __future__ import annotations

import decimal
import random
import string
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exporter.config import load
from exporter.pipeline import Pipeline
from exporter.state import HospitalState
from exporter.stats import current_kpis, stats_document
from exporter.telemetry import Telemetry
from tests.support.debezium import KEYS, Encoder
from tests.support.model import reference_rows

CAIRO = ZoneInfo("Africa/Cairo")
MIDNIGHT = datetime(2026, 12, 4)  # local
PARTITIONS = 3


def random_time(rng: random.Random) -> datetime:
    return MIDNIGHT + timedelta(minutes=rng.randint(-26 * 60, 4 * 60))


def random_row(table: str, key: tuple, rng: random.Random) -> dict:
    if table == "Visits":
        return {
            "VisitID": key[0],
            "PatientID": rng.randint(1, 99),
            "DoctorID": rng.randint(1, 3),
            "ClassificationID": rng.randint(1, 4),
            "TypeID": 1,
            "VisitDate": random_time(rng),
        }
    if table == "VisitStatusHistory":
        return {
            "HistoryID": key[0],
            "VisitID": rng.randint(1, 5),
            "StatusID": rng.choice([1, 2, 2, 2, 3, 4, 8]),
            "StatusTime": random_time(rng),
        }
    if table == "Admissions":
        return {
            "AdmissionID": key[0],
            "VisitID": 1,
            "BedID": 1,
            "AdmissionDate": random_time(rng),
            "DischargeDate": rng.choice([None, random_time(rng)]),
        }
    if table == "Bills":
        return {
            "BillID": key[0],
            "VisitID": 1,
            "AdmissionID": None,
            "PayerTypeID": 1,
            "BillDate": random_time(rng),
            "TotalAmount": Decimal(rng.randint(0, 100_000)).scaleb(-2),
            "PaymentStatus": rng.choice(["Pending", "Paid", "Paid", "Cancelled"]),
            "PaymentDate": rng.choice([None, random_time(rng)]),
        }
    return {"DoctorID": key[0], "SpecialityID": key[1], "IsPrimary": rng.random() < 0.4}


KEY_SPACE = {
    "Visits": [(i,) for i in range(1, 6)],
    "VisitStatusHistory": [(i,) for i in range(1, 13)],
    "Admissions": [(i,) for i in range(1, 5)],
    "Bills": [(i,) for i in range(1, 5)],
    "Doctor_Speciality": [(d, s) for d in range(1, 4) for s in range(1, 5)],
}


def history(rng: random.Random, length: int):
    """(table, op, before, after) events and the final tables."""
    tables: dict[str, dict] = {
        name: {} for name in ("VisitClassification", "VisitStatus", "Speciality", *KEY_SPACE)
    }
    events = []
    for table, row in reference_rows():
        key = tuple(row[c] for c in KEYS[table])
        tables[table][key] = row
        events.append((table, "r", None, row))
    for _ in range(length):
        table = rng.choice(list(KEY_SPACE))
        key = rng.choice(KEY_SPACE[table])
        old = tables[table].get(key)
        if old is not None and rng.random() < 0.3:
            del tables[table][key]
            events.append((table, "d", old, None))
            continue
        new = random_row(table, key, rng)
        tables[table][key] = new
        events.append((table, "u" if old else "c", old, new))
    return events, tables


def deliver(events, encoder: Encoder, rng: random.Random):
    """Kafka messages in an order Kafka could deliver them, with re-sent runs."""
    queues: dict[tuple, list] = {}
    for position, (table, op, before, after) in enumerate(events, start=1):
        row = after or before
        key = encoder.key(table, row)
        partition = hash(tuple(row[c] for c in KEYS[table])) % PARTITIONS
        queue = queues.setdefault((encoder.topic(table), partition), [])
        queue.append((key, encoder.value(table, op, before, after, position=position)))
        if op == "d":
            queue.append((key, None))  # the tombstone that follows a delete
    for queue in queues.values():
        if len(queue) > 2 and rng.random() < 0.5:  # a connector restart re-sends a run
            end = rng.randint(1, len(queue))
            start = rng.randint(0, end - 1)
            queue[end:end] = queue[start:end]
    pending = {name: list(queue) for name, queue in queues.items()}
    offsets = dict.fromkeys(pending, 0)
    while pending:
        name = rng.choice(sorted(pending))
        key, value = pending[name].pop(0)
        yield (name[0], name[1], offsets[name], key, value)
        offsets[name] += 1
        if not pending[name]:
            del pending[name]


def exporter_pipeline(flavor: str, compiled: bool = True) -> Pipeline:
    flags = {"timezone": "Africa/Cairo"}
    if flavor == "postgres":
        flags.update({"topics.pattern": "{prefix}.{schema}.{table}", "topics.table-case": "lower"})
    config = load(None, flags, environ={})
    state = HospitalState(config.reference, compiled=compiled)
    return Pipeline(config, state, Telemetry())


def polls(messages: list, rng: random.Random):
    """The messages in runs of 1 to 40, as polls hand them over: consecutive messages of one
    partition form one run of records for the pipeline."""
    at = 0
    while at < len(messages):
        size = rng.choice([1, rng.randint(2, 40)])
        yield messages[at : at + size]
        at += size


def exporter_stats(
    messages, flavor: str, local_now: datetime, rng: random.Random, compiled: bool = True
) -> dict:
    pipeline = exporter_pipeline(flavor, compiled)
    state, telemetry = pipeline.state, pipeline.telemetry
    for batch in polls(messages, rng):
        pipeline.handle_batch(batch)
    results = []
    for moment in local_now:
        kpis = current_kpis(state, moment.replace(tzinfo=CAIRO).astimezone(UTC), CAIRO)
        document = stats_document(kpis, telemetry)
        document.pop("last_update")
        results.append(document)
    return results


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32),
    length=st.integers(1, 120),
    flavor=st.sampled_from(["postgres", "sqlserver"]),
    schemas=st.booleans(),
    compiled=st.booleans(),
)
def test_kpis_equal_a_direct_computation_over_the_final_rows(
    seed, length, flavor, schemas, compiled
):
    """Either store, the compiled one or the Python one, gives the KPIs of the rows."""
    from tests.support.model import expected_kpis

    rng = random.Random(seed)
    events, tables = history(rng, length)
    encoder = Encoder(flavor=flavor, schemas=schemas, time_type="Timestamp")
    messages = list(deliver(events, encoder, rng))
    before_midnight = MIDNIGHT - timedelta(seconds=1)
    after_midnight = MIDNIGHT + timedelta(seconds=1)
    got = exporter_stats(messages, flavor, [before_midnight, after_midnight], rng, compiled)
    assert got[0] == expected_kpis(tables, before_midnight.date())
    assert got[1] == expected_kpis(tables, after_midnight.date())


def indexes(state: HospitalState) -> dict:
    """Every index of the state, in a form that does not depend on the order of changes."""
    return {
        "visits_by_day": {day: set(v) for day, v in state._visits_by_day.items() if v},
        "admissions_by_day": {day: set(a) for day, a in state._admissions_by_day.items() if a},
        "open_admissions": set(state._open_admissions),
        "paid_by_day": {day: dict(p) for day, p in state._paid_by_day.items() if p},
        "history_by_visit": {v: sorted(h) for v, h in state._history_by_visit.items() if h},
        "latest": dict(state._latest),
        "by_latest_status": {s: set(v) for s, v in state._visits_by_latest_status.items() if v},
        "specialities_by_doctor": {d: dict(s) for d, s in state._specialities_by_doctor.items()},
    }


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32),
    length=st.integers(1, 120),
    keep_days=st.integers(0, 2),
    compiled=st.booleans(),
)
def test_after_a_prune_the_indexes_are_those_of_the_rows_kept(seed, length, keep_days, compiled):
    """Pruning drops rows and their index entries together: the indexes left are exactly
    those a fresh state builds from the rows that were kept."""
    rng = random.Random(seed)
    events, _ = history(rng, length)
    encoder = Encoder(flavor="postgres", schemas=False, time_type="Timestamp")
    pipeline = exporter_pipeline("postgres", compiled)
    for batch in polls(list(deliver(events, encoder, rng)), rng):
        pipeline.handle_batch(batch)
    state = pipeline.state
    today = (MIDNIGHT - datetime(1970, 1, 1)).days
    state.prune(today, keep_days, {"Finished", "Discharged", "Cancelled", "No-Show"})

    rebuilt = HospitalState(state.reference, compiled=False)
    for name, rows in state.rows.items():
        for key, (row, position) in rows.items():
            rebuilt.store(name, key, row, position)
    assert indexes(state) == indexes(rebuilt)


def _outcome(convert, value):
    try:
        return "value", convert(value)
    except Exception as error:
        return "error", type(error)


def _decimal_by_trying_first(scale: int):
    """The schema-less decimal reading before its shortcut: a number, else base64 bytes."""
    from exporter.decode import _checked_amount, _unscaled_bytes

    def convert(value: str):
        try:
            return _checked_amount(Decimal(value.strip()))
        except decimal.InvalidOperation:
            return _unscaled_bytes(value, scale)

    return convert


@settings(max_examples=400, deadline=None)
@given(
    st.text(
        alphabet=string.ascii_letters + string.digits + "+/=-._ \t" + "\u0661\u00e9",
        max_size=14,
    )
)
def test_a_schemaless_decimal_text_reads_as_when_a_number_was_tried_first(text):
    from exporter.decode import _decimal_without_schema

    assert _outcome(_decimal_without_schema(2), text) == _outcome(_decimal_by_trying_first(2), text)


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.integers(),
        st.integers(min_value=-(10**17), max_value=10**17),
        st.sampled_from([10**14 - 1, 10**14, 7_258_118_400_000_000, 7_258_118_400_000_001]),
        st.none(),
        st.floats(allow_nan=False),
    )
)
def test_a_schemaless_time_read_inline_equals_its_converter(value):
    from exporter.decode import Decoder, _compile_reader

    convert = Decoder(ZoneInfo("Africa/Cairo"))._schemaless_time
    read = _compile_reader([("t", convert, "time~")])
    assert _outcome(lambda v: read({"t": v})[0], value) == _outcome(convert, value)
