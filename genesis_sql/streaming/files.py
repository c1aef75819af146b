"""File and queue sinks: a stream into rotating Parquet/CSV/JSONL files, or into a queue for Python code.

Files. Rows go to ``<prefix>-000000.<ext>``, ``<prefix>-000001.<ext>`` ... in ``directory``, a new file
every ``rotate_rows`` rows. A file is written under a hidden temporary name and renamed when complete, so
a reader globbing ``*.parquet`` (``SELECT * FROM 'events/*.parquet'``) only ever sees whole files. The
stream refuses to overwrite files of an earlier stream with the same prefix. JSONL holds one JSON object
per line, encoded like the Kafka and WebSocket messages; CSV and Parquet keep the Arrow types.

Queue. :class:`QueueStreamingGenerator` puts Arrow record batches on a bounded ``queue.Queue`` for a
consumer thread; a full queue makes the stream wait (never drop), and ``None`` marks the end of a bounded
stream. Iterate the generator to consume.
"""
from __future__ import annotations

import logging
import os
import queue
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from genesis_sql.errors import IntegrationError, InvalidArgumentError
from genesis_sql.streaming.config import StreamingConfig
from genesis_sql.streaming.sink import SinkStreamingGenerator

if TYPE_CHECKING:
    from genesis_sql.generation.plan import GenerationPlan
    from genesis_sql.streaming.encoding import EncodedBatch
    from genesis_sql.streaming.generator import Database

log = logging.getLogger(__name__)

FORMATS = {"parquet": "parquet", "csv": "csv", "jsonl": "jsonl"}
# Parquet row groups hold at least this many rows (slices are buffered up to it), unless a file ends first.
ROW_GROUP_ROWS = 65_536


class _PartFile:
    """One output file being written: rows go to a hidden temporary name, renamed on close."""

    def __init__(self, path: Path, fmt: str, schema: pa.Schema) -> None:
        self.path = path
        self.partial = path.with_name(f".{path.name}.partial")
        self.format = fmt
        self.rows = 0
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        if fmt == "parquet":
            self._writer = pq.ParquetWriter(self.partial, schema)
        elif fmt == "csv":
            self._writer = pa_csv.CSVWriter(self.partial, schema)
        else:
            self._writer = open(self.partial, "wb")

    def write(self, batch: EncodedBatch) -> None:
        """Append the rows of ``batch``."""
        self.rows += batch.num_rows
        if self.format == "jsonl":
            self._writer.write(b"\n".join(batch.messages) + b"\n")
        elif self.format == "csv":
            self._writer.write_table(batch.table)
        else:
            self._pending.append(batch.table)
            self._pending_rows += batch.num_rows
            if self._pending_rows >= ROW_GROUP_ROWS:
                self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._writer.write_table(pa.concat_tables(self._pending), row_group_size=self._pending_rows)
            self._pending, self._pending_rows = [], 0

    def close(self) -> None:
        """Finish the file and give it its final name."""
        self._flush()
        self._writer.close()
        os.replace(self.partial, self.path)


class FileStreamingGenerator(SinkStreamingGenerator):
    """Streams a model's rows into rotating files.

    Args:
        con: A DuckDB connection with genesis installed, or a database path.
        model: The model name.
        config: What to stream (rate, limits, seed, conditions).
        directory: Folder for the files (created when missing).
        format: ``"parquet"``, ``"csv"`` or ``"jsonl"``.
        rotate_rows: Rows per file.
        prefix: File name prefix; the model name when None.
    """

    def __init__(self, con: Database, model: str, config: StreamingConfig | None = None, *,
                 directory: str | os.PathLike, format: str = "parquet", rotate_rows: int = 1_000_000,
                 prefix: str | None = None) -> None:
        super().__init__(con, model, config)
        self.directory = Path(directory)
        self.format = format
        self.rotate_rows = rotate_rows
        self.prefix = prefix
        self.json_messages = format == "jsonl"
        self.files: list[Path] = []
        self._current: _PartFile | None = None

    @property
    def destination(self) -> str:
        """The output folder."""
        return str(self.directory.resolve())

    def _name(self, index: int) -> Path:
        stem = self.prefix or self.model.partition("@")[0]
        return self.directory / f"{stem}-{index:06d}.{self.format}"

    def _open(self, plan: GenerationPlan) -> None:
        if self.format not in FORMATS:
            raise InvalidArgumentError(f"format must be one of {', '.join(FORMATS)}. Got {self.format!r}.")
        if isinstance(self.rotate_rows, bool) or not isinstance(self.rotate_rows, int) or self.rotate_rows < 1:
            raise InvalidArgumentError(f"rotate_rows must be a whole number of rows of at least 1, such as 1000000. "
                                       f"Got {self.rotate_rows!r}.")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidArgumentError(f"Cannot create the output folder {str(self.directory)!r}: {exc}") from exc
        first = self._name(0)
        if first.exists():
            raise InvalidArgumentError(f"{str(first)!r} already exists (from an earlier stream); choose another "
                                       "folder or prefix, or remove the old files.")
        self.files = []
        self._current = None

    def _send(self, batch: EncodedBatch) -> bool:
        start = 0
        while start < batch.num_rows:
            if self._current is None:
                self._current = _PartFile(self._name(len(self.files)), self.format, batch.table.schema)
            take = min(batch.num_rows - start, self.rotate_rows - self._current.rows)
            try:
                self._current.write(batch.slice(start, start + take))
            except OSError as exc:
                raise IntegrationError(f"Writing {str(self._current.path)!r} failed: {exc}") from exc
            start += take
            self.stats.delivered += take
            if self._current.rows >= self.rotate_rows:
                self._finish_file()
        return True

    def _finish_file(self) -> None:
        current, self._current = self._current, None
        current.close()
        self.files.append(current.path)
        log.info("wrote %s (%d rows)", current.path, current.rows)

    def _close(self) -> None:
        if self._current is not None:
            self._finish_file()


class QueueStreamingGenerator(SinkStreamingGenerator):
    """Streams a model's rows onto a bounded queue of Arrow record batches.

    Args:
        con: A DuckDB connection with genesis installed, or a database path.
        model: The model name.
        config: What to stream (rate, limits, seed, conditions).
        maxsize: Batches the queue holds before the stream waits for the consumer.

    ``for batch in stream.start_streaming(): ...`` consumes in the calling thread; ``stream.queue`` is there
    for consumers that prefer ``get()``.
    """

    json_messages = False
    destination = "python-queue"

    def __init__(self, con: Database, model: str, config: StreamingConfig | None = None, *,
                 maxsize: int = 8) -> None:
        super().__init__(con, model, config)
        self.queue: queue.Queue = queue.Queue(maxsize=maxsize)

    @property
    def slice_limit(self) -> int:
        """Batches go on the queue as generated: ``batch_size`` rows (fewer when a rate cuts them)."""
        return self.config.batch_size

    def _offer(self, item: object) -> bool:
        """Put ``item`` (waiting while the queue is full) unless the stream stops first."""
        waited = False
        while not self._stop.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                if not waited:
                    self.stats.backpressure_waits += 1
                    waited = True
        return False

    def _send(self, batch: EncodedBatch) -> bool:
        if not self._offer(batch.table.combine_chunks().to_batches()[0]):
            return False
        self.stats.delivered += batch.num_rows
        return True

    def _close(self) -> None:
        self._offer(None)

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        """The batches in order, until a bounded stream ends or the stream is stopped (start it first)."""
        while True:
            try:
                batch = self.queue.get(timeout=0.1)
            except queue.Empty:
                if self.streaming:
                    continue
                try:
                    batch = self.queue.get_nowait()
                except queue.Empty:
                    return
            if batch is None:
                return
            yield batch
