"""Plan to Arrow: the one place where a generation plan becomes rows.

Every consumer goes through :func:`make_rows`: the SQL block function (:func:`row_blocks`, a whole block
per call), the SQL row function (through :class:`BlockCache`, since DuckDB asks it for 2,048 rows at a
time), the Python API and materialisation (:func:`generate_batches`) and streaming
(:func:`stream_batches`). A range of rows is split over the plan's worker threads where the rows
are produced; each row is a pure function of (stream key, row index), so the split never changes them:
the output is byte-identical whatever the thread count, batch size or chunking.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import Future

import numpy as np
import pyarrow as pa

from genesis_sql.generation.plan import GenerationPlan
from genesis_sql.generation.runtime import RUNTIME
from genesis_sql.models.base import BaseSynthesizer

BATCH_ROWS = 65_536
# Categories with up to this many values reach DuckDB dictionary-encoded. DuckDB converts a chunk's whole
# dictionary on every call of the row function: with 256 values that is a little faster than plain strings,
# with 5,000 a third slower, with 50,000 3.6 times slower (2,048-row chunks).
DUCKDB_DICTIONARY_VALUES = 256
# Rows the SQL functions make at once: what a call of the block function returns, and what the row function
# serves DuckDB's 2,048-row chunks from. Half a DuckDB row group, so that a parallel scan of rows
# (genesis_sql.generation.row_source), which gives each thread whole row groups, never has two threads
# wait on one block.
BLOCK_ROWS = 61_440
# Blocks kept at once, shared by every DuckDB thread: each thread reads one block at a time (DuckDB's
# default is a thread per CPU), and a block leaves as soon as its last rows are served.
BLOCK_CACHE_SIZE = max(16, 2 * (os.cpu_count() or 1))


def plain_columns(table: pa.Table, *, keep_up_to: int = 0) -> pa.Table:
    """The table with dictionary-encoded columns (how categories are generated) decoded to plain values,
    but for those whose dictionaries have at most ``keep_up_to`` values."""
    def kept(column: pa.ChunkedArray) -> bool:
        return not pa.types.is_dictionary(column.type) or 0 < keep_up_to >= max(
            (len(chunk.dictionary) for chunk in column.chunks), default=0)

    if all(kept(column) for column in table.columns):
        return table
    columns = [column if kept(column) else column.cast(column.type.value_type) for column in table.columns]
    return pa.Table.from_arrays(columns, names=table.column_names)


def _spans(first: int, last: int, parts: int, step: int) -> list[tuple[int, int]]:
    """[first, last) cut into at most ``parts`` contiguous spans whose sizes are multiples of ``step``."""
    pieces = -(-(last - first) // step)
    per_part = -(-pieces // parts)
    return [(start, min(start + per_part * step, last)) for start in range(first, last, per_part * step)]


def make_rows(plan: GenerationPlan, synthesizer: BaseSynthesizer, first: int, last: int, *,
              plain: bool = True) -> pa.Table:
    """Rows ``first`` to ``last - 1`` of the plan's stream, made on its worker threads.

    With ``plain`` false, categories of up to DUCKDB_DICTIONARY_VALUES values stay dictionary-encoded (DuckDB
    reads those into its VARCHAR columns without a copy of each string).
    """
    def sample(span: tuple[int, int]) -> pa.Table:
        rows = np.arange(span[0], span[1], dtype=np.int64)
        table = synthesizer.sample_rows(rows, key=plan.key, conditions=plan.conditions)
        return plain_columns(table, keep_up_to=0 if plain else DUCKDB_DICTIONARY_VALUES)

    spans = _spans(first, last, max(1, plan.threads), synthesizer.piece_rows) if last > first else [(first, last)]
    tables = RUNTIME.map(sample, spans)
    return tables[0] if len(tables) == 1 else pa.concat_tables(tables)


def _batches(plan: GenerationPlan, synthesizer: BaseSynthesizer, batch_size: int, start: int,
             stop: int | None) -> Iterator[pa.Table]:
    first = start
    while stop is None or first < stop:
        last = first + batch_size if stop is None else min(first + batch_size, stop)
        yield make_rows(plan, synthesizer, first, last)
        first = last


def generate_batches(plan: GenerationPlan, synthesizer: BaseSynthesizer, *, batch_size: int = BATCH_ROWS,
                     start: int = 0) -> Iterator[pa.Table]:
    """The plan's rows from ``start`` on, as Arrow tables of at most ``batch_size`` rows, in order."""
    return _batches(plan, synthesizer, batch_size, start, plan.n)


def stream_batches(plan: GenerationPlan, synthesizer: BaseSynthesizer, *, batch_size: int,
                   limit: int | None) -> Iterator[pa.Table]:
    """The plan's stream continued past n: ``limit`` rows in all, or without end when it is None."""
    return _batches(plan, synthesizer, batch_size, 0, limit)


def row_blocks(plan: GenerationPlan, synthesizer: BaseSynthesizer, firsts: np.ndarray,
               lasts: np.ndarray) -> pa.ListArray:
    """Blocks of the plan's rows, block k being rows ``firsts[k]`` to ``lasts[k] - 1``, each as the list of its
    rows: what the SQL block function returns. Small categories stay dictionary-encoded."""
    tables = [make_rows(plan, synthesizer, int(first), int(last), plain=False) for first, last in zip(firsts, lasts)]
    rows = struct_rows(tables[0] if len(tables) == 1 else pa.concat_tables(tables))
    offsets = np.concatenate([[0], np.cumsum(lasts - firsts)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), rows)


def struct_rows(table: pa.Table) -> pa.StructArray:
    """The table's rows as one struct array (what a DuckDB row function returns)."""
    return pa.StructArray.from_arrays([_one_array(column) for column in table.columns], names=table.column_names)


def _one_array(column: pa.ChunkedArray) -> pa.Array:
    """A column as one array. Parts made apart may encode a category column with different dictionaries,
    which Arrow cannot join when a dictionary holds NULL: such a column is decoded first."""
    if column.num_chunks == 1:
        return column.chunk(0)
    try:
        return column.combine_chunks()
    except pa.ArrowInvalid:
        if not pa.types.is_dictionary(column.type):
            raise
        return column.cast(column.type.value_type).combine_chunks()


class BlockCache:
    """Serves the SQL row function's chunks from blocks of BLOCK_ROWS rows, each made once by the first thread
    that asks (others asking meanwhile wait for it); small categories stay dictionary-encoded.

    Several DuckDB threads call the row function at once, and DuckDB holds Python's interpreter lock for
    each call: serving a chunk is a slice of a block made ready in advance, without numpy or Arrow work.
    """

    def __init__(self, size: int = BLOCK_CACHE_SIZE) -> None:
        self._size = size
        self._blocks: OrderedDict[tuple, Future[pa.StructArray]] = OrderedDict()
        self._lock = threading.Lock()

    def rows(self, plan: GenerationPlan, synthesizer: BaseSynthesizer, first: int, count: int) -> pa.StructArray:
        """Rows ``first`` to ``first + count - 1`` of the plan's stream."""
        last = first + count - 1
        start = first - first % BLOCK_ROWS
        if last >= start + BLOCK_ROWS:
            return struct_rows(make_rows(plan, synthesizer, first, last + 1, plain=False))
        end = min(start + BLOCK_ROWS, max(plan.n, last + 1))
        wanted = (plan.content_hash, plan.seed, plan.condition_sql, start, end)
        block, mine = self._claim(wanted)
        if mine:
            try:
                block.set_result(struct_rows(make_rows(plan, synthesizer, start, end, plain=False)))
            except BaseException as exc:
                self._forget(wanted, block)
                block.set_exception(exc)
                raise
        rows = block.result()
        if last + 1 == end:  # a scan reads a block once, in order: its last rows are the end of it
            self._forget(wanted, block)
        return rows.slice(first - start, count)

    def _claim(self, wanted: tuple) -> tuple[Future[pa.StructArray], bool]:
        """The block's future, and whether the caller is the one to make it."""
        with self._lock:
            block = self._blocks.get(wanted)
            if block is not None:
                self._blocks.move_to_end(wanted)
                return block, False
            block = self._blocks[wanted] = Future()
            while len(self._blocks) > self._size:
                self._blocks.popitem(last=False)
            return block, True

    def _forget(self, wanted: tuple, block: Future[pa.StructArray]) -> None:
        with self._lock:
            if self._blocks.get(wanted) is block:
                del self._blocks[wanted]
