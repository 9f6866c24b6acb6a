"""Decoding Debezium envelopes kept as files, in every encoding the connectors produce."""

from __future__ import annotations

import base64
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import orjson
import pytest

from exporter.decode import DAY_US, Decoder, Skip, wall_us_from_datetime
from exporter.tables import BILLS, STATUS_HISTORY, VISITS
from tests.support.debezium import Encoder
from tests.support.envelopes import load_envelope

CAIRO = ZoneInfo("Africa/Cairo")
VISIT_TIME = datetime(2026, 12, 3, 9, 30, 15)


def wall(moment: datetime) -> int:
    return wall_us_from_datetime(moment, CAIRO)


def decode_file(name: str, table, decoder: Decoder | None = None):
    _, _, _, key, value = load_envelope(name)
    return (decoder or Decoder(CAIRO)).decode(table, value, key)


@pytest.mark.parametrize(
    "time_type", ["Timestamp", "MicroTimestamp", "NanoTimestamp", "ConnectTimestamp"]
)
def test_wall_clock_times_are_read_as_hospital_local_time(time_type):
    change = decode_file(f"sqlserver_visit_{time_type}.json", VISITS)
    assert change.op == "c"
    assert change.key == 101
    assert change.row == (101, 7, 3, wall(VISIT_TIME))


def test_zoned_timestamp_is_converted_into_the_hospital_zone():
    # 09:30:15+02:00 is 09:30:15 in Cairo in December (EET, UTC+2).
    change = decode_file("sqlserver_visit_ZonedTimestamp.json", VISITS)
    assert change.row[3] == wall(VISIT_TIME)
    in_utc = Decoder(ZoneInfo("UTC")).decode(
        VISITS, load_envelope("sqlserver_visit_ZonedTimestamp.json")[4]
    )
    assert in_utc.row[3] == wall(datetime(2026, 12, 3, 7, 30, 15))


@pytest.mark.parametrize("mode", ["precise", "variable", "string", "double"])
def test_every_decimal_mode_gives_the_exact_amount(mode):
    change = decode_file(f"postgres_bill_decimal_{mode}.json", BILLS)
    assert change.op == "u"
    assert change.row[1] == Decimal("7500.00")
    assert isinstance(change.row[1], Decimal)
    assert change.row[2] == "Paid"


def test_seed_base64_decimal_without_schema_uses_the_declared_scale():
    change = decode_file("seed_bill_base64_bare.json", BILLS)
    assert change.row[1] == Decimal("7500.00")  # "C3Gw" is 750000 unscaled
    assert change.position == (b"00000027:00000758:0003", b"00000027:00000758:0002", 1)
    assert change.source_ts_ms == 1764754216000


def test_scale_struct_and_offset_string_without_schema():
    change = decode_file("seed_bill_scale_struct_bare.json", BILLS)
    assert change.row[1] == Decimal("7500.00")
    assert change.row[3] == wall(datetime(2026, 12, 3, 11, 30, 15))


def test_delete_takes_the_key_from_the_old_row():
    change = decode_file("postgres_visit_delete.json", VISITS)
    assert (change.op, change.key, change.row) == ("d", 101, None)
    assert change.position == (24_000_200,)


def test_delete_without_old_row_takes_the_key_from_the_message_key():
    encoder = Encoder(flavor="postgres")
    value = orjson.loads(encoder.value("Visits", "d", before={"VisitID": 5}))
    value["payload"]["before"] = None
    change = Decoder(CAIRO).decode(
        VISITS, orjson.dumps(value), encoder.key("Visits", {"VisitID": 5})
    )
    assert change.key == 5


def test_snapshot_reads_are_row_versions_like_creates():
    change = decode_file("postgres_visit_snapshot_read.json", VISITS)
    assert change.op == "r" and change.key == 101


def test_status_without_schema_and_lower_case_columns():
    change = decode_file("postgres_status_bare.json", STATUS_HISTORY)
    assert change.row == (55, 999, 2, wall(VISIT_TIME))


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("postgres_visit_tombstone.json", "tombstone"),
        ("null_payload.json", "null_payload"),
        ("malformed_json.json", "bad_json"),
    ],
)
def test_messages_that_are_not_changes_are_skipped_with_a_reason(name, reason):
    with pytest.raises(Skip) as skipped:
        decode_file(name, VISITS)
    assert skipped.value.reason == reason


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"[1, 2]", "not_an_envelope"),
        (b'{"op": "x", "after": {}}', "unknown_op"),
        (b'{"op": "t", "after": null}', "unknown_op"),
        (b'{"something": "else"}', "not_an_envelope"),
        (b'{"op": "c", "after": null}', "not_an_envelope"),
        (
            b'{"op": "c", "after": {"VisitID": null, "DoctorID": 1, "ClassificationID": 1,'
            b' "VisitDate": 1}}',
            "missing_key",
        ),
        (
            b'{"op": "c", "after": {"VisitID": "abc", "DoctorID": 1, "ClassificationID": 1,'
            b' "VisitDate": 1}}',
            "bad_field",
        ),
        (b'{"op": "c", "after": {"VisitID": 1, "DoctorID": 1}}', "bad_field"),
        (
            b'{"op": "c", "after": {"VisitID": 1, "DoctorID": 1, "ClassificationID": 1,'
            b' "VisitDate": 99999999999999999999999}}',
            "bad_field",
        ),
        (b'{"op": "d", "before": null}', "missing_key"),
    ],
)
def test_bad_shapes_are_skipped_with_a_reason(value, reason):
    with pytest.raises(Skip) as skipped:
        Decoder(CAIRO).decode(VISITS, value)
    assert skipped.value.reason == reason


def test_skip_details_never_carry_the_value():
    value = (
        b'{"op": "c", "after": {"VisitID": 1, "DoctorID": "Omar Ali 01011111111",'
        b' "ClassificationID": 1, "VisitDate": 1}}'
    )
    with pytest.raises(Skip) as skipped:
        Decoder(CAIRO).decode(VISITS, value)
    assert "Omar" not in str(skipped.value) and "0101" not in str(skipped.value)
    assert "DoctorID" in skipped.value.detail


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (20_425, datetime(2025, 12, 3)),  # days
        (1_764_754_215, datetime(2025, 12, 3, 9, 30, 15)),  # seconds
        (1_764_754_215_000, datetime(2025, 12, 3, 9, 30, 15)),  # ms
        (1_764_754_215_000_000, datetime(2025, 12, 3, 9, 30, 15)),  # µs
        (1_764_754_215_000_000_000, datetime(2025, 12, 3, 9, 30, 15)),  # ns
        ("1764754215000", datetime(2025, 12, 3, 9, 30, 15)),
        ("2025-12-03T09:30:15", datetime(2025, 12, 3, 9, 30, 15)),
        ("2025-12-03T07:30:15Z", datetime(2025, 12, 3, 9, 30, 15)),
    ],
)
def test_times_without_schema_are_told_by_magnitude_or_format(number, expected):
    value = orjson.dumps(
        {
            "op": "c",
            "after": {"VisitID": 1, "DoctorID": 1, "ClassificationID": 1, "VisitDate": number},
        }
    )
    assert Decoder(CAIRO).decode(VISITS, value).row[3] == wall(expected)


def test_debezium_date_type_is_days_since_epoch():
    encoder = Encoder(flavor="sqlserver")
    document = orjson.loads(encoder.value("Visits", "c", after={"VisitID": 1, "DoctorID": 1}))
    for row_schema in document["schema"]["fields"][:2]:  # before and after
        row_schema["fields"][5].update(name="io.debezium.time.Date", type="int32")
    document["payload"]["after"]["VisitDate"] = 20_425
    change = Decoder(CAIRO).decode(VISITS, orjson.dumps(document))
    assert change.row[3] == 20_425 * DAY_US


def test_the_schema_prefix_is_reused_and_a_new_schema_is_noticed():
    decoder = Decoder(CAIRO)
    micro = Encoder(flavor="postgres", time_type="MicroTimestamp")
    first = micro.value("Visits", "c", after={"VisitID": 1, "DoctorID": 1, "VisitDate": VISIT_TIME})
    second = micro.value(
        "Visits", "c", after={"VisitID": 2, "DoctorID": 1, "VisitDate": VISIT_TIME}
    )
    assert decoder.decode(VISITS, first).row[3] == wall(VISIT_TIME)
    assert decoder.decode(VISITS, second).key == 2
    # The table's time column changes type: the cached schema no longer applies.
    milli = Encoder(flavor="postgres", time_type="Timestamp")
    third = milli.value("Visits", "c", after={"VisitID": 3, "DoctorID": 1, "VisitDate": VISIT_TIME})
    assert decoder.decode(VISITS, third).row[3] == wall(VISIT_TIME)


def test_huge_and_negative_base64_amounts():
    decoder = Decoder(CAIRO)
    negative = (-1250).to_bytes(2, "big", signed=True)
    value = orjson.dumps(
        {
            "op": "c",
            "after": {
                "BillID": 1,
                "TotalAmount": {"scale": 2, "value": base64.b64encode(negative).decode()},
                "PaymentStatus": "Paid",
                "PaymentDate": 1,
            },
        }
    )
    assert decoder.decode(BILLS, value).row[1] == Decimal("-12.50")
    huge = base64.b64encode((10**30).to_bytes(13, "big", signed=True)).decode()
    value = orjson.dumps(
        {
            "op": "c",
            "after": {
                "BillID": 1,
                "TotalAmount": {"scale": 2, "value": huge},
                "PaymentStatus": "Paid",
                "PaymentDate": 1,
            },
        }
    )
    with pytest.raises(Skip) as skipped:
        decoder.decode(BILLS, value)
    assert skipped.value.reason == "bad_field"
