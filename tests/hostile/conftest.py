"""Helpers of the hostile suite: what counts as a clean refusal, and a snapshot of everything stored.

A clean refusal is a ``GenesisError`` subclass raised in Python, or a DuckDB error whose text carries one
(``ClassName: message``, how DuckDB re-raises an exception from inside a genesis function). A snapshot
hashes the rows of every table in the database (the ``genesis`` catalog and the user's tables), so a test
can say that a failed call left all of them exactly as they were.
"""
from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

import genesis_sql
from genesis_sql import errors


def error_names() -> set[str]:
    """The class names of GenesisError and every subclass of it."""
    names, todo = set(), [errors.GenesisError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return names


def genesis_error_name(exc: BaseException) -> str | None:
    """The GenesisError class an exception is or carries (by name), or None for anything else."""
    if isinstance(exc, errors.GenesisError):
        return type(exc).__name__
    if isinstance(exc, duckdb.Error):
        text = str(exc)
        carried = [name for name in error_names() if f"{name}: " in text]
        if carried:
            return min(carried, key=text.index)
    return None


def refusal(call: Callable[[], object]) -> str | None:
    """Run ``call``: None when it succeeds, the GenesisError's class name when it refuses cleanly.

    Anything else (a raw DuckDB, Arrow or Python error) fails the test with the exception itself.
    """
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the point is to see which kind it is
        name = genesis_error_name(exc)
        if name is None:
            raise AssertionError(f"raw {type(exc).__name__} instead of a GenesisError: {exc}") from exc
        return name
    return None


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """A content digest of the rows of every table in the current database (order-independent: the count,
    sum and xor of the rows' hashes)."""
    tables = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND NOT temporary ORDER BY ALL").fetchall()
    result = {}
    for schema, table in tables:
        name = f'"{schema}"."{table}"'
        digest = con.execute(
            f"SELECT count(*), sum(hash(t)::HUGEINT), bit_xor(hash(t)) FROM {name} AS t").fetchall()[0]
        result[f"{schema}.{table}"] = ":".join(map(str, digest))
    return result


@pytest.fixture(scope="module")
def hostile_db(models_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A module-wide copy of the fitted models (diamonds, benefits, movies, economics) plus a victim table."""
    path = tmp_path_factory.mktemp("hostile") / "hostile.duckdb"
    shutil.copyfile(models_template, path)
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE victim AS SELECT range AS x FROM range(3)")
    return path


@pytest.fixture(scope="module")
def hostile_con(hostile_db: Path):
    """One installed connection to the module's copy."""
    connection = duckdb.connect(str(hostile_db))
    genesis_sql.install(connection)
    yield connection
    connection.close()
