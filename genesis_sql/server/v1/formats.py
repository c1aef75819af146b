"""Response bodies for rows: Arrow IPC stream, Parquet, CSV or JSON Lines, chosen by the Accept header.

Each encoder turns an iterator of Arrow tables into an iterator of bytes, one chunk per table, holding no
more than one table at a time: a response of any size streams in constant memory (Parquet writes one row
group per table and its footer at the end).
"""
from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import NotAcceptable

Encoder = Callable[[pa.Schema, Iterator[pa.Table]], Iterator[bytes]]


class _Drain(io.RawIOBase):
    """A write-only file whose written bytes are taken away chunk by chunk."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        self._chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self._chunks = b"".join(self._chunks), []
        return data


def _arrow_stream(schema: pa.Schema, tables: Iterator[pa.Table]) -> Iterator[bytes]:
    sink = _Drain()
    with pa.ipc.new_stream(sink, schema) as writer:
        yield sink.take()
        for table in tables:
            writer.write_table(table)
            yield sink.take()
    yield sink.take()


def _parquet(schema: pa.Schema, tables: Iterator[pa.Table]) -> Iterator[bytes]:
    sink = _Drain()
    with pq.ParquetWriter(sink, schema) as writer:
        for table in tables:
            writer.write_table(table)
            yield sink.take()
    yield sink.take()


def _csv(schema: pa.Schema, tables: Iterator[pa.Table]) -> Iterator[bytes]:
    sink = _Drain()
    with pa_csv.CSVWriter(sink, schema) as writer:
        for table in tables:
            writer.write_table(table)
            yield sink.take()
    yield sink.take()


def _json_value(field: pa.Field) -> str:
    name = '"' + field.name.replace('"', '""') + '"'
    # JSON has no NaN or Infinity: non-finite floats become null.
    if pa.types.is_floating(field.type):
        return f"CASE WHEN isfinite({name}) THEN {name} END"
    return name


def _json_lines(schema: pa.Schema, tables: Iterator[pa.Table]) -> Iterator[bytes]:
    con = duckdb.connect()
    try:
        members = ", ".join(f"'{f.name.replace(chr(39), chr(39) * 2)}': {_json_value(f)}" for f in schema)
        select = f"SELECT to_json({{{members}}})::VARCHAR FROM genesis_batch" if len(schema) else None
        for table in tables:
            if select is None or table.num_rows == 0:
                yield b"{}\n" * table.num_rows
                continue
            con.register("genesis_batch", table)
            lines = con.sql(select).to_arrow_table().column(0).to_pylist()
            con.unregister("genesis_batch")
            yield ("\n".join(lines) + "\n").encode()
    finally:
        con.close()


@dataclass(frozen=True)
class Format:
    """One body format: its name, media type and encoder."""

    name: str
    media_type: str
    encode: Encoder


FORMATS: tuple[Format, ...] = (
    Format("jsonl", "application/x-ndjson", _json_lines),
    Format("arrow", "application/vnd.apache.arrow.stream", _arrow_stream),
    Format("parquet", "application/vnd.apache.parquet", _parquet),
    Format("csv", "text/csv", _csv),
)
# Other names clients use for the same formats.
ALIASES = {"application/jsonl": "jsonl", "application/json-lines": "jsonl", "application/x-jsonlines": "jsonl",
           "application/x-parquet": "parquet", "application/parquet": "parquet"}
MEDIA_TYPES = [f.media_type for f in FORMATS] + list(ALIASES)


def negotiate(accept: MIMEAccept) -> Format:
    """The format the Accept header prefers; JSON Lines when it accepts anything.

    Raises:
        NotAcceptable: the header accepts none of the formats (406).
    """
    by_name = {f.name: f for f in FORMATS}
    if not accept:
        return FORMATS[0]
    best = accept.best_match(MEDIA_TYPES)
    if best is None:
        raise NotAcceptable(
            f"Cannot answer in {accept.to_header()!r}. Rows come as {', '.join(MEDIA_TYPES[:4])} "
            "(send one of them in the Accept header).")
    return by_name.get(ALIASES.get(best, ""), None) or next(f for f in FORMATS if f.media_type == best)

