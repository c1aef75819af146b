"""How the CLI shows and writes results: tables on stdout, files by extension."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import click
import duckdb
import pyarrow as pa

from genesis_sql.errors import InvalidArgumentError

FORMATS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "json", ".ndjson": "json", ".json": "json"}
# Printing more rows than this to a terminal is not useful; --out writes any number.
MAX_PRINTED_ROWS = 10_000


def print_table(table: pa.Table) -> None:
    """Print an Arrow table as DuckDB's box table on stdout."""
    shown = duckdb.connect()
    try:
        shown.register("result", table)
        text = shown.sql("SELECT * FROM result").__str__() if table.num_columns else "(no columns)\n"
    finally:
        shown.close()
    if table.num_rows > MAX_PRINTED_ROWS:
        text += f"({table.num_rows:,} rows; use --out FILE to keep them all)\n"
    click.echo(text, nl=False)


def output_format(path: Path) -> str:
    """The DuckDB COPY format for an output file, from its extension."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InvalidArgumentError(f"Cannot write {path.name!r}: use a .parquet, .csv or .jsonl file name.")
    return fmt


def write_batches(con: duckdb.DuckDBPyConnection, batches: Iterator[pa.Table], path: Path, *,
                  on_batch: Callable[[int], None] | None = None) -> int:
    """Stream Arrow batches into a file through DuckDB's COPY; returns the row count. Bounded memory."""
    fmt = output_format(path)
    first = next(batches, None)
    if first is None:
        raise InvalidArgumentError("Nothing to write: the request has zero rows.")
    count = 0

    def record_batches() -> Iterator[pa.RecordBatch]:
        nonlocal count
        for table in _chain(first, batches):
            for batch in table.to_batches():
                count += batch.num_rows
                if on_batch:
                    on_batch(batch.num_rows)
                yield batch

    reader = pa.RecordBatchReader.from_batches(first.schema, record_batches())
    writer = duckdb.connect()
    try:
        writer.register("genesis_output", reader)
        target = str(path).replace("'", "''")
        writer.execute(f"COPY (SELECT * FROM genesis_output) TO '{target}' (FORMAT {fmt})")
    finally:
        writer.close()
    return count


def _chain(first: pa.Table, rest: Iterator[pa.Table]) -> Iterator[pa.Table]:
    yield first
    yield from rest
