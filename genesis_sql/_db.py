"""Opening DuckDB files the way DESIGN.md "Processes" asks: retry a held lock for a bounded time."""
from __future__ import annotations

import contextlib
import errno
import logging
import os
import random
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

import duckdb

from genesis_sql.errors import CatalogError, DatabaseLockedError

log = logging.getLogger(__name__)

LOCK_RETRY_SECONDS = float(os.environ.get("GENESIS_LOCK_RETRY_SECONDS", "30"))


def _is_lock_error(exc: duckdb.Error) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set lock" in text)


# DuckDB names a file's catalog after its stem; a catalog named like the schema ``genesis`` makes every
# ``genesis.<table>`` ambiguous, so such files are attached under this alias instead.
ATTACH_ALIAS = "genesis_file"
# Connections whose default catalog was set with USE; their cursors must USE it too (cursors start on
# the database's first catalog).
_default_catalog: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor of ``con`` that sees the same default catalog (use it instead of ``con.cursor()``)."""
    cur = con.cursor()
    catalog = _default_catalog.get(con)
    if catalog is not None:
        cur.execute(f"USE {catalog}")
        _default_catalog[cur] = catalog
    return cur


def uses_attached_catalog(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``con`` works in a file attached under ATTACH_ALIAS (its own database is in memory)."""
    return con in _default_catalog


def in_transaction(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``con`` is inside an explicit transaction (BEGIN without COMMIT or ROLLBACK yet).

    In auto-commit every statement is a transaction of its own, so two statements see different ids.
    """
    first = con.execute("SELECT txid_current()").fetchall()[0][0]
    return con.execute("SELECT txid_current()").fetchall()[0][0] == first


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[bool]:
    """One transaction around the block: the caller's open one (yields False; it commits or rolls back
    later with everything else), or a new one on ``con`` (yields True) committed at the end of the block
    and rolled back when it raises."""
    if in_transaction(con):
        yield False
        return
    con.execute("BEGIN TRANSACTION")
    try:
        yield True
    except BaseException as exc:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        _raise_if_disk_full(exc)
        raise
    # A failed COMMIT rolls the transaction back by itself.
    try:
        con.execute("COMMIT")
    except duckdb.Error as exc:
        _raise_if_disk_full(exc)
        raise


def _raise_if_disk_full(exc: BaseException) -> None:
    """Name a full disk (from the OS or DuckDB's own IO) as such: a CatalogError saying nothing was stored."""
    text = str(exc).lower()
    if (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)) or (
            isinstance(exc, duckdb.Error) and ("no space left on device" in text or "disk quota exceeded" in text)):
        raise CatalogError(f"No space left on device: the transaction was rolled back and nothing was stored. "
                           f"Free some disk space and try again. ({str(exc).splitlines()[0]})") from exc


def _open(path: str, read_only: bool, config: dict | None) -> duckdb.DuckDBPyConnection:
    if path == ":memory:" or Path(path).stem.lower() != "genesis":
        return duckdb.connect(path, read_only=read_only, config=config or {})
    con = duckdb.connect(":memory:", config=config or {})
    try:
        quoted = path.replace("'", "''")
        con.execute(f"ATTACH '{quoted}' AS {ATTACH_ALIAS}{' (READ_ONLY)' if read_only else ''}")
        con.execute(f"USE {ATTACH_ALIAS}")
        _default_catalog[con] = ATTACH_ALIAS
    except BaseException:
        con.close()
        raise
    return con


def connect_with_retry(
    path: str, *, read_only: bool = False, retry_seconds: float | None = None, config: dict | None = None
) -> duckdb.DuckDBPyConnection:
    """Open ``path``, retrying while another process holds its lock, for at most ``retry_seconds``.

    A file named ``genesis.duckdb`` is attached under another catalog name (see ATTACH_ALIAS).
    """
    budget = LOCK_RETRY_SECONDS if retry_seconds is None else retry_seconds
    deadline = time.monotonic() + budget
    delay = 0.05
    while True:
        try:
            return _open(path, read_only, config)
        except duckdb.Error as exc:
            if not _is_lock_error(exc):
                raise
            if time.monotonic() >= deadline:
                raise DatabaseLockedError(
                    f"The database {path!r} is held by another process (waited {budget:.0f} s). "
                    "Stop that process (a dashboard, stream or server owns its file while it runs) or retry; "
                    "GENESIS_LOCK_RETRY_SECONDS sets how long to wait."
                ) from exc
            log.debug("database %s is locked, retrying in %.2f s", path, delay)
            time.sleep(random.uniform(0.5, 1.0) * delay)
            delay = min(delay * 2, 0.25)
