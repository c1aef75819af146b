"""One DuckDB connection per request, opened late and closed at teardown (DESIGN.md "Processes").

Two ways to get it. Under ``genesis serve`` the process owns the file: the app is given that connection
(``CONNECTION``) and each request works on a cursor of it. The dashboard alone does not hold the
database file between requests, so other processes (the CLI, a notebook) can use it meanwhile. Reads
open it read-only; a held lock is retried briefly and then becomes :class:`DatabaseLockedError`, which
the app shows as a 503 page. Requests of one app share a lock, because DuckDB refuses read-only and
read-write connections to one file from one process at the same time.
"""
from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator

import duckdb
from flask import Flask, current_app, g

from genesis_sql._db import connect_with_retry, cursor
from genesis_sql.errors import CatalogError

_LOCK = "genesis_db_lock"
# The views the pages read (udfs/quality_views.sql); a read-only database has those of its last writable install.
QUALITY_VIEWS = frozenset({"quality_summary", "quality_columns", "quality_pairs", "quality_privacy",
                           "quality_projection", "quality_rules", "quality_risks"})
_OWNER_LOCK = "genesis_owner_lock"


def open_serving_connection(path: str, *, lock_configuration: bool = True) -> duckdb.DuckDBPyConnection:
    """Open ``path`` for a long-running server that owns it: genesis installed, then DuckDB's file and
    network access switched off and (unless ``lock_configuration`` is False, for a caller that locks it
    later) its configuration locked, so that no SQL sent to the server can read files, attach databases,
    install extensions or switch these settings back."""
    from genesis_sql._install import install

    con = connect_with_retry(path)
    try:
        install(con)
        con.execute("SET enable_external_access = false")
        if lock_configuration:
            con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def get_db(*, write: bool = False) -> duckdb.DuckDBPyConnection:
    """The request's connection: read-only unless ``write``, with genesis installed when writing."""
    if "db" in g and (g.db_write or not write):
        return g.db
    close_db()
    shared = current_app.config.get("CONNECTION")
    if shared is not None:
        g.db, g.db_write = cursor(shared), True
        return g.db
    lock = current_app.extensions[_LOCK]
    lock.acquire()
    g.db_lock = lock
    path = current_app.config["DATABASE"]
    if not write and not os.path.exists(path):
        raise CatalogError(f"There is no database at {path}. Start the dashboard with --db pointing at a genesis "
                           "database, or evaluate a model there first.")
    con = connect_with_retry(path, read_only=not write, retry_seconds=current_app.config["LOCK_RETRY_SECONDS"])
    g.db, g.db_write = con, write
    if write:
        from genesis_sql._install import install

        install(con)
    else:
        views = {row[0] for row in con.execute("SELECT view_name FROM duckdb_views() WHERE schema_name = 'genesis' "
                                               "AND view_name LIKE 'quality%'").fetchall()}
        if "quality_summary" not in views:
            raise CatalogError(f"{path} has no genesis quality views yet. Evaluate a model first: "
                               "genesis evaluate MODEL --real \"SELECT ...\" (or SELECT genesis_evaluate(...)).")
        if not QUALITY_VIEWS <= views:
            missing = ", ".join(sorted(QUALITY_VIEWS - views))
            raise CatalogError(f"{path} has the quality views of an older genesis (it lacks {missing}). Open it "
                               "writable once to update them: genesis evaluate MODEL --real \"SELECT ...\", or "
                               "genesis_sql.install(duckdb.connect(path)).")
    return con


def close_db(_exc: BaseException | None = None) -> None:
    """Close the request's connection, if any, and let the next request open the file."""
    con = g.pop("db", None)
    if con is not None:
        con.close()
    lock = g.pop("db_lock", None)
    if lock is not None:
        lock.release()


@contextlib.contextmanager
def owner_db() -> Iterator[duckdb.DuckDBPyConnection]:
    """The connection that owns the database, for work that registers functions (a fit registers its
    model's row UDF, which lives only as long as the connection it was registered on, so never on a
    request's cursor). Under ``genesis serve`` that is the shared connection, one request at a time;
    otherwise the request's own connection, opened for writing."""
    shared = current_app.config.get("CONNECTION")
    if shared is None:
        yield get_db(write=True)
        return
    with current_app.extensions[_OWNER_LOCK]:
        yield shared


def detach_db() -> Callable[[], None]:
    """Take the request's connection away from teardown, for a streamed response that still reads from it
    after the view returned; the returned function closes it (once, however often it is called)."""
    con, lock = g.pop("db", None), g.pop("db_lock", None)
    g.pop("db_write", None)
    released = threading.Event()

    def close() -> None:
        if released.is_set():
            return
        released.set()
        if con is not None:
            con.close()
        if lock is not None:
            lock.release()

    return close


def init_app(app: Flask) -> None:
    """Close the connection at the end of every request."""
    app.extensions[_LOCK] = threading.Lock()
    app.extensions[_OWNER_LOCK] = threading.Lock()
    app.teardown_appcontext(close_db)
