"""`install(con)`: bring the catalog up to date and register every genesis function on a connection.

Registration is one ordered step per concern, each a module with ``register(con)``, the way dbt-duckdb
configures a connection plugin by plugin. Python functions are registered before the SQL in ``udfs/``
runs, because those macros and views call them. Functions live in the database instance, so they are
registered once per instance and process (:mod:`genesis_sql._functions`); installing is safe from any
number of threads and connections at once, and idempotent.
"""
from __future__ import annotations

import contextlib
import importlib
import re
from collections.abc import Iterator

import duckdb

from genesis_sql._db import connect_with_retry
from genesis_sql._functions import FUNCTIONS, python_name, quoted
from genesis_sql.catalog import apply_migrations, pending_migrations, sql_dir
from genesis_sql.errors import CatalogError
from genesis_sql.generation import row_source

REGISTRARS: tuple[str, ...] = (
    "genesis_sql.sql.functions",
    "genesis_sql.lineage.sql",
    "genesis_sql.sql.quality",
    "genesis_sql.sql.query",
    "genesis_sql.sql.describe",
    "genesis_sql.privacy.functions",
)
# In udfs/*.sql, {python:NAME} stands for the Python function behind the macro NAME.
PYTHON_FUNCTION = re.compile(r"\{python:([a-z_]+)\}")


def udf_sql(text: str) -> str:
    """The text of a udfs/ file with each ``{python:NAME}`` replaced by that function's quoted name."""
    return PYTHON_FUNCTION.sub(lambda match: quoted(python_name(match.group(1))), text)


def install(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Make ``con`` a genesis connection: migrate the catalog, register functions, macros and views.

    Idempotent: a second call changes nothing. Returns ``con`` for chaining. On a database opened
    read-only, the catalog, macros and views must already be there (from one writable install); only
    the Python functions are registered.
    """
    database = FUNCTIONS.database(con)
    database.add_source(con)
    with database.lock:
        read_only = con.execute(
            "SELECT readonly FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[0][0]
        if read_only:
            waiting = pending_migrations(con)
            if waiting:
                raise CatalogError(
                    f"This read-only database lacks genesis catalog migrations {waiting}; open it writable once "
                    "and call genesis_sql.install(con), then read-only connections work.")
        else:
            apply_migrations(con)
        for module in REGISTRARS:
            importlib.import_module(module).register(con)
        if not read_only and not database.installed:
            row_source.create(con)
            for path in sorted(sql_dir("udfs").glob("*.sql")):
                con.execute(udf_sql(path.read_text(encoding="utf-8")))
            database.installed = True
    return con


@contextlib.contextmanager
def open_database(path: str, *, install_genesis: bool = True, read_only: bool = False,
                  retry_seconds: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open, (optionally) install genesis, yield, and always close: the CLI's open-work-close cycle."""
    con = connect_with_retry(path, read_only=read_only, retry_seconds=retry_seconds)
    try:
        if install_genesis:
            install(con)
        yield con
    finally:
        con.close()
