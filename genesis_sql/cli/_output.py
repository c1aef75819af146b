"""How the CLI shows and writes results: tables on stdout, files by extension."""
from __future__ import annotations

import contextlib
import os
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
    with atomic_path(path) as partial:
        writer = duckdb.connect()
        try:
            writer.register("genesis_output", reader)
            target = str(partial).replace("'", "''")
            writer.execute(f"COPY (SELECT * FROM genesis_output) TO '{target}' (FORMAT {fmt})").fetchall()
        finally:
            writer.close()
    return count


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A hidden temporary name beside ``path`` to write to; renamed to ``path`` only when the block completes.

    A process killed while writing (even with SIGKILL) leaves no file at ``path`` that reads as a fraction
    of the rows, and an older file there keeps its content; on an error the partial file is removed. The
    rename is atomic because both names are in the same folder (as ``genesis stream --out`` does).
    """
    partial = path.with_name(f".{path.name}.partial")
    try:
        yield partial
        with open(partial, "rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _chain(first: pa.Table, rest: Iterator[pa.Table]) -> Iterator[pa.Table]:
    yield first
    yield from rest
