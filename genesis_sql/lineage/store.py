"""Reading and appending rows of ``genesis.lineage``: the only module that writes SQL for the chain.

An append is one transaction on its own cursor: read the tip, insert the next blocks with ``seq = tip + 1``
and ``previous_hash = tip hash``, commit. Two writers that read the same tip collide on the primary key
of ``seq`` (or on DuckDB's write-write conflict check) when they commit; the loser rolls back and retries
on the new tip, so the chain never forks. Writers in other processes are kept out by DuckDB's file lock:
they open, append and close (see ``genesis_sql._db.connect_with_retry``). A crash before the commit
leaves no trace of the append, so the chain stays valid.
"""
from __future__ import annotations

import dataclasses
import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import duckdb
import pyarrow as pa

from genesis_sql.errors import CatalogError, LineageError
from genesis_sql.lineage.block import COLUMNS, HASH_SQL, ZERO_HASH, BlockDraft, LineageBlock, utc_timestamp
from genesis_sql.lineage.signing import Signer
from genesis_sql._db import cursor as open_cursor

log = logging.getLogger(__name__)

TABLE = "genesis.lineage"
SELECT = f"SELECT {', '.join(COLUMNS)} FROM {TABLE}"
INSERT = f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
GENESIS_CONTENT = {"chain": "genesis-sql lineage", "format": 1}
APPEND_ATTEMPTS = 200
ARROW_SCHEMA = pa.schema([("seq", pa.int64())] + [(name, pa.string()) for name in COLUMNS[1:]])
HASHED = f"SELECT {', '.join(COLUMNS)}, {HASH_SQL} AS computed FROM {{source}} ORDER BY {{order}}"
BATCH_SIZE = 8192
_CONFLICTS = (duckdb.TransactionException, duckdb.ConstraintException)


def _missing_table(exc: duckdb.CatalogException) -> CatalogError:
    return CatalogError(f"This database has no lineage table ({TABLE}): run genesis_sql.install(con) on it "
                        f"first (any genesis command does). DuckDB said: {exc}")


def read_batches(con: duckdb.DuckDBPyConnection, *, where: str = "", params: Sequence[object] = (),
                 batch_size: int = 8192) -> Iterator[list[tuple]]:
    """Rows of :data:`block.COLUMNS` in seq order, ``batch_size`` at a time (``where`` is trusted SQL)."""
    try:
        result = con.execute(f"{SELECT} {where} ORDER BY seq", list(params))
    except duckdb.CatalogException as exc:
        raise _missing_table(exc) from exc
    while rows := result.fetchmany(batch_size):
        yield rows


def read_hashed(con: duckdb.DuckDBPyConnection, *, batch_size: int = BATCH_SIZE) -> Iterator[pa.RecordBatch]:
    """The chain in seq order as Arrow record batches of :data:`block.COLUMNS` plus ``computed``.

    ``computed`` is each block's hash recomputed by DuckDB over its stored bytes (:data:`block.HASH_SQL`).
    DuckDB hashes, sorts and hands over the batches without holding the GIL, so signature checks on other
    threads keep running meanwhile.
    """
    try:
        relation = con.sql(HASHED.format(source=TABLE, order="seq"))
    except duckdb.CatalogException as exc:
        raise _missing_table(exc) from exc
    with relation.to_arrow_reader(batch_size) as reader:
        yield from reader


def hash_rows(batches: Iterable[Sequence[Sequence[Any]]]) -> Iterator[pa.RecordBatch]:
    """Rows of :data:`block.COLUMNS` from anywhere (an export, a test) as :func:`read_hashed` yields them.

    Each batch goes through the same SQL on a private in-memory DuckDB, in the order given, so rows that
    never were in a table are hashed exactly as stored ones are.
    """
    with duckdb.connect() as con:
        for rows in batches:
            if not rows:
                continue
            columns = [pa.array(column, field.type) for column, field in zip(zip(*rows), ARROW_SCHEMA)]
            table = pa.Table.from_arrays([*columns, pa.array(range(len(rows)), pa.int64())],
                                         schema=ARROW_SCHEMA.append(pa.field("position", pa.int64())))
            con.register("_genesis_rows", table)
            yield from con.sql(HASHED.format(source="_genesis_rows", order="position")).to_arrow_table().to_batches()


def count(con: duckdb.DuckDBPyConnection) -> int:
    """How many blocks the chain has."""
    try:
        return int(con.execute(f"SELECT count(*) FROM {TABLE}").fetchall()[0][0])
    except duckdb.CatalogException as exc:
        raise _missing_table(exc) from exc


def read_blocks(con: duckdb.DuckDBPyConnection, *, where: str = "", params: Sequence[object] = ()) -> list[LineageBlock]:
    """The blocks matching ``where`` (trusted SQL with ``?`` parameters), in seq order."""
    return [LineageBlock.from_row(row) for rows in read_batches(con, where=where, params=params) for row in rows]


def _insert(con: duckdb.DuckDBPyConnection, drafts: Sequence[BlockDraft], signer: Signer | None,
            clock: Callable[[], str]) -> list[LineageBlock]:
    """Insert ``drafts`` after the tip, in ``con``'s open transaction (a genesis block first on an empty chain)."""
    tip = con.execute(f"SELECT seq, hash FROM {TABLE} ORDER BY seq DESC LIMIT 1").fetchall()
    seq, previous = (tip[0][0] + 1, tip[0][1]) if tip else (0, ZERO_HASH)
    if not tip:
        drafts = [BlockDraft("genesis", GENESIS_CONTENT), *drafts]
    blocks = []
    for draft in drafts:
        block = LineageBlock.build(draft, seq=seq, previous_hash=previous, timestamp=clock())
        if signer is not None:
            block = dataclasses.replace(block, signature=signer.sign_block_hash(block.hash))
        con.execute(INSERT, list(block.as_row()))
        blocks.append(block)
        seq, previous = seq + 1, block.hash
    return blocks


def _append_once(cursor: duckdb.DuckDBPyConnection, drafts: Sequence[BlockDraft], signer: Signer | None,
                 clock: Callable[[], str]) -> list[LineageBlock]:
    cursor.execute("BEGIN TRANSACTION")
    try:
        blocks = _insert(cursor, drafts, signer, clock)
    except BaseException:
        cursor.execute("ROLLBACK")
        raise
    # A failed COMMIT rolls the transaction back by itself.
    cursor.execute("COMMIT")
    return blocks


def append_in_transaction(con: duckdb.DuckDBPyConnection, drafts: Sequence[BlockDraft], *,
                          signer: Signer | None = None, clock: Callable[[], str] = utc_timestamp) -> list[LineageBlock]:
    """Append ``drafts`` inside the transaction open on ``con``: they commit or roll back with the data they
    describe (the caller retries the whole transaction when a concurrent writer wins the tip)."""
    if not drafts:
        raise LineageError("Nothing to append: pass at least one block draft.")
    drafts = [draft.with_id() for draft in drafts]
    try:
        return _insert(con, drafts, signer, clock)[-len(drafts):]
    except duckdb.CatalogException as exc:
        raise _missing_table(exc) from exc


def append(con: duckdb.DuckDBPyConnection, drafts: Sequence[BlockDraft], *, signer: Signer | None = None,
           clock: Callable[[], str] = utc_timestamp) -> list[LineageBlock]:
    """Append ``drafts`` as consecutive blocks in one transaction (after a genesis block on an empty chain).

    Args:
        con: The connection; the append runs on a cursor of it, in its own transaction.
        drafts: The blocks to add, in order.
        signer: Signs every new block when given.
        clock: Supplies each block's timestamp.

    Returns:
        The stored blocks of ``drafts``, in order (not the genesis block).
    """
    if not drafts:
        raise LineageError("Nothing to append: pass at least one block draft.")
    drafts = [draft.with_id() for draft in drafts]
    cursor = open_cursor(con)
    try:
        for attempt in range(APPEND_ATTEMPTS):
            try:
                blocks = _append_once(cursor, drafts, signer, clock)
            except duckdb.CatalogException as exc:
                raise _missing_table(exc) from exc
            except _CONFLICTS as exc:
                log.debug("lineage append collided with another writer (attempt %d): %s", attempt + 1, exc)
                last = exc
                time.sleep(random.uniform(0, 0.002 * min(attempt + 1, 25)))
                continue
            return blocks[-len(drafts):]
        raise LineageError(
            f"Could not append to the lineage chain after {APPEND_ATTEMPTS} attempts; the last error was: {last}. "
            "If no other writer is busy, genesis.lineage was edited by hand: check it with `genesis lineage verify`."
        ) from last
    finally:
        cursor.close()
