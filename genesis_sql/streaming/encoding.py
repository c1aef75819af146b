"""Rows to messages in bulk: one DuckDB pass turns an Arrow batch into JSON messages, keys and row hashes.

Building a Python dict per row and calling ``json.dumps`` costs tens of microseconds a row; here DuckDB's
``to_json`` writes every row of a batch into one Arrow string column, each row ending in a newline, and
the column's data buffer is split into ``bytes`` messages in one call (JSON text never holds a raw
newline: ``to_json`` escapes it). The same pass computes each row's ``hash()``, the row hash that lineage
fingerprints sum (see :mod:`genesis_sql.lineage.fingerprint`), so a stream can fingerprint what it
delivered without a second scan.

JSON encoding of values (one object per row, keys in column order):

- NULL is ``null``; NaN and infinities, which JSON cannot express, are ``null`` too;
- integers and booleans as JSON numbers and ``true``/``false``; floating columns always carry a
  fraction or exponent (``55.0``, ``1e-7``), so consumers read them back as floats;
- DATE as ``"YYYY-MM-DD"``; TIMESTAMP as ISO 8601 ``"YYYY-MM-DDTHH:MM:SS.ffffff"``; TIMESTAMP WITH
  TIME ZONE the same in UTC with a ``Z`` suffix;
- text as JSON strings (UTF-8, with ``"``, ``\\`` and control characters escaped).

Example:
    >>> import pyarrow as pa
    >>> table = pa.table({"id": [1, 2], "score": [0.5, None], "name": ['a"b', "c"]})
    >>> RowEncoder(table.schema).encode(table).messages
    [b'{"id":1,"score":0.5,"name":"a\\\\"b"}', b'{"id":2,"score":null,"name":"c"}']
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

from genesis_sql.errors import InvalidArgumentError

_ROW = "_genesis_row"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _string_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _json_value(name: str, typ: pa.DataType) -> str:
    """The SQL expression whose ``to_json`` is the column's JSON value (see the module docstring)."""
    column = f"{_ROW}.{_identifier(name)}"
    if pa.types.is_dictionary(typ):
        typ = typ.value_type
    if pa.types.is_floating(typ):
        return f"CASE WHEN isfinite({column}) THEN {column} END"
    if pa.types.is_timestamp(typ) and typ.tz is not None:
        return f"strftime(CAST({column} AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%f') || 'Z'"
    if pa.types.is_timestamp(typ):
        return f"strftime(CAST({column} AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%f')"
    if (pa.types.is_integer(typ) or pa.types.is_boolean(typ) or pa.types.is_string(typ)
            or pa.types.is_large_string(typ) or pa.types.is_date(typ) or pa.types.is_decimal(typ)):
        return column
    raise InvalidArgumentError(f"Cannot stream column {name!r} of Arrow type {typ} as JSON; streamed models "
                               "have numeric, boolean, text, date and timestamp columns.")


@dataclass(frozen=True)
class EncodedBatch:
    """A batch of rows with what sinks send: JSON messages, message keys and per-row hashes.

    Attributes:
        table: The rows (plain Arrow columns).
        hashes: DuckDB ``hash()`` of each row (uint64), for lineage fingerprints.
        messages: One JSON object per row as UTF-8 bytes, or None when not asked for.
        keys: The key column's values as text (None for NULL), or None without a key column.
    """

    table: pa.Table
    hashes: np.ndarray
    messages: list[bytes] | None = None
    keys: list[str | None] | None = None

    @property
    def num_rows(self) -> int:
        """Rows in the batch."""
        return self.table.num_rows

    def slice(self, start: int, stop: int) -> EncodedBatch:
        """Rows ``start`` to ``stop - 1``."""
        return EncodedBatch(self.table.slice(start, stop - start), self.hashes[start:stop],
                            None if self.messages is None else self.messages[start:stop],
                            None if self.keys is None else self.keys[start:stop])

    def hash_sum(self) -> int:
        """The exact sum of the row hashes (as lineage fingerprints add them: no wrap-around)."""
        high = int((self.hashes >> np.uint64(32)).sum(dtype=np.uint64))
        low = int((self.hashes & np.uint64(0xFFFFFFFF)).sum(dtype=np.uint64))
        return (high << 32) + low


def _lines(column: pa.ChunkedArray) -> list[bytes]:
    """The values of a string column whose every value ends in a newline, as bytes without it."""
    messages: list[bytes] = []
    for chunk in column.chunks:
        if len(chunk) == 0:
            continue
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets = np.frombuffer(chunk.buffers()[1], dtype=width)
        start, stop = int(offsets[chunk.offset]), int(offsets[chunk.offset + len(chunk)])
        data = chunk.buffers()[2].slice(start, stop - start).to_pybytes()
        messages.extend(data.split(b"\n")[:-1])
    return messages


class RowEncoder:
    """Encodes batches of one schema in a private in-memory DuckDB connection (use it from one thread).

    Args:
        schema: The Arrow schema of the batches.
        json: Whether to produce JSON messages (sinks that write Arrow need only the hashes).
        key_column: A column whose values become message keys (Kafka partitions by key).
    """

    def __init__(self, schema: pa.Schema, *, json: bool = True, key_column: str | None = None) -> None:
        if key_column is not None and key_column not in schema.names:
            raise InvalidArgumentError(f"Key column {key_column!r} is not a column of the stream; columns: "
                                       f"{', '.join(schema.names)}.")
        self.schema = schema
        self._view = f"_genesis_encode_{uuid.uuid4().hex}"
        select = [f"hash({_ROW}) AS h"]
        if json:
            fields = ", ".join(f"{_string_literal(f.name)}: {_json_value(f.name, f.type)}" for f in schema)
            select.append(f"CAST(to_json({{{fields}}}) AS VARCHAR) || chr(10) AS j")
        if key_column is not None:
            select.append(f"CAST({_ROW}.{_identifier(key_column)} AS VARCHAR) AS k")
        self._sql = f"SELECT {', '.join(select)} FROM {self._view} AS {_ROW}"
        self._json = json
        self._key_column = key_column
        self._con = duckdb.connect()
        self._con.execute("SET TimeZone = 'UTC'")

    def encode(self, table: pa.Table) -> EncodedBatch:
        """Hashes, and messages and keys when configured, of every row of ``table``."""
        self._con.register(self._view, table)
        try:
            result = self._con.sql(self._sql).to_arrow_table()
        finally:
            self._con.unregister(self._view)
        hashes = result.column("h").to_numpy().astype(np.uint64, copy=False)
        messages = _lines(result.column("j")) if self._json else None
        keys = result.column("k").to_pylist() if self._key_column is not None else None
        return EncodedBatch(table, hashes, messages, keys)

    def close(self) -> None:
        """Release the private connection."""
        self._con.close()
