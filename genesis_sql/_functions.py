"""Python functions in DuckDB, registered once per database instance and shared by every connection.

DuckDB keeps one database instance per file (or per in-memory database) and process; Python functions
registered on any connection of an instance are visible to every connection of it, and they stay in the
instance's catalog after the connection that registered them closes. Two consequences shape this module:

- The Python callables DuckDB calls must stay alive as long as the process: DuckDB keeps a raw pointer
  to them and crashes the interpreter when they are freed (what closing the installing connection did).
  The runtime keeps every function it registers, and registers each once per instance, under a lock.
- A genesis function needs a connection of its own to read the catalog (a UDF cannot run statements on
  the connection running its query). For a file opened plainly it opens one more connection to the same
  instance for the duration of the call (DuckDB hands out the open instance); otherwise (in-memory
  databases, files attached under another name, instances opened with their own configuration) it takes
  a fresh cursor of a still-open connection that ran ``install()`` there, and moves on to the next one
  when that one was closed meanwhile. A user's connection is touched as little as possible because
  DuckDB 2 refuses to close a connection while one of its cursors is busy. Nothing holds a connection
  between calls, so closing every connection lets the file go (another process can open it at once).

State is keyed by database instance: a key stored in the instance itself, as the function
``genesis_runtime_key()``. This module sits at the bottom of the package (beside ``_db`` and ``errors``)
so that every package can register SQL functions; the process-wide runtime
(:mod:`genesis_sql.generation.runtime`) owns the one :class:`FunctionRegistry`.
"""
from __future__ import annotations

import contextlib
import logging
import threading
import uuid
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import duckdb

from genesis_sql._db import cursor as open_cursor
from genesis_sql._db import uses_attached_catalog
from genesis_sql.errors import GenesisError

log = logging.getLogger(__name__)

T = TypeVar("T")

KEY_FUNCTION = "genesis_runtime_key"
# What a process that did not install genesis reads when it uses a genesis SQL function: DuckDB's own
# "Scalar Function with name ... does not exist!" cannot be changed, so the names of the Python functions
# behind the persisted macros carry the fix.
NOT_INSTALLED = ("genesis is not installed in this process: call genesis_sql.install(con) first, or use "
                 "`genesis serve` for tools outside Python")


def python_name(public: str) -> str:
    """The catalog name of the Python function behind the persisted macro ``public``."""
    return f"{public} [{NOT_INSTALLED}]"


def quoted(name: str) -> str:
    """``name`` as a SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


class NotInstalledError(GenesisError):
    """No open connection of this database ran ``genesis_sql.install(con)``."""


@dataclass
class Database:
    """What the runtime knows about one DuckDB database instance."""

    key: str
    lock: threading.RLock = field(default_factory=threading.RLock)
    sources: list[weakref.ref] = field(default_factory=list)
    functions: set[str] = field(default_factory=set)
    installed: bool = False
    # (path, read_only) when a plain ``duckdb.connect`` of the file reaches this very instance.
    file: tuple[str, bool] | None = None

    def add_source(self, con: duckdb.DuckDBPyConnection) -> None:
        """Remember ``con`` (weakly) as a connection genesis may open cursors of, and whether the file can be
        reached without it."""
        with self.lock:
            self.sources = [ref for ref in self.sources if ref() is not None and ref() is not con]
            self.sources.append(weakref.ref(con))
            if self.file is None:
                self.file = _reachable_file(con, self.key)

    def _open_file(self) -> duckdb.DuckDBPyConnection | None:
        if self.file is None:
            return None
        try:
            con = duckdb.connect(self.file[0], read_only=self.file[1])
        except duckdb.Error:
            return None
        if _instance_key(con) != self.key:  # the instance is gone: this opened the file afresh
            con.close()
            return None
        return con

    def open_cursor(self) -> duckdb.DuckDBPyConnection:
        """A connection of this instance of genesis's own: to the file, else a cursor of an installed connection."""
        own = self._open_file()
        if own is not None:
            return own
        with self.lock:
            candidates = [ref() for ref in reversed(self.sources)]
        for con in candidates:
            if con is None:
                continue
            try:
                return open_cursor(con)
            except duckdb.ConnectionException:
                self._forget(con)
        raise NotInstalledError(
            "Every connection that installed genesis on this database is closed, and genesis reads the database "
            "through one of them: call genesis_sql.install(con) on the connection you are using.")

    def _forget(self, con: duckdb.DuckDBPyConnection) -> None:
        with self.lock:
            self.sources = [ref for ref in self.sources if ref() is not None and ref() is not con]

    def run(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """``work(cursor)`` on a fresh cursor; retried on another connection when its own was closed meanwhile."""
        while True:
            cursor = self.open_cursor()
            try:
                return work(cursor)
            except duckdb.ConnectionException:
                if not _closed(cursor):
                    raise
                log.debug("a connection of database %s closed under a genesis function; retrying", self.key)
            finally:
                with contextlib.suppress(duckdb.Error):
                    cursor.close()

    @contextlib.contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A fresh cursor for the duration of the block (for work that must not be repeated)."""
        cursor = self.open_cursor()
        try:
            yield cursor
        finally:
            with contextlib.suppress(duckdb.Error):
                cursor.close()


def _reachable_file(con: duckdb.DuckDBPyConnection, key: str) -> tuple[str, bool] | None:
    """(path, read_only) of ``con``'s database file when ``duckdb.connect(path)`` reaches the same instance."""
    if uses_attached_catalog(con):
        return None
    rows = con.execute("SELECT path, readonly FROM duckdb_databases() WHERE database_name = current_database()"
                       ).fetchall()
    if not rows or rows[0][0] is None:
        return None
    path, read_only = rows[0][0], bool(rows[0][1])
    try:
        probe = duckdb.connect(path, read_only=read_only)
    except duckdb.Error:
        return None
    try:
        same = _instance_key(probe) == key and probe.execute("SELECT current_database()").fetchall() == \
            con.execute("SELECT current_database()").fetchall()
    finally:
        probe.close()
    return (path, read_only) if same else None


def _closed(con: duckdb.DuckDBPyConnection) -> bool:
    try:
        con.execute("SELECT 1").fetchall()
    except duckdb.ConnectionException:
        return True
    return False


class FunctionRegistry:
    """Every Python function genesis registered with DuckDB in this process, per database instance."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._databases: dict[str, Database] = {}
        self._kept: list[Callable] = []

    def database(self, con: duckdb.DuckDBPyConnection) -> Database:
        """The state of ``con``'s database instance (created, and its key stored in it, on first sight)."""
        with self._lock:
            key = _instance_key(con)
            if key is None:
                key = uuid.uuid4().hex
                function = _constant(key)
                self._kept.append(function)
                # On a cursor: autocommitted, whatever transaction ``con`` is in.
                cursor = open_cursor(con)
                try:
                    cursor.create_function(KEY_FUNCTION, function, [], "VARCHAR")
                except duckdb.CatalogException:
                    key = _instance_key(con)  # registered meanwhile through another connection
                finally:
                    cursor.close()
            return self._databases.setdefault(key, Database(key))

    def register(self, database: Database, name: str, function: Callable, parameters: list,
                 result: Any, **options: Any) -> None:
        """Register ``function`` as ``name`` in ``database`` once; it is kept alive for the process."""
        with database.lock:
            if name in database.functions:
                return
            with self._lock:
                self._kept.append(function)
            with database.connection() as cursor:
                try:
                    cursor.create_function(name, function, parameters, result, **options)
                except duckdb.CatalogException as exc:
                    if "already exists" not in str(exc):
                        raise
            database.functions.add(name)

    def register_on(self, con: duckdb.DuckDBPyConnection, name: str, function: Callable, parameters: list,
                    result: Any, **options: Any) -> None:
        """Create ``function`` as ``name`` on ``con`` itself, in its open transaction; it is kept alive."""
        with self._lock:
            self._kept.append(function)
        try:
            con.create_function(name, function, parameters, result, **options)
        except duckdb.CatalogException as exc:
            if "already exists" not in str(exc):
                raise


def register_function(con: duckdb.DuckDBPyConnection, name: str, make: Callable[[Database], Callable],
                      parameters: list, result: Any, *, in_transaction: bool = False, **options: Any) -> None:
    """Register ``make(database)`` as the SQL function ``name`` of ``con``'s database (once per process).

    ``make`` builds the Python function from the database's state, never from ``con``: the function must
    keep working after ``con`` closes, and reads the database through ``database.run(work)``. Options go to
    ``create_function`` (``side_effects=True`` and ``null_handling="special"`` unless given). With
    ``in_transaction``, the function is created on ``con`` itself, inside its open transaction (the only
    way that transaction sees it), and registered for everyone again later (a rollback takes it away).
    """
    database = FUNCTIONS.database(con)
    options = {"side_effects": True, "null_handling": "special", **options}
    with database.lock:
        if name in database.functions:
            return
        if in_transaction:
            FUNCTIONS.register_on(con, name, make(database), parameters, result, **options)
        else:
            FUNCTIONS.register(database, name, make(database), parameters, result, **options)


def _constant(value: str) -> Callable[[], str]:
    def genesis_runtime_key() -> str:
        return value
    return genesis_runtime_key


def _instance_key(con: duckdb.DuckDBPyConnection) -> str | None:
    try:
        return con.execute(f"SELECT {KEY_FUNCTION}()").fetchall()[0][0]
    except duckdb.CatalogException:
        return None


FUNCTIONS = FunctionRegistry()
