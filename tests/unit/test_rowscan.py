"""The compiled fast path (exporter._rowscan) against the interpreted one it stands in for.

For any message value, the scanner of a fast-path reader returns None or exactly what the
Python code of `Decoder.decode_row` returns for that reader and value. The tests compare the
two on a simulated day of every connector variant, on mutated and random messages, and on
chosen edge cases; the Python result is taken from the same reader with its scanner set aside.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exporter import decode
from exporter.decode import Decoder, Skip
from exporter.tables import TABLES_BY_NAME, TableSpec
from tests.support.debezium import Encoder
from tests.support.feed import messages, simulated_operations

CAIRO = ZoneInfo("Africa/Cairo")
VARIANTS = [(flavor, schemas) for flavor in ("postgres", "sqlserver") for schemas in (True, False)]
FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def test_the_extension_is_built():
    # Not a skip: a build that silently lost the extension must fail here.
    from exporter import _rowscan

    assert decode.COMPILED
    assert callable(_rowscan.RowScanner)


def test_the_inline_converters_read_null_as_none():
    """The scanner returns None for null in int, text and scaled time columns itself."""
    assert decode._int(None) is None
    assert decode._text(None) is None
    assert all(decode._scaled(factor)(None) is None for factor in (1, 1000, decode.DAY_US))


def exact(value):
    """A value with the type of every part, so that 1, True and Decimal(1) differ."""
    if type(value) is tuple:
        return ("tuple", tuple(exact(part) for part in value))
    if type(value) is Decimal:  # 1.0 == 1.00, but their texts differ
        return ("Decimal", str(value))
    return (type(value).__name__, value)


def both(decoder: Decoder, table: TableSpec, value: bytes):
    """(compiled, interpreted) results of the table's current fast-path reader."""
    fast = decoder._fast_paths[table.name]
    scan = fast.scan
    assert scan is not None
    fast.scan = None
    try:
        interpreted = decoder.decode_row(table, value)
    finally:
        fast.scan = scan
    return scan(value), interpreted


def assert_agrees(decoder: Decoder, table: TableSpec, value: bytes):
    compiled, interpreted = both(decoder, table, value)
    if compiled is not None:
        assert exact(compiled) == exact(interpreted)
    return compiled, interpreted


# -- a simulated day, every connector variant -------------------------------------------------


@pytest.mark.parametrize(("flavor", "schemas"), VARIANTS)
def test_a_simulated_day_decodes_alike(flavor, schemas):
    encoder = Encoder(flavor=flavor, schemas=schemas)
    tables = {encoder.topic(name): TABLES_BY_NAME[name] for name in TABLES_BY_NAME}
    operations = simulated_operations(
        seed=11, tz="Africa/Cairo", end_local=dt.datetime(2026, 12, 1), visits_per_day=300
    )
    decoder = Decoder(CAIRO)
    compared = declined = deletes = 0
    for topic, key, value in messages(operations, encoder, "Africa/Cairo"):
        if value is None:
            continue  # tombstones never reach the fast path
        table = tables[topic]
        if table.name in decoder._fast_paths:
            compiled, interpreted = assert_agrees(decoder, table, value)
            compared += 1
            if compiled is None:
                declined += 1
                deletes += b',"op":"d"' in value
                # Only what the Python fast path leaves to the full path too.
                assert interpreted is None
        decoder.decode(table, value, key)  # the full path learns the layouts, as in a pipeline
    assert compared > 1500
    assert declined == deletes
    assert declined < compared * 0.05


# -- mutated messages -------------------------------------------------------------------------

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
    for flavor, schemas in VARIANTS
    for time_type, decimal_mode in (
        ("MicroTimestamp", "precise"),
        ("Timestamp", "string"),
        ("ZonedTimestamp", "double"),
    )
]

# Pieces that probe the JSON rules one by one.
FRAGMENTS = [
    b" ",
    b"\t\r\n",
    b"\x0c",
    b"\x00",
    b'"',
    b"\\",
    b",",
    b":",
    b"{",
    b"}",
    b"[",
    b"]",
    b"null",
    b"nul",
    b"true",
    b"tru",
    b"false",
    b"-0",
    b"-",
    b"01",
    b"1.",
    b".5",
    b"1.5",
    b"1e5",
    b"1E-5",
    b"1e400",
    b"-1e400",
    b"1e-400",
    b"9" * 18,
    b"9" * 19,
    b"-" + b"9" * 19,
    b"9" * 40,
    b"9" * 400,
    b"0." + b"1" * 50,
    b"NaN",
    b"Infinity",
    b'"\\u00e9"',
    b'"\\ud83d\\ude00"',
    b'"\\ud800"',
    b'"\\udfff"',
    b'"\\u12"',
    b'"\\x41"',
    b'"\\/\\b\\f\\n\\r\\t\\"\\\\"',
    '"é中😀"'.encode(),
    b'"\xff"',
    b'"\xc0\x80"',
    b'"\xed\xa0\x80"',
    b'"\xf4\x90\x80\x80"',
    b'"\xe2\x82"',
    b'"\x1f"',
    b'"\x7f"',
    b"{}",
    b"[]",
    b'{"a":[1,{"b":null}],"c":"d"}',
    b"[1,2,]",
    b'{"a":1,}',
    b'{"a" 1}',
    b"[" * 40 + b"]" * 40,
    b"[" * 20 + b"]" * 20,
]

values_as_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
fragments = (
    st.sampled_from(FRAGMENTS)
    | st.binary(min_size=1, max_size=8)
    | st.builds(lambda v, a: json.dumps(v, ensure_ascii=a).encode(), values_as_json, st.booleans())
    | st.text(max_size=6).map(lambda text: b'"' + text.encode("utf-8", "surrogatepass") + b'"')
)


def learned(encoder: Encoder, table_name: str, op: str) -> tuple[Decoder, TableSpec, bytes]:
    """A decoder that has seen one intact message, and that message's value."""
    row = SAMPLE_ROWS[table_name]
    value = encoder.value(table_name, op, row if op == "u" else None, row)
    table = TABLES_BY_NAME[table_name]
    decoder = Decoder(CAIRO)
    decoder.decode(table, value)
    return decoder, table, value


def payload_start(value: bytes) -> int:
    return max(0, value.find(b'"after":', value.find(b',"payload":') + 1))


@st.composite
def mutated(draw, value: bytes, column_names: list[str]) -> bytes:
    start = payload_start(value)
    at = draw(st.integers(min_value=start, max_value=len(value)), label="at")
    kind = draw(
        st.sampled_from(["flip", "cut", "insert", "replace", "column", "repeat"]), label="kind"
    )
    if kind == "flip" and at < len(value):
        bit = draw(st.integers(min_value=0, max_value=7), label="bit")
        return value[:at] + bytes([value[at] ^ (1 << bit)]) + value[at + 1 :]
    if kind == "cut":
        return value[:at]
    if kind == "insert":
        return value[:at] + draw(fragments, label="fragment") + value[at:]
    if kind == "replace":
        size = draw(st.integers(min_value=1, max_value=12), label="size")
        return value[:at] + draw(fragments, label="fragment") + value[at + size :]
    # The value of one column of the new row, kept or not, becomes the fragment.
    name = draw(st.sampled_from(column_names), label="column").encode()
    mark = b'"' + name + b'":'
    found = value.find(mark, start)
    if found < 0:
        return value
    if kind == "repeat":  # the same key twice in the row
        return value[:found] + mark + draw(fragments) + b"," + value[found:]
    begin = found + len(mark)
    end = begin
    while end < len(value) and value[end : end + 1] not in (b",", b"}"):
        end += 1
    return value[:begin] + draw(fragments, label="fragment") + value[end:]


@FUZZ
@given(
    st.sampled_from(range(len(ENCODERS))),
    st.sampled_from(sorted(SAMPLE_ROWS)),
    st.sampled_from(["c", "u", "r"]),
    st.data(),
)
def test_mutated_messages_are_declined_or_decoded_alike(encoder_index, table_name, op, data):
    encoder = ENCODERS[encoder_index]
    decoder, table, value = learned(encoder, table_name, op)
    columns = [encoder.name(column) for column in SAMPLE_ROWS[table_name]]
    assert_agrees(decoder, table, data.draw(mutated(value, columns), label="value"))


@FUZZ
@given(st.sampled_from(range(len(ENCODERS))), st.binary(max_size=200), st.booleans())
def test_random_bytes_are_declined_or_decoded_alike(encoder_index, noise, with_prefix):
    decoder, table, value = learned(ENCODERS[encoder_index], "Visits", "c")
    prefix = decoder._fast_paths[table.name].prefix if with_prefix else b""
    assert_agrees(decoder, table, prefix + noise)
    compiled, _ = assert_agrees(decoder, table, value[: payload_start(value)] + noise)
    assert compiled is None or type(compiled) is tuple


# -- chosen cases -----------------------------------------------------------------------------


def speciality(location: bytes, name: bytes = b'"Emergency"') -> bytes:
    """A bare PostgreSQL Speciality create with the given JSON texts of two columns."""
    return (
        b'{"before":null,"after":{"specialityid":1,"specialityname":' + name + b","
        b'"location":' + location + b'},"source":{"version":"3.6.1.Final","ts_ms":1,'
        b'"lsn":123,"xmin":null},"transaction":null,"op":"c","ts_ms":4}'
    )


@pytest.fixture
def bare() -> tuple[Decoder, TableSpec]:
    decoder = Decoder(CAIRO)
    table = TABLES_BY_NAME["Speciality"]
    decoder.decode(table, speciality(b'"Ground"'))
    return decoder, table


def test_the_chosen_layout_is_taken(bare):
    compiled, _ = assert_agrees(*bare, speciality(b'"Ground"'))
    assert compiled == ("c", 1, (1, "Emergency"), (123,))


@pytest.mark.parametrize(
    "location",
    [
        '"Étage 2, 中"'.encode(),
        b'"\\u00c9tage \\u4e2d \\"west\\" \\/\\b\\f\\n\\r\\t\\\\"',
        b'{"floor":[1,2.5e3,-0.25,{"wing":null}],"lit":true}',
        b"-0",
        b"1e-400",
        b"9" * 300,
        b" \t\r\n null \n",
    ],
)
def test_unkept_values_of_any_valid_json_are_accepted(bare, location):
    compiled, interpreted = assert_agrees(*bare, speciality(location))
    assert compiled is not None and compiled == interpreted


@pytest.mark.parametrize(
    ("location", "orjson_accepts"),
    [
        (b'"\xff"', False),  # invalid UTF-8
        (b'"\xed\xa0\x80"', False),  # an encoded surrogate
        (b'"\xc0\x80"', False),  # an overlong form
        (b'"a\x01b"', False),  # a raw control character
        (b"1e400", False),  # infinite as a double
        (b"9" * 309, False),
        (b"01", False),
        (b"[1,]", False),
        (b'"\\ud83d\\ude00"[', False),
        (b'"\\ud800"', False),  # a lone surrogate escape
        (b'"\\ud83d\\ude00"', True),  # surrogate escapes are left to orjson altogether
        (b"[" * 40 + b"]" * 40, True),  # deeper than the scanner goes
        (b"1e301", True),  # finite, but near enough to the limit to leave to orjson
    ],
)
def test_unkept_values_the_scanner_cannot_vouch_for_are_declined(bare, location, orjson_accepts):
    compiled, interpreted = both(*bare, speciality(location))
    assert compiled is None
    assert (interpreted is not None) == orjson_accepts


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        (b'"Em\\u0065rgency"', "an escape in a kept string"),
        (b"1234567890123456789", "19 digits"),
        (b"1.5", "a float"),
        (b'["Emergency"]', "an array"),
    ],
)
def test_kept_values_only_python_reads_are_declined(bare, name, reason):
    decoder, table = bare
    compiled, interpreted = both(decoder, table, speciality(b"null", name))
    assert compiled is None, reason
    assert interpreted is None or interpreted[2][1] is not None


def test_a_kept_integer_of_18_digits_is_read(bare):
    decoder, table = bare
    value = speciality(b"null").replace(
        b'"specialityid":1,', b'"specialityid":-999999999999999999,'
    )
    compiled, _ = assert_agrees(decoder, table, value)
    assert compiled[1] == -999_999_999_999_999_999


@pytest.mark.parametrize(
    "value",
    [
        speciality(b'"Ground"').replace(b'},"source"', b'}x,"source"'),  # trailing garbage
        speciality(b'"Ground"').replace(b'"after":{', b'"after":null,"x":{'),
        b'{"before":null,"after":null,"source":{"lsn":1},"op":"c"}',
        speciality(b'"Ground"').replace(b'"specialityid":1', b'"specialityid":null'),
        speciality(b'"Ground"').replace(b'"specialityid":1,', b""),  # a kept column missing
        speciality(b'"Ground"').replace(b'{"specialityid"', b'{"specialityid":2,"specialityid"'),
        speciality(b'"Ground"').replace(b'"op":"c"', b'"op":"d"'),
        speciality(b'"Ground"').replace(b'"lsn":123', b'"lsn":"123"'),
        speciality(b'"Ground"').replace(b'"lsn":123', b'"lsn":1234567890123456789'),
        speciality(b'"Ground"')[:-20],
    ],
)
def test_other_shapes_are_declined(bare, value):
    compiled, _ = both(*bare, value)
    assert compiled is None


def test_only_bytes_are_scanned(bare):
    decoder, table = bare
    scan = decoder._fast_paths[table.name].scan
    value = speciality(b'"Ground"')
    assert scan(value) is not None
    assert scan(bytearray(value)) is None
    assert scan(memoryview(value)) is None
    assert scan(value.decode()) is None
    with pytest.raises(TypeError):
        scan()


def sqlserver_value(source: bytes) -> bytes:
    return (
        b'{"before":null,"after":{"VisitID":4,"PatientID":1,"DoctorID":2,"ClassificationID":3,'
        b'"TypeID":1,"VisitDate":1796289300000000},"source":{"version":"3.6.1.Final",'
        + source
        + b'},"transaction":null,"op":"u","ts_ms":4}'
    )


LSN = b"0000002a:00000758:0003"


@pytest.mark.parametrize(
    ("source", "position"),
    [
        (
            b'"change_lsn":"' + LSN + b'","commit_lsn":"' + LSN + b'","event_serial_no":2',
            (LSN, LSN, 2),
        ),
        (b'"change_lsn":null,"commit_lsn":"' + LSN + b'","event_serial_no":1', (LSN, b"", 1)),
        (b'"commit_lsn":"' + LSN + b'","change_lsn":"' + LSN + b'","event_serial_no":1', None),
        (b'"change_lsn":"' + LSN + b'","commit_lsn":"' + LSN + b'","event_serial_no":-1', None),
        (b'"change_lsn":"' + LSN + b'","commit_lsn":"' + LSN + b'","event_serial_no":x', None),
        (b'"change_lsn":"' + LSN[:-1] + b'","commit_lsn":"' + LSN + b'"', None),
        (b'"lsn":null,"xmin":null', "none"),
        (b'"lsn":00123,"xmin":null', (123,)),
        (b'"lsn":null', None),
        (b'"txId":1', None),
    ],
)
def test_source_positions(source, position):
    decoder = Decoder(CAIRO)
    table = TABLES_BY_NAME["Visits"]
    decoder.decode(table, sqlserver_value(b'"lsn":1,"xmin":null'))
    compiled, interpreted = assert_agrees(decoder, table, sqlserver_value(source))
    if position is None:
        assert compiled is None
    else:
        assert compiled is not None
        assert compiled[3] == (None if position == "none" else position)


# -- the converters ---------------------------------------------------------------------------


def test_a_rejected_value_is_declined_without_an_error(bare):
    decoder, table = bare
    value = speciality(b'"Ground"').replace(b'"specialityname":"Emergency"', b'"specialityname":5')
    compiled, interpreted = both(decoder, table, value)
    assert compiled is None and interpreted is None


def test_a_converter_is_called_for_other_kinds():
    decoder = Decoder(CAIRO)
    table = TABLES_BY_NAME["Doctor_Speciality"]
    encoder = Encoder(flavor="postgres", schemas=False)
    row = {"DoctorID": 2, "SpecialityID": 1, "IsPrimary": True}
    decoder.decode(table, encoder.value("Doctor_Speciality", "c", None, row))
    value = encoder.value("Doctor_Speciality", "u", row, {**row, "IsPrimary": "yes"})
    compiled, _ = assert_agrees(decoder, table, value)
    assert compiled[1:3] == ((2, 1), (2, 1, True))


def test_errors_other_than_exceptions_go_through():
    from exporter import _rowscan

    def interrupted(value):
        raise KeyboardInterrupt

    def failing(value):
        raise ValueError("no")

    value = b'{"before":null,"after":{"a":1},"source":{"lsn":5,"xmin":null},"op":"c"}'
    for convert, outcome in ((failing, None), (interrupted, KeyboardInterrupt)):
        column = (b"a", _rowscan.CALL, 1, 0, 0, convert)
        scan = _rowscan.RowScanner(b'{"before":', 0, (column,), 1)
        if outcome is None:
            assert scan(value) is None
        else:
            with pytest.raises(outcome):
                scan(value)
    ok = _rowscan.RowScanner(b'{"before":', 0, ((b"a", _rowscan.CALL, 1, 0, 0, str),), 1)
    assert ok(value) == ("c", "1", ("1",), (5,))


@pytest.mark.parametrize(
    "columns",
    [
        ((b"a", 7, 1, 0, 0, str),),
        ((b"a", 1, 10, 0, 2**62, str),),
        (("a", 0, 1, 0, 0, str),),
        ((b"a", 0, 1, 0, 0, None),),
        ((b"a", 0, 1, 0, 0),),
        [(b"a", 0, 1, 0, 0, str)],
    ],
)
def test_a_scanner_checks_what_it_is_built_from(columns):
    from exporter import _rowscan

    with pytest.raises((TypeError, ValueError)):
        _rowscan.RowScanner(b"{", 0, columns, 1)


def test_a_schema_change_builds_a_new_scanner():
    decoder = Decoder(CAIRO)
    table = TABLES_BY_NAME["Visits"]
    row = SAMPLE_ROWS["Visits"]
    micro = Encoder(time_type="MicroTimestamp").value("Visits", "c", None, row)
    milli = Encoder(time_type="Timestamp").value("Visits", "c", None, row)
    decoder.decode(table, micro)
    first = decoder._fast_paths[table.name].scan
    assert first(milli) is None  # another prefix
    decoder.decode(table, milli)
    compiled, _ = assert_agrees(decoder, table, milli)
    assert decoder._fast_paths[table.name].scan is not first
    assert compiled[2] == decoder.decode(table, micro).row


def test_full_decoding_is_unchanged():
    """decode() takes the compiled result when there is one, and reports skips as before."""
    decoder = Decoder(CAIRO)
    table = TABLES_BY_NAME["Bills"]
    encoder = Encoder(flavor="sqlserver")
    row = SAMPLE_ROWS["Bills"]
    decoder.decode(table, encoder.value("Bills", "c", None, row))
    change = decoder.decode(table, encoder.value("Bills", "u", row, row))
    assert change.row[1] == Decimal("1234.50") and change.row[2] == "Paid"
    broken = encoder.value("Bills", "u", row, {**row, "PaymentStatus": 5})
    with pytest.raises(Skip) as skipped:
        decoder.decode(table, broken)
    assert skipped.value.reason == "bad_field"
    assert orjson.loads(broken)  # a valid message, left to the full path


# -- runs of records --------------------------------------------------------------------------


class Record:
    def __init__(self, value):
        self.value = value


def bare_value(lsn: int, specialityid: int, op: bytes = b"c") -> bytes:
    return (
        b'{"before":null,"after":{"specialityid":%d,"specialityname":"Emergency",'
        b'"location":null},"source":{"version":"3.6.1.Final","ts_ms":1,"lsn":%d,"xmin":null},'
        b'"transaction":null,"op":"%s","ts_ms":4}' % (specialityid, lsn, op)
    )


def test_a_run_is_stored_in_order_up_to_the_first_declined_record(bare):
    decoder, table = bare
    scanner = decoder.scanner(table)
    stored = []

    def store(key, row, position):
        stored.append((key, row, position))
        return key != 3  # the store refuses key 3 as an older version

    records = [
        Record(bare_value(10, 1)),
        Record(bare_value(11, 2, b"u")),
        Record(bare_value(12, 3)),
        Record(bare_value(13, 4, b"r")),
        Record(None),  # a tombstone: left to the per-record path
        Record(bare_value(14, 5)),
    ]
    assert scanner.apply(records, 0, store) == (4, 1, 1, 1, 1, 3)
    assert stored == [
        (1, (1, "Emergency"), (10,)),
        (2, (2, "Emergency"), (11,)),
        (3, (3, "Emergency"), (12,)),
        (4, (4, "Emergency"), (13,)),
    ]
    assert scanner.apply(records, 5, store) == (6, 1, 0, 0, 0, 5)
    assert scanner.apply(records, 6, store) == (6, 0, 0, 0, 0, -1)
    # A delete is declined too, and nothing is stored for it.
    delete = [Record(bare_value(15, 6, b"d"))]
    assert scanner.apply(delete, 0, store) == (0, 0, 0, 0, 0, -1)
    assert len(stored) == 5


def test_a_run_takes_a_list_of_records_and_lets_errors_through(bare):
    decoder, table = bare
    scanner = decoder.scanner(table)
    records = [Record(bare_value(10, 1))]

    def failing(key, row, position):
        raise RuntimeError("store failed")

    with pytest.raises(TypeError):
        scanner.apply(tuple(records), 0, failing)
    with pytest.raises(RuntimeError):
        scanner.apply(records, 0, failing)
    with pytest.raises(AttributeError):
        scanner.apply([object()], 0, failing)
    assert scanner.apply(records, -5, lambda *row: True) == (1, 1, 0, 0, 0, 0)


def test_the_pipeline_applies_runs_with_declined_records_among_them():
    """Deletes, tombstones and bad values inside a run go the per-record way; the rest of the
    run still lands, in order, and every event is counted once."""
    from exporter.config import load
    from exporter.pipeline import Pipeline
    from exporter.state import HospitalState
    from exporter.telemetry import Telemetry

    config = load(
        None,
        {"topics.pattern": "{prefix}.{schema}.{table}", "topics.table-case": "lower"},
        environ={},
    )
    pipeline = Pipeline(config, HospitalState(config.reference), Telemetry())
    topic = config.topic("Speciality")
    values = [
        bare_value(10, 1),
        bare_value(11, 2),
        bare_value(12, 1, b"d").replace(b'"before":null,"after"', b'"after":null,"before"'),
        None,
        bare_value(9, 2, b"u"),  # older than the version held: stale
        b"{not json",
        bare_value(13, 3),
        bare_value(14, 4, b"u"),
    ]
    pipeline.handle_batch([(topic, 0, offset, None, value) for offset, value in enumerate(values)])
    assert sorted(pipeline.state.rows["Speciality"]) == [2, 3, 4]
    assert pipeline.telemetry.applied == {
        ("Speciality", "c"): 3,
        ("Speciality", "d"): 1,
        ("Speciality", "u"): 1,
    }
    assert pipeline.telemetry.skipped == {
        ("Speciality", "tombstone"): 1,
        ("Speciality", "stale_version"): 1,
        ("Speciality", "bad_json"): 1,
    }


# -- amounts ----------------------------------------------------------------------------------


def bill(amount: bytes, schemas: bool) -> tuple[Decoder, TableSpec, bytes]:
    """A decoder that has learnt the Bills layout, and a bill with the given TotalAmount text."""
    encoder = Encoder(flavor="postgres", schemas=schemas, decimal_mode="precise")
    decoder, table, value = learned(encoder, "Bills", "c")
    mark = b'"totalamount":'
    begin = value.index(mark, payload_start(value)) + len(mark)
    end = value.index(b",", begin)
    return decoder, table, value[:begin] + amount + value[end:]


def base64_of(unscaled: int, size: int) -> bytes:
    return b'"' + base64.b64encode(unscaled.to_bytes(size, "big", signed=True)) + b'"'


@pytest.mark.parametrize("schemas", [True, False])
@pytest.mark.parametrize(
    "amount",
    [
        base64_of(123450, 3),
        base64_of(-123450, 3),
        base64_of(0, 1),
        base64_of(-1, 1),
        base64_of(127, 1),
        base64_of(-128, 1),
        base64_of(99_999_999_999, 5),
        base64_of(10**12 - 1, 6),  # the largest amount under 10**10 at scale 2
        base64_of(10**12, 6),  # out of range: the converter refuses it
        base64_of(-(10**12), 8),
        base64_of(5, 8),
        base64_of(5, 9),  # nine bytes: left to the converter
        b'"AB=="',  # the last byte's spare bits set, which base64 decoding ignores
        b'"ABC="',
        b'"A==="',
        b'"AB=C"',
        b'"ABC"',
        b'"AB CD"',
        b'"1234"',  # a number text first, without a schema
        b'"12e4"',
        b'"NaN+"',
        b'"+/+/"',
        b'"////"',
        b'""',
        b'"\\u0041BCD"',  # an escape
        b"null",
        b"12",
        b"1.5",
    ],
)
def test_amounts_read_in_c_equal_those_of_the_converter(amount, schemas):
    decoder, table, value = bill(amount, schemas)
    compiled, interpreted = assert_agrees(decoder, table, value)
    if interpreted is not None and amount.startswith(b'"') and b"\\" not in amount:
        assert compiled is not None


@FUZZ
@given(st.binary(min_size=0, max_size=10), st.booleans(), st.booleans())
def test_any_base64_amount_reads_alike(raw, schemas, pad):
    text = base64.b64encode(raw)
    decoder, table, value = bill(b'"' + (text if pad else text.rstrip(b"=")) + b'"', schemas)
    assert_agrees(decoder, table, value)


def test_canonical_base64_amounts_never_reach_the_converter():
    from exporter import _rowscan

    def refuse(value):
        raise ValueError("the converter was called")

    def scanned(kind, text: bytes):
        column = (b"a", kind, 2, 0, 0, refuse)
        scan = _rowscan.RowScanner(b'{"before":', 0, (column,), 1)
        value = b'{"before":null,"after":{"a":"%s"},"source":{"lsn":5,"xmin":null},"op":"c"}'
        return scan(value % text)

    amount = base64.b64encode((123456).to_bytes(3, "big", signed=True))
    for kind in (_rowscan.BASE64_DECIMAL, _rowscan.UNTYPED_DECIMAL):
        assert scanned(kind, amount) == ("c", Decimal("1234.56"), (Decimal("1234.56"),), (5,))
        assert str(scanned(kind, base64.b64encode(b"\x00"))[1]) == "0.00"
    # A number text without a schema is the converter's to read.
    assert scanned(_rowscan.BASE64_DECIMAL, b"1234")[1] == Decimal("-26588.24")
    assert scanned(_rowscan.UNTYPED_DECIMAL, b"1234") is None
