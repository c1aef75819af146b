"""How the CLI shows and writes results: tables on stdout, files by extension."""
from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv

from genesis_sql.errors import InvalidArgumentError

FORMATS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "json", ".ndjson": "json", ".json": "json"}
# Printing more rows than this to a terminal is not useful; --out writes any number.
MAX_PRINTED_ROWS = 10_000
STDOUT_FORMATS = ("csv", "jsonl", "table")


def print_table(table: pa.Table, *, total: int | None = None, how_to_write_all: str = "") -> None:
    """Print an Arrow table as DuckDB's box table on stdout.

    ``total`` is the number of rows the table is the first part of (a preview); the note under the table
    then says so, followed by ``how_to_write_all``.
    """
    shown = duckdb.connect()
    try:
        shown.register("result", table)
        text = shown.sql("SELECT * FROM result").__str__() if table.num_columns else "(no columns)\n"
    finally:
        shown.close()
    if total is not None and total > table.num_rows:
        text += f"(the first {table.num_rows:,} of {total:,} rows; {how_to_write_all})\n"
    elif table.num_rows > MAX_PRINTED_ROWS:
        text += f"({table.num_rows:,} rows; use --out FILE to keep them all)\n"
    click.echo(text, nl=False)


def stdout_is_terminal() -> bool:
    """Whether stdout is a terminal (people read it) rather than a pipe or a file (programs read it)."""
    return sys.stdout.isatty()


def first_rows(batches: Iterator[pa.Table], limit: int) -> pa.Table | None:
    """The first ``limit`` rows of a stream of batches, reading no further than needed (None if empty)."""
    taken, count = [], 0
    for table in batches:
        taken.append(table.slice(0, limit - count))
        count += taken[-1].num_rows
        if count >= limit:
            break
    return pa.concat_tables(taken) if taken else None


def write_stdout(batches: Iterator[pa.Table], fmt: str) -> int:
    """Stream batches to stdout as CSV (one header) or JSON lines; returns the rows written. Bounded memory:
    one batch at a time. A reader that closes the pipe early (``| head``) ends the output quietly."""
    sink = sys.stdout.buffer
    count = 0
    encoder = duckdb.connect() if fmt == "jsonl" else None
    writer = None
    try:
        for table in batches:
            if fmt == "csv":
                if writer is None:
                    sink.write((",".join(_csv_field(name) for name in table.column_names) + "\n").encode())
                    writer = pa_csv.CSVWriter(sink, table.schema, write_options=pa_csv.WriteOptions(
                        include_header=False, quoting_style="needed"))
                writer.write_table(table)
            else:
                encoder.register("genesis_rows", table)
                lines = encoder.sql("SELECT CAST(to_json(genesis_rows) AS VARCHAR) FROM genesis_rows").fetchall()
                encoder.unregister("genesis_rows")
                sink.write("".join(f"{line}\n" for (line,) in lines).encode())
            sink.flush()
            count += table.num_rows
    except BrokenPipeError:
        _silence_stdout()
    finally:
        if writer is not None:
            try:
                writer.close()
            except BrokenPipeError:
                _silence_stdout()
        if encoder is not None:
            encoder.close()
    return count


def _csv_field(text: str) -> str:
    """A CSV header field, quoted only when it needs to be (as DuckDB's COPY writes it)."""
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(c in text for c in ',"\n\r') else text


def _silence_stdout() -> None:
    """After the reader went away, point stdout at /dev/null so the interpreter's final flush stays quiet."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (e.g. captured output in tests)
        pass


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
