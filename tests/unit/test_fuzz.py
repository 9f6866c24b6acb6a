"""The decoder against hostile input: whatever bytes arrive, it returns a Change or raises Skip.

Three kinds of input: random bytes, random JSON documents shaped loosely like an envelope, and
real envelopes (both connectors, with and without schemas) with one part replaced or cut. Any
other exception would escape the pipeline's per-message handling and stop the consumer, so it
is a bug. The run is bounded in examples and in time so that it fits in CI.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exporter.decode import Change, Decoder, Skip
from exporter.tables import TABLES, TABLES_BY_NAME
from tests.support.debezium import Encoder

CAIRO = ZoneInfo("Africa/Cairo")
FUZZ = settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SAMPLE_ROWS = {
    "Visits": {
        "VisitID": 7,
        "PatientID": 3,
        "DoctorID": 2,
        "ClassificationID": 3,
        "TypeID": 1,
        "VisitDate": dt.datetime(2026, 12, 3, 9, 15),
    },
    "VisitStatusHistory": {
        "HistoryID": 70,
        "VisitID": 7,
        "StatusID": 2,
        "StatusTime": dt.datetime(2026, 12, 3, 9, 16),
    },
    "Admissions": {
        "AdmissionID": 5,
        "VisitID": 7,
        "BedID": 4,
        "AdmissionDate": dt.datetime(2026, 12, 3, 10, 0),
        "DischargeDate": None,
    },
    "Bills": {
        "BillID": 9,
        "VisitID": 7,
        "AdmissionID": None,
        "PayerTypeID": 1,
        "BillDate": dt.datetime(2026, 12, 3, 11, 0),
        "TotalAmount": Decimal("1234.50"),
        "PaymentStatus": "Paid",
        "PaymentDate": dt.datetime(2026, 12, 3, 11, 5),
    },
    "VisitClassification": {"ClassificationID": 3, "ClassificationName": "Emergency"},
    "VisitStatus": {"StatusID": 2, "StatusName": "Waiting"},
    "Speciality": {"SpecialityID": 1, "SpecialityName": "Emergency", "Location": "Ground"},
    "Doctor_Speciality": {"DoctorID": 2, "SpecialityID": 1, "IsPrimary": True},
}

ENCODERS = [
    Encoder(flavor=flavor, schemas=schemas, time_type=time_type, decimal_mode=decimal_mode)
    for flavor in ("postgres", "sqlserver")
    for schemas in (True, False)
    for time_type, decimal_mode in (("MicroTimestamp", "precise"), ("ZonedTimestamp", "string"))
]

table_names = st.sampled_from([table.name for table in TABLES])
WITH_SCHEMAS = [index for index, encoder in enumerate(ENCODERS) if encoder.schemas]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from(["c", "u", "d", "r", "AAAA", "2026-12-03T09:15:00+02:00", "1e400", ""])
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
envelope_keys = st.sampled_from(
    ["before", "after", "source", "op", "ts_ms", "payload", "schema", "visitid", "VisitID"]
)
loose_envelopes = st.dictionaries(envelope_keys | st.text(max_size=8), json_values, max_size=8)


def check(table_name: str, value: bytes | None, key: bytes | None, decoder: Decoder) -> None:
    table = TABLES_BY_NAME[table_name]
    try:
        result = decoder.decode(table, value, key)
    except Skip as skip:
        assert isinstance(skip.reason, str) and skip.reason
        return
    assert isinstance(result, Change)
    assert result.op in ("c", "u", "d", "r")
    assert (result.row is None) == (result.op == "d")
    if result.row is not None:
        assert len(result.row) == len(table.columns)


def dumps(document) -> bytes:
    # orjson refuses integers beyond 64 bits; those still make a valid JSON text.
    try:
        return orjson.dumps(document)
    except TypeError:
        import json

        return json.dumps(document).encode()


@FUZZ
@given(table_names, st.binary(max_size=300), st.none() | st.binary(max_size=40))
def test_random_bytes_are_skipped_or_decoded(table_name, value, key):
    check(table_name, value, key, Decoder(CAIRO))


# Generating nested documents costs far more than decoding them: fewer examples, same time.
@settings(FUZZ, max_examples=300)
@given(table_names, loose_envelopes, st.none() | loose_envelopes)
def test_random_json_shapes_are_skipped_or_decoded(table_name, document, key_document):
    key = None if key_document is None else dumps(key_document)
    check(table_name, dumps(document), key, Decoder(CAIRO))


def real_document(encoder: Encoder, table_name: str, op: str) -> dict:
    row = SAMPLE_ROWS[table_name]
    before, after = (row, None) if op == "d" else (None, row)
    return orjson.loads(encoder.value(table_name, op, before, after))


def paths(document, prefix=()):
    """Every (path) of a nested JSON document, so a mutation can target any part."""
    yield prefix
    if isinstance(document, dict):
        for name, child in document.items():
            yield from paths(child, (*prefix, name))
    elif isinstance(document, list):
        for index, child in enumerate(document):
            yield from paths(child, (*prefix, index))


def replaced(document, path, new):
    if not path:
        return new
    copy = orjson.loads(orjson.dumps(document))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return copy


@FUZZ
@given(
    st.sampled_from(range(len(ENCODERS))),
    table_names,
    st.sampled_from(["c", "u", "d", "r"]),
    st.data(),
)
def test_mutated_payloads_are_skipped_or_decoded(encoder_index, table_name, op, data):
    encoder = ENCODERS[encoder_index]
    document = real_document(encoder, table_name, op)
    payload_paths = [path for path in paths(document) if path[:1] != ("schema",)]
    path = data.draw(st.sampled_from(payload_paths), label="path")
    mutated = replaced(document, path, data.draw(json_values, label="new value"))
    decoder = Decoder(CAIRO)
    # The first, intact message teaches the decoder the schema prefix; the mutated one must
    # not be trusted just because it starts with the same bytes.
    intact = dumps(document)
    check(table_name, intact, None, decoder)
    check(table_name, dumps(mutated), None, decoder)


@FUZZ
@given(
    st.sampled_from(range(len(ENCODERS))),
    table_names,
    st.data(),
)
def test_cut_or_spliced_envelopes_are_skipped_or_decoded(encoder_index, table_name, data):
    encoder = ENCODERS[encoder_index]
    value = dumps(real_document(encoder, table_name, "u"))
    cut = data.draw(st.integers(min_value=0, max_value=len(value)), label="cut")
    splice = data.draw(st.binary(max_size=20), label="splice")
    decoder = Decoder(CAIRO)
    check(table_name, value, None, decoder)
    check(table_name, value[:cut] + splice + value[cut + len(splice) :], None, decoder)
    check(table_name, value[:cut], None, decoder)


@pytest.mark.parametrize("encoder", ENCODERS, ids=repr)
def test_the_intact_samples_decode(encoder):
    """The mutation tests start from messages the decoder accepts."""
    decoder = Decoder(CAIRO)
    for table in TABLES:
        for op in ("c", "d"):
            value = dumps(real_document(encoder, table.name, op))
            change = decoder.decode(table, value, None)
            assert change.op == op


BROKEN_SCHEMAS = {
    "fields is a number": (("schema", "fields"), 1),
    "a field is null": (("schema", "fields", 0), None),
    "row fields is a number": (("schema", "fields", 1, "fields"), 1),
    "a row field is null": (("schema", "fields", 1, "fields"), [None]),
}


@pytest.mark.parametrize("case", list(BROKEN_SCHEMAS))
def test_a_wrong_shaped_schema_is_skipped(case):
    path, new = BROKEN_SCHEMAS[case]
    document = replaced(real_document(Encoder(), "Visits", "c"), path, new)
    with pytest.raises(Skip):
        Decoder(CAIRO).decode(TABLES_BY_NAME["Visits"], dumps(document), None)


@settings(FUZZ, max_examples=300, derandomize=True)
@given(st.sampled_from(WITH_SCHEMAS), table_names, st.data())
def test_mutated_schemas_are_skipped_or_decoded(encoder_index, table_name, data):
    encoder = ENCODERS[encoder_index]
    document = real_document(encoder, table_name, "c")
    schema_paths = [path for path in paths(document) if path[:1] == ("schema",)]
    path = data.draw(st.sampled_from(schema_paths), label="path")
    mutated = replaced(document, path, data.draw(json_values, label="new value"))
    check(table_name, dumps(mutated), None, Decoder(CAIRO))
