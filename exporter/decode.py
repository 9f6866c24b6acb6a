"""Debezium change events, as written by Kafka Connect's JSON converter, into row changes.

A message value is either `{"schema": ..., "payload": <envelope>}` or the bare envelope
`{"before", "after", "source", "op", "ts_ms"}`. With a schema, each column is read by its
logical type (Debezium time types, Connect Decimal...); without one, by the shape of the value.

Times are returned as hospital wall-clock microseconds since the epoch ("wall µs"): SQL Server
`datetime2` and PostgreSQL `timestamp` carry no zone and Debezium encodes their wall-clock value
as if it were UTC, so the number is used as it is; values that carry an offset are converted
into the hospital's time zone first.

The schema of a topic is the same for every message until the table changes, so the decoder
remembers the exact bytes that precede the payload and, when the next message starts with the
same bytes, parses only the payload. That keeps a schema-carrying message nearly as cheap as a
bare one.
"""

from __future__ import annotations

import base64
import binascii
import decimal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import orjson

from exporter.tables import BOOL, DECIMAL, INT, TEXT, TIME, TableSpec

try:
    from exporter import _rowscan
except ImportError:  # built without a C compiler: the Python fast path does all the work
    _rowscan = None

# Whether the per-event fast path runs compiled (exporter/_rowscan.c) or interpreted.
COMPILED = _rowscan is not None

DAY_US = 86_400_000_000
_EPOCH = datetime(1970, 1, 1)
_ONE_US = timedelta(microseconds=1)
# Times outside 1900..2200 are not hospital activity: a unit mix-up or a corrupt value.
_MIN_WALL_US = -2_208_988_800_000_000
_MAX_WALL_US = 7_258_118_400_000_000
# DECIMAL(12,2) cannot hold more; anything larger is corrupt, not money.
_MAX_AMOUNT = Decimal("1e10")
_MAX_INT = 2**63 - 1

_SCHEMA_START = b'{"schema":'
_BARE_START = b'{"before":'  # a message without schema, as Kafka Connect writes it
_PAYLOAD_MARK = b',"payload":'

OPS = ("c", "u", "d", "r")


class Skip(Exception):
    """A message that is not a row change the exporter can apply; `reason` is a metric label."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail


@dataclass(slots=True)
class Change:
    table: TableSpec
    op: str
    key: object
    row: tuple | None  # the new row in the table's column order; None for a delete
    position: tuple | None  # source log position, comparable within one connector
    source_ts_ms: int | None


Converter = Callable[[object], object]


def wall_us_from_datetime(value: datetime, tz: ZoneInfo) -> int:
    """Wall-clock µs of a datetime; an aware one is first converted into the hospital zone."""
    if value.tzinfo is not None:
        value = value.astimezone(tz).replace(tzinfo=None)
    return (value - _EPOCH) // _ONE_US


def _checked_time(wall_us: int) -> int:
    if not _MIN_WALL_US <= wall_us <= _MAX_WALL_US:
        raise ValueError("time out of range")
    return wall_us


def _as_int(value: object) -> int:
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    if type(value) is str:
        return int(value.strip())
    raise ValueError(f"expected an integer, got {type(value).__name__}")


def _scaled(factor: int) -> Converter:
    def convert(value: object) -> int | None:
        if value is None:
            return None
        return _checked_time(_as_int(value) * factor)

    return convert


def _nanos(value: object) -> int | None:
    if value is None:
        return None
    return _checked_time(_as_int(value) // 1000)


# A time without a schema: the whole numbers _epoch_by_magnitude takes as microseconds that
# fall within 1900..2200, i.e. every Debezium MicroTimestamp after 1973; read inline.
_MICROSECONDS_BY_MAGNITUDE = (100_000_000_000_000, _MAX_WALL_US)


def _epoch_by_magnitude(number: int) -> int:
    """An epoch number of unknown unit: days, seconds, ms, µs or ns, told by its size."""
    size = abs(number)
    if size < 1_000_000:
        return number * DAY_US
    if size < 100_000_000_000:
        return number * 1_000_000
    if size < 100_000_000_000_000:
        return number * 1000
    if size < 100_000_000_000_000_000:
        return number
    return number // 1000


def _time_converter(tz: ZoneInfo) -> Converter:
    """Reads a time without a schema: an epoch number or an ISO-8601 string."""

    def convert(value: object) -> int | None:
        if value is None:
            return None
        if type(value) is str:
            text = value.strip()
            if text.lstrip("-").isdigit():
                return _checked_time(_epoch_by_magnitude(int(text)))
            return _checked_time(wall_us_from_datetime(datetime.fromisoformat(text), tz))
        return _checked_time(_epoch_by_magnitude(_as_int(value)))

    return convert


def _zoned_converter(tz: ZoneInfo) -> Converter:
    def convert(value: object) -> int | None:
        if value is None:
            return None
        if type(value) is not str:
            raise ValueError("expected an ISO-8601 string")
        return _checked_time(wall_us_from_datetime(datetime.fromisoformat(value), tz))

    return convert


def _checked_amount(amount: Decimal) -> Decimal:
    if not amount.is_finite() or abs(amount) >= _MAX_AMOUNT:
        raise ValueError("amount out of range")
    return amount


def _unscaled_bytes(encoded: object, scale: int) -> Decimal:
    if type(encoded) is not str or len(encoded) > 64:
        raise ValueError("expected a short base64 string")
    raw = base64.b64decode(encoded, validate=True)
    return _checked_amount(Decimal(int.from_bytes(raw, "big", signed=True)).scaleb(-scale))


def _connect_decimal(scale: int) -> Converter:
    def convert(value: object) -> Decimal | None:
        if value is None:
            return None
        if type(value) is str:
            return _unscaled_bytes(value, scale)
        return _plain_decimal(value)

    return convert


def _variable_scale_decimal(value: object) -> Decimal | None:
    if value is None:
        return None
    if type(value) is not dict:
        raise ValueError("expected a struct of scale and value")
    if "value" not in value or "scale" not in value:
        raise ValueError("a variable-scale decimal needs scale and value")
    return _unscaled_bytes(value["value"], _as_int(value["scale"]))


def _plain_decimal(value: object) -> Decimal | None:
    if value is None:
        return None
    if type(value) is int or type(value) is float:
        return _checked_amount(Decimal(repr(value)))
    if type(value) is str:
        return _checked_amount(Decimal(value.strip()))
    raise ValueError(f"expected a number, got {type(value).__name__}")


# Every ASCII character Decimal() accepts after strip(): digits, sign, point, exponent,
# underscores, and the letters of Infinity, Inf, NaN and sNaN in either case.
_NUMBER_CHARACTERS = frozenset("0123456789+-._eEiInNfFtTyYaAsS")


def _decimal_without_schema(scale: int) -> Converter:
    def convert(value: object) -> Decimal | None:
        if type(value) is dict:
            return _variable_scale_decimal(value)
        if type(value) is str:
            text = value.strip()
            # The bytes of a Connect Decimal, in base64, nearly always hold a character that
            # no number text has; going straight to them spares a failing Decimal().
            if text.isascii() and not _NUMBER_CHARACTERS.issuperset(text):
                return _unscaled_bytes(value, scale)
            try:
                return _checked_amount(Decimal(text))
            except decimal.InvalidOperation:
                return _unscaled_bytes(value, scale)
        return _plain_decimal(value)

    return convert


def _int(value: object) -> int | None:
    if value is None:
        return None
    number = _as_int(value)
    if abs(number) > _MAX_INT:
        raise ValueError("integer out of range")
    return number


def _text(value: object) -> str | None:
    if value is None or type(value) is str:
        return value
    raise ValueError(f"expected a string, got {type(value).__name__}")


_TRUE = {"true", "1", "t", "yes"}
_FALSE = {"false", "0", "f", "no"}


def _bool(value: object) -> bool | None:
    if value is None or type(value) is bool:
        return value
    if type(value) is int and value in (0, 1):
        return bool(value)
    if type(value) is str and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    raise ValueError("expected a boolean")


_TIME_TYPES_BY_FACTOR = {
    "io.debezium.time.Timestamp": 1000,
    "org.apache.kafka.connect.data.Timestamp": 1000,
    "io.debezium.time.MicroTimestamp": 1,
    "io.debezium.time.Date": DAY_US,
    "org.apache.kafka.connect.data.Date": DAY_US,
}


class RowReader:
    """Reads a table's kept columns from a row dict into a tuple, in the table's order.

    The reading function is generated per schema, so the common case (an int, a string, a
    Debezium time of the expected type) is checked inline and costs no function call; any
    other value goes through the column's converter, which validates or raises.
    """

    def __init__(self, table: TableSpec, fields: list[tuple[str, Converter, str]]) -> None:
        self.table = table
        self.fields = tuple((name, convert) for name, convert, _ in fields)
        self.inline = tuple(inline for _, _, inline in fields)
        self.read = _compile_reader(fields)
        self.single_key = len(table.key) == 1
        self.key_size = len(table.key)
        # Set when the reader serves the fast path: the bytes every message of the topic
        # starts with (the schema, or nothing), and where its payload begins.
        self.prefix = b""
        self.start = 0
        # The compiled fast path for that layout; None without the C extension.
        self.scan: Callable[[bytes], tuple | None] | None = None

    def serve(self, prefix: bytes, start: int) -> None:
        """Makes the reader the fast path for messages that start with `prefix`."""
        self.prefix, self.start = prefix, start
        self.scan = self._scanner()

    def _scanner(self) -> Callable[[bytes], tuple | None] | None:
        if _rowscan is None or len(self.fields) > _rowscan.MAX_COLUMNS:
            return None
        columns = []
        for (name, convert), inline in zip(self.fields, self.inline):
            try:
                key = name.encode()
            except UnicodeEncodeError:  # no key in a JSON text can match it
                return None
            # The scanner takes the inline cases of _compile_reader itself and hands any
            # other value to the converter. It reads null as None for the inline kinds, as
            # their converters (_int, _scaled, _text and the decimal ones) do.
            if inline == "int":
                columns.append((key, _rowscan.SCALED, 1, -_MAX_INT, _MAX_INT, convert))
            elif inline.startswith("time*"):
                factor = int(inline[5:])
                columns.append((key, _rowscan.SCALED, factor, *_time_bounds(factor), convert))
            elif inline == "time~":
                columns.append((key, _rowscan.SCALED, 1, *_MICROSECONDS_BY_MAGNITUDE, convert))
            elif inline == "text":
                columns.append((key, _rowscan.TEXT, 1, 0, 0, convert))
            elif inline.startswith("decimal") and _decimal_scale(inline) is not None:
                kind = _rowscan.UNTYPED_DECIMAL if inline[7] == "~" else _rowscan.BASE64_DECIMAL
                columns.append((key, kind, _decimal_scale(inline), 0, 0, convert))
            else:
                columns.append((key, _rowscan.CALL, 1, 0, 0, convert))
        return _rowscan.RowScanner(self.prefix, self.start, tuple(columns), self.key_size)


def _decimal_scale(inline: str) -> int | None:
    """The scale of a decimal column the scanner can read itself; None for the others."""
    scale = int(inline.partition(":")[2])
    return scale if 0 <= scale <= _rowscan.MAX_DECIMAL_SCALE else None


def _time_bounds(factor: int) -> tuple[int, int]:
    """The numbers of a time unit that fall within 1900..2200 once multiplied by `factor`."""
    return -(-_MIN_WALL_US // factor), _MAX_WALL_US // factor


def _compile_reader(fields: list[tuple[str, Converter, str]]) -> Callable[[dict], tuple]:
    namespace: dict[str, object] = {"int": int, "str": str, "type": type}
    lines = ["def read(row):"]
    parts = []
    for index, (name, convert, inline) in enumerate(fields):
        value, converter = f"v{index}", f"c{index}"
        namespace[converter] = convert
        lines.append(f"    {value} = row[{name!r}]")
        if inline == "int":
            check = f"type({value}) is int and {-_MAX_INT} <= {value} <= {_MAX_INT}"
            parts.append(f"({value} if {check} else {converter}({value}))")
        elif inline.startswith("time*"):
            factor = int(inline[5:])
            low, high = _time_bounds(factor)
            check = f"type({value}) is int and {low} <= {value} <= {high}"
            scaled = value if factor == 1 else f"{value} * {factor}"
            parts.append(f"({scaled} if {check} else {converter}({value}))")
        elif inline == "time~":
            low, high = _MICROSECONDS_BY_MAGNITUDE
            check = f"type({value}) is int and {low} <= {value} <= {high}"
            parts.append(f"({value} if {check} else {converter}({value}))")
        elif inline == "text":
            parts.append(f"({value} if type({value}) is str else {converter}({value}))")
        else:
            parts.append(f"{converter}({value})")
    lines.append(f"    return ({', '.join(parts)},)")
    exec("\n".join(lines), namespace)  # noqa: S102 - code built above from column names only
    return namespace["read"]


_OPS = {b'c"': "c", b'u"': "u", b'r"': "r"}  # the fast path leaves deletes to the full one
_SOURCE_MARK = b',"source":'
_TS_MARK = b'"ts_ms":'


class Decoder:
    """Turns raw Kafka message values into `Change`s for one hospital time zone."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._schemaless_time = _time_converter(tz)
        self._zoned = _zoned_converter(tz)
        # table name -> the reader of the last layout seen, for the fast path
        self._fast_paths: dict[str, RowReader] = {}
        # table name -> reader resolved from the last schema-less row
        self._schemaless_readers: dict[str, RowReader] = {}

    # -- converters -------------------------------------------------------------------------

    def _schemaless_converter(self, table: TableSpec, kind: str) -> tuple[Converter, str]:
        if kind == TIME:
            return self._schemaless_time, "time~"
        if kind == DECIMAL:
            return _decimal_without_schema(table.decimal_scale), f"decimal~:{table.decimal_scale}"
        return {INT: (_int, "int"), TEXT: (_text, "text"), BOOL: (_bool, "")}[kind]

    def _schema_converter(self, table: TableSpec, kind: str, field: dict) -> tuple[Converter, str]:
        logical = field.get("name")
        if kind == TIME:
            if logical in _TIME_TYPES_BY_FACTOR:
                factor = _TIME_TYPES_BY_FACTOR[logical]
                return _scaled(factor), f"time*{factor}"
            if logical == "io.debezium.time.NanoTimestamp":
                return _nanos, ""
            if logical == "io.debezium.time.ZonedTimestamp":
                return self._zoned, ""
            return self._schemaless_time, ""
        if kind == DECIMAL:
            if logical == "org.apache.kafka.connect.data.Decimal":
                parameters = field.get("parameters") or {}
                scale = int(parameters.get("scale", table.decimal_scale))
                return _connect_decimal(scale), f"decimal:{scale}"
            if logical == "io.debezium.data.VariableScaleDecimal":
                return _variable_scale_decimal, ""
            return _plain_decimal, ""  # decimal.handling.mode string or double
        return {INT: (_int, "int"), TEXT: (_text, "text"), BOOL: (_bool, "")}[kind]

    # -- readers ------------------------------------------------------------------------------

    def _reader_from_schema(self, table: TableSpec, schema: dict) -> RowReader:
        try:
            return self._read_schema(table, schema)
        except (AttributeError, TypeError, ValueError, KeyError):
            raise Skip("bad_schema", "not a Kafka Connect struct schema") from None

    def _read_schema(self, table: TableSpec, schema: dict) -> RowReader:
        # The row struct: that of "after", else (a schema only for deletes) that of "before".
        structs = {part.get("field"): part.get("fields") for part in schema.get("fields") or ()}
        row_fields = structs.get("after") or structs.get("before")
        if row_fields is None:
            raise Skip("not_an_envelope", "schema has no row struct")
        by_lower = {str(f.get("field", "")).lower(): f for f in row_fields}
        fields = []
        for column, kind in table.columns:
            field = by_lower.get(column.lower())
            if field is None:
                raise Skip("bad_field", f"column {column} missing from schema")
            fields.append((str(field["field"]), *self._schema_converter(table, kind, field)))
        return RowReader(table, fields)

    def _reader_from_row(self, table: TableSpec, row: dict) -> RowReader:
        by_lower = {str(name).lower(): name for name in row}
        fields = []
        for column, kind in table.columns:
            name = by_lower.get(column.lower())
            if name is None:
                raise Skip("bad_field", f"column {column} missing")
            fields.append((name, *self._schemaless_converter(table, kind)))
        reader = RowReader(table, fields)
        self._schemaless_readers[table.name] = reader
        reader.serve(_BARE_START, 0)
        self._fast_paths[table.name] = reader
        return reader

    # -- the fast path: a compact Kafka Connect message whose layout is known ------------------

    def scanner(self, table: TableSpec):
        """The compiled scanner of the table's known layout (see RowScanner.apply), or None:
        no layout learnt yet, or no C extension. A full decode can replace it."""
        fast = self._fast_paths.get(table.name)
        return None if fast is None else fast.scan

    def decode_row(self, table: TableSpec, value: bytes) -> tuple | None:
        """(op, key, row, position) of a create, update or read in the known compact layout,
        parsing only the new row; None when the message needs the full path of `decode`.

        This runs for nearly every event, hence one flat function: the marks are searched in
        the order Kafka Connect writes them, and whatever does not fit (a delete, another
        layout, a value the row reader rejects) is left to the full path, which reports it.
        """
        fast = self._fast_paths.get(table.name)
        if fast is None:
            return None
        # The compiled scanner returns what the code below would, or None when unsure.
        if fast.scan is not None and (scanned := fast.scan(value)) is not None:
            return scanned
        if not value.startswith(fast.prefix):
            return None
        try:
            after_at = value.find(b'"after":', fast.start)
            source_at = value.find(b',"source":', after_at)
            op_at = value.rfind(b',"op":"')
            op = _OPS.get(value[op_at + 7 : op_at + 9])
            if op is None or after_at < fast.start or op_at < source_at or source_at < 0:
                return None
            row = fast.read(orjson.loads(value[after_at + 8 : source_at]))
            key = row[0] if fast.single_key else row[: fast.key_size]
            if key is None or (type(key) is tuple and None in key):
                return None
            lsn_at = value.find(b'"lsn":', source_at)
            if 0 < lsn_at < op_at:
                lsn = value[lsn_at + 6 : value.find(b",", lsn_at)]
                return op, key, row, None if lsn == b"null" else (int(lsn),)
            return op, key, row, _sqlserver_position(value, source_at, op_at)
        except Exception:
            return None

    @staticmethod
    def source_ts(value: bytes) -> int | None:
        """The source (commit) time, in ms, of a message in the compact layout."""
        source_at = value.find(_SOURCE_MARK)
        if source_at < 0:
            return None
        return _number_after(value, _TS_MARK, source_at, len(value))

    # -- the full path --------------------------------------------------------------------------

    def _parse(self, table: TableSpec, value: bytes) -> tuple[dict | None, RowReader | None]:
        """The envelope and, when the message carries a schema, the reader built from it."""
        try:
            document = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise Skip("bad_json", "value is not valid JSON") from None
        if type(document) is not dict:
            raise Skip("not_an_envelope", "value is not a JSON object")
        if "payload" in document and "op" not in document:
            schema = document.get("schema")
            if document["payload"] is None:
                raise Skip("null_payload")
            if type(schema) is not dict:
                return document["payload"], None
            reader = self._reader_from_schema(table, schema)
            self._remember_prefix(table, value, reader)
            return document["payload"], reader
        return document, None

    def _remember_prefix(self, table: TableSpec, value: bytes, reader: RowReader) -> None:
        # Kafka Connect writes the schema first and the payload last; the mark cannot occur
        # inside a JSON string (quotes are escaped there) nor as a schema key.
        if not value.startswith(_SCHEMA_START):
            return
        mark = value.find(_PAYLOAD_MARK)
        if mark > 0:
            prefix = bytes(value[: mark + len(_PAYLOAD_MARK)])
            reader.serve(prefix, len(prefix))
            self._fast_paths[table.name] = reader

    def decode(self, table: TableSpec, value: bytes | None, key: bytes | None = None) -> Change:
        """One message value into a Change; raises Skip for anything that is not one."""
        if value is None:
            raise Skip("tombstone")
        fast = self.decode_row(table, value)
        if fast is not None:
            return Change(table, *fast, self.source_ts(value))
        return self._decode_fully(table, value, key)

    def _decode_fully(self, table: TableSpec, value: bytes, key: bytes | None) -> Change:
        envelope, reader = self._parse(table, value)
        if envelope is None:
            raise Skip("null_payload")
        if type(envelope) is not dict:
            raise Skip("not_an_envelope", "payload is not a JSON object")
        op = envelope.get("op")
        if op not in OPS:
            if op is None and "before" not in envelope and "after" not in envelope:
                raise Skip("not_an_envelope", "no op, before or after")
            raise Skip("unknown_op", f"op {str(op)[:10]!r}")

        source = envelope.get("source")
        position = _position(source) if type(source) is dict else None
        source_ts = _source_ts(envelope, source)
        if op == "d":
            before = envelope.get("before")
            change_key = self._key(table, before, key)
            return Change(table, op, change_key, None, position, source_ts)

        after = envelope.get("after")
        if type(after) is not dict:
            raise Skip("not_an_envelope", "no row after the change")
        row = self._row(table, after, reader)
        row_key = row[0] if len(table.key) == 1 else row[: len(table.key)]
        if row_key is None or (type(row_key) is tuple and None in row_key):
            raise Skip("missing_key")
        return Change(table, op, row_key, row, position, source_ts)

    def _row(self, table: TableSpec, row: dict, reader: RowReader | None) -> tuple:
        schemaless = reader is None
        if schemaless:
            reader = self._schemaless_readers.get(table.name) or self._reader_from_row(table, row)
        if any(name not in row for name, _ in reader.fields):
            if not schemaless:
                raise Skip("bad_field", "column missing from row")
            reader = self._reader_from_row(table, row)  # the columns were renamed
        try:
            return reader.read(row)
        except _CONVERSION_ERRORS:
            raise Skip("bad_field", _failing_column(row, reader)) from None

    def _key(self, table: TableSpec, before: object, key: bytes | None) -> object:
        """The primary key of a deleted row: from the old row, else from the message key."""
        row = before if type(before) is dict else self._key_document(key)
        by_lower = {str(name).lower(): name for name in row}
        values = []
        for column in table.key:
            name = by_lower.get(column.lower())
            try:
                value = None if name is None else _int(row[name])
            except _CONVERSION_ERRORS:
                raise Skip("bad_field", f"key column {column}") from None
            if value is None:
                raise Skip("missing_key")
            values.append(value)
        return values[0] if len(values) == 1 else tuple(values)

    @staticmethod
    def _key_document(key: bytes | None) -> dict:
        if key is None:
            raise Skip("missing_key")
        try:
            document = orjson.loads(key)
        except orjson.JSONDecodeError:
            raise Skip("missing_key", "key is not JSON") from None
        if type(document) is dict and "payload" in document and "schema" in document:
            document = document["payload"]
        if type(document) is not dict:
            raise Skip("missing_key")
        return document


def _number_after(value: bytes, mark: bytes, start: int, end: int) -> int | None:
    """The whole number that follows `mark` between start and end, if there is one."""
    at = value.find(mark, start, end)
    if at < 0:
        return None
    at += len(mark)
    stop = value.find(b",", at, end)
    try:
        return int(value[at : stop if stop > 0 else end])
    except ValueError:  # null, or the block ended there
        return None


def _sqlserver_position(value: bytes, start: int, end: int) -> tuple | None:
    """(commit_lsn, change_lsn, event_serial_no) from a SQL Server connector's source block.

    The LSNs are fixed-width hexadecimal and kept as bytes, which compare like the text. The
    connector writes the three fields last in the block, in this order; any other layout is
    searched field by field."""
    at = value.rfind(b'"change_lsn":', start, end) + 13
    if at > 13:
        if value[at : at + 1] == b'"':
            change, at = value[at + 1 : at + 23], at + 24
        elif value[at : at + 4] == b"null":
            change, at = b"", at + 4
        else:
            change = None
        if change is not None and value[at : at + 15] == b',"commit_lsn":"':
            commit, at = value[at + 15 : at + 37], at + 37
            if value[at : at + 20] == b'","event_serial_no":':
                return commit, change, int(value[at + 20 : value.find(b"}", at)])
    return _sqlserver_position_searched(value, start, end)


def _sqlserver_position_searched(value: bytes, start: int, end: int) -> tuple | None:
    commit_at = value.find(b'"commit_lsn":"', start, end)
    if commit_at < 0:
        return None
    commit = value[commit_at + 14 : value.find(b'"', commit_at + 14)]
    change_at = value.find(b'"change_lsn":"', start, end)
    change = b"" if change_at < 0 else value[change_at + 14 : value.find(b'"', change_at + 14)]
    serial = _number_after(value, b'"event_serial_no":', start, end)
    return commit, change, serial or 0


_CONVERSION_ERRORS = (KeyError, ValueError, TypeError, ArithmeticError, binascii.Error)


def _failing_column(row: dict, reader: RowReader) -> str:
    """Names the column that cannot be read, never its value (it may identify a patient)."""
    for name, convert in reader.fields:
        try:
            convert(row[name])
        except _CONVERSION_ERRORS:
            return f"column {name}: unreadable {type(row.get(name)).__name__} value"
    return "unreadable value"


def _position(source: dict) -> tuple | None:
    """Where the change sits in the source log: PostgreSQL `lsn`, SQL Server LSNs."""
    lsn = source.get("lsn")
    if type(lsn) is int:
        return (lsn,)
    commit_lsn = source.get("commit_lsn")
    if type(commit_lsn) is str:
        change_lsn = source.get("change_lsn")
        serial = source.get("event_serial_no")
        return (
            commit_lsn.encode(),
            change_lsn.encode() if type(change_lsn) is str else b"",
            serial if type(serial) is int else 0,
        )
    return None


def _source_ts(envelope: dict, source: object) -> int | None:
    ts = source.get("ts_ms") if type(source) is dict else None
    if type(ts) is not int:
        ts = envelope.get("ts_ms")
    return ts if type(ts) is int else None
