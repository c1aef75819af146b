"""StreamingGenerator: a stored model as an endless (or bounded), rate-controlled stream of Arrow batches.

A stream is rows 0, 1, 2, ... of the model's generation stream for one seed and condition: the rows
``genesis_generate(model, n, seed := s, condition := c)`` returns, continued without end. Rows come
straight from the synthesizer by row index (no SQL in the loop), so a stream of a million rows has the
same first thousand rows as ``genesis_generate(model, 1000, ...)`` with that seed and condition.

The database. ``con`` is an open DuckDB connection, or the path of a database file. With a connection,
the generator uses it to load the model and, when the stream stops, to append its lineage block. With a
path, the generator opens the file only for those two moments (retrying a held lock for a bounded time,
like the CLI), so a stream that runs for hours does not keep other processes out of the file; ``genesis
stream`` works that way.

Example:
    >>> import duckdb, genesis_sql
    >>> con = genesis_sql.install(duckdb.connect())
    >>> _ = con.execute("CREATE TABLE t AS SELECT range AS x, range % 3 AS g FROM range(200)")
    >>> stream = StreamingGenerator(con, "t_model", StreamingConfig(batch_size=50, max_batches=3, seed=1))
    >>> [batch.num_rows for batch in stream.fit("SELECT * FROM t").generate_stream()]
    [50, 50, 50]
    >>> stream.stats.total_samples
    150
"""
from __future__ import annotations

import contextlib
import logging
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import duckdb
import pyarrow as pa

from genesis_sql._install import open_database
from genesis_sql.generation import GenerationPlan, plan_generation, stream_batches
from genesis_sql.api import fit as fit_model
from genesis_sql.errors import InvalidArgumentError
from genesis_sql.models.base import BaseSynthesizer
from genesis_sql.streaming.config import StreamingConfig, StreamingStats
from genesis_sql.streaming.encoding import RowEncoder
from genesis_sql.streaming.lineage import StreamFingerprint, record_stream
from genesis_sql.streaming.rate import TokenBucket, slice_rows

log = logging.getLogger(__name__)

Database = duckdb.DuckDBPyConnection | str | os.PathLike


class StreamingGenerator:
    """Streams the rows of a stored model.

    Args:
        con: A DuckDB connection with genesis installed, or the path of a database file (opened only to
            load the model and to record lineage; see the module docstring).
        model: The model name (``"customers"``, or ``"customers@2"`` for a version).
        config: What to stream; the defaults stream 10,000-row batches without end.
    """

    def __init__(self, con: Database, model: str, config: StreamingConfig | None = None) -> None:
        self.con = con
        self.model = model
        self.config = config if config is not None else StreamingConfig()
        self.stats = StreamingStats()
        self._plan: GenerationPlan | None = None
        self._synthesizer: BaseSynthesizer | None = None

    @contextlib.contextmanager
    def session(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The connection to work in: ``con`` itself, or the database file opened for the duration."""
        if isinstance(self.con, (str, os.PathLike)):
            with open_database(os.fspath(self.con)) as con:
                yield con
        else:
            yield self.con

    def fit(self, data: Any, method: str = "auto", *, seed: int = 0) -> StreamingGenerator:
        """Fit ``model`` on ``data`` and store it (a new version when the name exists); returns ``self``.

        Args:
            data: The training rows: SQL text run in the database, or an Arrow table or pandas DataFrame.
                A frame is staged in a transient table while fitting (lineage keeps its fingerprint).
            method: ``"auto"`` or a method name such as ``"copula"``.
            seed: Randomness of fitting.
        """
        with self.session() as con:
            if isinstance(data, str):
                fit_model(con, self.model, data, method=method, seed=seed)
            else:
                _fit_frame(con, self.model, data, method=method, seed=seed)
        self._plan = self._synthesizer = None
        return self

    def prepare(self) -> GenerationPlan:
        """Validate the request and load the model (once); returns the plan the stream follows.

        A generator whose config has no seed draws one here, once: every stream it runs repeats it.
        """
        if self._plan is None:
            with self.session() as con:
                self._plan, self._synthesizer = plan_generation(
                    con, self.model, self.config.row_limit or 0, seed=self.config.seed,
                    condition=self.config.conditions)
        return self._plan

    @property
    def schema(self) -> pa.Schema:
        """The Arrow schema of the streamed batches."""
        self.prepare()
        return self._synthesizer.output_schema

    def tables(self) -> Iterator[pa.Table]:
        """The stream's rows as Arrow tables of ``batch_size`` rows, with no pacing and no accounting."""
        plan = self.prepare()
        yield from stream_batches(plan, self._synthesizer, batch_size=self.config.batch_size,
                                  limit=self.config.row_limit)

    def generate_stream(self) -> Iterator[pa.RecordBatch]:
        """Yield the stream as Arrow record batches, paced to ``config.rate``; lineage is recorded at its end.

        The stream ends at the config's limits, or when the caller stops iterating (``break`` or
        ``close()``); either way one generation block records the rows handed out (destination
        ``"python"``). The model is loaded and the request validated before the first batch is asked for.
        """
        plan = self.prepare()
        return self._stream(plan)

    def _stream(self, plan: GenerationPlan) -> Iterator[pa.RecordBatch]:
        config = self.config
        encoder = RowEncoder(self.schema, json=False)
        delivered = StreamFingerprint(self.schema.names)
        rate = config.rate
        bucket = None if rate is None else TokenBucket(rate, burst=slice_rows(rate, config.batch_size))
        self.stats.start(target_rate=rate, seed=plan.seed)
        try:
            for table in self.tables():
                if bucket is not None:
                    time.sleep(bucket.reserve(table.num_rows))
                encoded = encoder.encode(table)
                delivered.add(encoded)
                self.stats.total_batches += 1
                self.stats.total_samples += table.num_rows
                self.stats.delivered += table.num_rows
                yield table.combine_chunks().to_batches()[0]
                if config.delay_between_batches:
                    time.sleep(config.delay_between_batches)
        finally:
            encoder.close()
            self.stats.finish()
            with self.session() as con:
                record_stream(con, plan, delivered, destination="python")


def _fit_frame(con: duckdb.DuckDBPyConnection, model: str, data: Any, *, method: str, seed: int) -> None:
    """Fit on an in-memory frame by staging it in a table that lineage's own cursors can read."""
    staged = f"genesis_stream_source_{uuid.uuid4().hex[:12]}"
    view = f"{staged}_view"
    try:
        con.register(view, data)
    except (duckdb.Error, TypeError, ValueError) as exc:
        raise InvalidArgumentError(f"fit() takes SQL text, an Arrow table or a pandas DataFrame. "
                                   f"Got {type(data).__name__}.") from exc
    try:
        con.execute(f"CREATE TABLE {staged} AS SELECT * FROM {view}")
    finally:
        con.unregister(view)
    try:
        fit_model(con, model, f"SELECT * FROM {staged}", method=method, seed=seed)
    finally:
        con.execute(f"DROP TABLE IF EXISTS {staged}")
