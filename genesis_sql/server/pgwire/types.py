"""Postgres types for DuckDB results: OIDs for RowDescription, text and binary cell encodings.

Results arrive as Arrow record batches; each column is encoded at once (pyarrow compute and numpy), into
the bytes of its cells plus per-row offsets and lengths, which :mod:`._rows` interleaves into DataRow
messages. Types without a Postgres counterpart here are sent as ``text`` in DuckDB's own rendering.
"""
from __future__ import annotations

import datetime as dt
import decimal
import struct
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class PgType:
    """A Postgres type as a RowDescription names it."""

    name: str
    oid: int
    size: int


BOOL = PgType("bool", 16, 1)
BYTEA = PgType("bytea", 17, -1)
INT8 = PgType("int8", 20, 8)
INT2 = PgType("int2", 21, 2)
INT4 = PgType("int4", 23, 4)
TEXT = PgType("text", 25, -1)
FLOAT4 = PgType("float4", 700, 4)
FLOAT8 = PgType("float8", 701, 8)
VARCHAR = PgType("varchar", 1043, -1)
DATE = PgType("date", 1082, 4)
TIME = PgType("time", 1083, 8)
TIMESTAMP = PgType("timestamp", 1114, 8)
TIMESTAMPTZ = PgType("timestamptz", 1184, 8)
NUMERIC = PgType("numeric", 1700, -1)
UNKNOWN = PgType("unknown", 705, -2)
OIDS = {t.oid: t for t in (BOOL, BYTEA, INT8, INT2, INT4, TEXT, FLOAT4, FLOAT8, VARCHAR, DATE, TIME, TIMESTAMP,
                           TIMESTAMPTZ, NUMERIC, UNKNOWN)}
OIDS[26] = PgType("oid", 26, 4)
OIDS[19] = PgType("name", 19, 64)
OIDS[1042] = PgType("bpchar", 1042, -1)
OIDS[18] = PgType("char", 18, 1)
OIDS[0] = UNKNOWN

EPOCH_2000_DAYS = 10_957
EPOCH_2000_US = EPOCH_2000_DAYS * 86_400 * 1_000_000


def pg_type(arrow_type: pa.DataType) -> PgType:
    """The Postgres type a column of ``arrow_type`` is described as."""
    if pa.types.is_boolean(arrow_type):
        return BOOL
    if arrow_type in (pa.int8(), pa.int16(), pa.uint8()):
        return INT2
    if arrow_type in (pa.int32(), pa.uint16()):
        return INT4
    if arrow_type in (pa.int64(), pa.uint32()):
        return INT8
    if pa.types.is_floating(arrow_type):
        return FLOAT8 if arrow_type == pa.float64() else FLOAT4
    if pa.types.is_decimal(arrow_type) or arrow_type == pa.uint64():
        return NUMERIC
    if pa.types.is_date(arrow_type):
        return DATE
    if pa.types.is_timestamp(arrow_type):
        return TIMESTAMPTZ if arrow_type.tz else TIMESTAMP
    if pa.types.is_time(arrow_type):
        return TIME
    if pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type):
        return BYTEA
    return TEXT


@dataclass
class Cells:
    """One column's encoded cells: the bytes, and per row where its cell starts and how long it is (-1 NULL)."""

    data: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray


def _from_string_array(array: pa.Array) -> Cells:
    array = pc.cast(array, pa.large_string()) if not pa.types.is_large_string(array.type) else array
    _, offsets_buf, data_buf = array.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[array.offset:array.offset + len(array) + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    lengths = np.diff(offsets)
    if array.null_count:
        lengths = np.where(array.is_null().to_numpy(zero_copy_only=False), -1, lengths)
    return Cells(data, offsets[:-1].copy(), lengths)


def _fixed(values: np.ndarray, nulls: np.ndarray | None) -> Cells:
    width = values.dtype.itemsize
    n = len(values)
    lengths = np.full(n, width, dtype=np.int64)
    if nulls is not None:
        lengths[nulls] = -1
    return Cells(np.frombuffer(values.tobytes(), dtype=np.uint8), np.arange(n, dtype=np.int64) * width, lengths)


def _python_cells(values: list[bytes | None]) -> Cells:
    lengths = np.array([-1 if v is None else len(v) for v in values], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(np.maximum(lengths, 0))[:-1]]).astype(np.int64)
    data = np.frombuffer(b"".join(v for v in values if v is not None), dtype=np.uint8)
    return Cells(data, starts, lengths)


def _float_text(array: pa.Array) -> pa.Array:
    text = pc.cast(array, pa.string())
    for arrow_text, pg_text in (("inf", "Infinity"), ("-inf", "-Infinity"), ("nan", "NaN")):
        text = pc.if_else(pc.equal(text, arrow_text), pg_text, text)
    return text


def _timestamp_text(array: pa.Array) -> pa.Array:
    text = pc.cast(pc.cast(array, pa.timestamp("us", array.type.tz)), pa.string())
    # Postgres prints no fractional seconds when they are zero, and an offset for timestamptz.
    text = pc.replace_substring_regex(text, r"\.000000", "")
    text = pc.replace_substring_regex(text, r"Z$", "+00")
    return text


def text_cells(array: pa.Array) -> Cells:
    """The text-format cells of ``array``."""
    t = array.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return _from_string_array(array)
    if pa.types.is_boolean(t):
        return _from_string_array(pc.if_else(array, "t", "f"))
    if pa.types.is_integer(t) or pa.types.is_decimal(t) or pa.types.is_date(t) or pa.types.is_time(t):
        return _from_string_array(pc.cast(array, pa.string()))
    if pa.types.is_floating(t):
        return _from_string_array(_float_text(array))
    if pa.types.is_timestamp(t):
        return _from_string_array(_timestamp_text(array))
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return _python_cells([None if v is None else b"\\x" + v.hex().encode() for v in array.to_pylist()])
    return _python_cells([None if v is None else _render(v).encode("utf-8") for v in array.to_pylist()])


def _render(value: object) -> str:
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (list, tuple)):
        return "{" + ",".join("NULL" if v is None else _render(v) for v in value) + "}"
    return str(value)


def _numeric_binary(value: decimal.Decimal) -> bytes:
    """A Decimal in Postgres' binary NUMERIC layout (base-10000 digits, weight, sign, display scale)."""
    if value.is_nan():
        return struct.pack("!hhhh", 0, 0, 0xC000 - 0x10000, 0)
    sign, digits, exponent = value.as_tuple()
    dscale = max(-exponent, 0)
    text = "".join(map(str, digits))
    if exponent > 0:
        text += "0" * exponent
        exponent = 0
    text = text.rjust(-exponent, "0")  # 0.0001: the fraction's leading zeros
    integer = text[:len(text) + exponent] if exponent else text
    fraction = text[len(text) + exponent:] if exponent else ""
    integer = integer.lstrip("0")
    integer = "0" * (-len(integer) % 4) + integer
    fraction = fraction + "0" * (-len(fraction) % 4)
    groups = [int(integer[i:i + 4]) for i in range(0, len(integer), 4)]
    weight = len(groups) - 1
    groups += [int(fraction[i:i + 4]) for i in range(0, len(fraction), 4)]
    while groups and groups[0] == 0:
        groups.pop(0)
        weight -= 1
    while groups and groups[-1] == 0:
        groups.pop()
    if not groups:
        weight = 0
    return struct.pack(f"!hhhh{len(groups)}h", len(groups), weight, 0x4000 if sign else 0, dscale, *groups)


def binary_cells(array: pa.Array, pgtype: PgType) -> Cells:
    """The binary-format cells of ``array`` described as ``pgtype``."""
    nulls = array.is_null().to_numpy(zero_copy_only=False) if array.null_count else None
    fixed = {INT2.oid: ">i2", INT4.oid: ">i4", INT8.oid: ">i8", FLOAT4.oid: ">f4", FLOAT8.oid: ">f8"}
    if pgtype.oid in fixed:
        values = array.fill_null(0).to_numpy(zero_copy_only=False)
        return _fixed(values.astype(fixed[pgtype.oid]), nulls)
    if pgtype is BOOL:
        return _fixed(array.fill_null(False).to_numpy(zero_copy_only=False).astype(np.uint8), nulls)
    if pgtype is DATE:
        days = pc.cast(array, pa.date32()).cast(pa.int32()).fill_null(0).to_numpy(zero_copy_only=False)
        return _fixed((days.astype(np.int64) - EPOCH_2000_DAYS).astype(">i4"), nulls)
    if pgtype in (TIMESTAMP, TIMESTAMPTZ):
        micros = pc.cast(array, pa.timestamp("us", array.type.tz)).cast(pa.int64()).fill_null(0)
        return _fixed((micros.to_numpy(zero_copy_only=False) - EPOCH_2000_US).astype(">i8"), nulls)
    if pgtype is TIME:
        micros = pc.cast(array, pa.time64("us")).cast(pa.int64()).fill_null(0)
        return _fixed(micros.to_numpy(zero_copy_only=False).astype(">i8"), nulls)
    if pgtype is NUMERIC:
        return _python_cells([None if v is None else _numeric_binary(decimal.Decimal(v))
                              for v in array.to_pylist()])
    if pgtype is BYTEA:
        return _python_cells(array.to_pylist())
    return text_cells(array)


def cells(array: pa.Array, pgtype: PgType, binary: bool) -> Cells:
    """The cells of ``array`` in the requested format."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return binary_cells(array, pgtype) if binary else text_cells(array)


def parse_text_value(oid: int, text: str) -> object:
    """A text-format parameter value as the Python value of its declared type (str when unknown)."""
    if oid in (INT2.oid, INT4.oid, INT8.oid, 26):
        return int(text)
    if oid in (FLOAT4.oid, FLOAT8.oid):
        return float(text)
    if oid == NUMERIC.oid:
        return decimal.Decimal(text)
    if oid == BOOL.oid:
        lowered = text.strip().lower()
        if lowered in ("t", "true", "yes", "on", "1", "y"):
            return True
        if lowered in ("f", "false", "no", "off", "0", "n"):
            return False
        raise ValueError(f"invalid input syntax for type boolean: {text!r}")
    if oid == DATE.oid:
        return dt.date.fromisoformat(text)
    if oid in (TIMESTAMP.oid, TIMESTAMPTZ.oid):
        return dt.datetime.fromisoformat(text.replace(" ", "T", 1))
    return text


def parse_binary_value(oid: int, raw: bytes) -> object:
    """A binary-format parameter value as a Python value."""
    formats = {INT2.oid: "!h", INT4.oid: "!i", INT8.oid: "!q", FLOAT4.oid: "!f", FLOAT8.oid: "!d", 26: "!I"}
    if oid in formats:
        return struct.unpack(formats[oid], raw)[0]
    if oid == BOOL.oid:
        return raw != b"\x00"
    if oid == DATE.oid:
        return dt.date(2000, 1, 1) + dt.timedelta(days=struct.unpack("!i", raw)[0])
    if oid in (TIMESTAMP.oid, TIMESTAMPTZ.oid):
        return dt.datetime(2000, 1, 1) + dt.timedelta(microseconds=struct.unpack("!q", raw)[0])
    if oid in (TEXT.oid, VARCHAR.oid, UNKNOWN.oid, 1042, 19):
        return raw.decode("utf-8")
    raise ValueError(f"binary parameters of type oid {oid} are not supported; send it in text format")
