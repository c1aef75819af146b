"""Read-only serving: writes, file and network access, extensions and configuration are refused."""
from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.server.pgwire.conftest import MODEL, Endpoint

REFUSED = {
    "create table": "CREATE TABLE stolen AS SELECT * FROM benefits",
    "insert": "INSERT INTO benefits SELECT * FROM benefits LIMIT 1",
    "update": "UPDATE benefits SET age = 0",
    "delete": "DELETE FROM benefits",
    "drop": "DROP TABLE benefits",
    "alter": "ALTER TABLE benefits ADD COLUMN x INTEGER",
    "copy to file": "COPY benefits TO '{out}'",
    "copy from file": "COPY benefits FROM '{csv}'",
    "attach": "ATTACH '{out}.db' AS other",
    "read_csv": "SELECT * FROM read_csv('{csv}')",
    "file as table": "SELECT * FROM '{csv}'",
    "read_text": "SELECT * FROM read_text('/etc/hostname')",
    "install": "INSTALL httpfs",
    "load": "LOAD httpfs",
    "pragma": "PRAGMA database_size",
    "call": "CALL pragma_version()",
    "checkpoint": "CHECKPOINT",
    "genesis_fit": f"SELECT genesis_fit('copy', 'SELECT * FROM benefits')",
    "genesis_drop": f"SELECT genesis_drop('{MODEL}')",
    "query() text": "SELECT * FROM query('SELECT * FROM benefits')",
    "genesis_query writer": "SELECT * FROM genesis_query('SELECT genesis_drop(''workers'')')",
    "explain analyze of a write": "EXPLAIN ANALYZE CREATE TABLE t AS SELECT 1",
    "writable CTE in a select": "WITH x AS (SELECT nextval('s')) SELECT * FROM x",
}


@pytest.mark.parametrize("statement", REFUSED.values(), ids=REFUSED.keys())
def test_refused_with_insufficient_privilege(served: Endpoint, statement: str, data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "leak.csv"
    sql = statement.format(out=out, csv=data_dir / "Benefits.csv")
    with served.psycopg(autocommit=True) as con:
        before = con.execute("SELECT count(*), sum(age) FROM benefits").fetchall()
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
            con.execute(sql)
        assert "read-only" in str(refused.value) or "not allowed" in str(refused.value) \
            or "does not allow" in str(refused.value)
        assert con.execute("SELECT count(*), sum(age) FROM benefits").fetchall() == before
        models = con.execute("SELECT DISTINCT name FROM genesis.models").fetchall()
    assert models == [(MODEL,)]
    assert not out.exists() and not Path(f"{out}.db").exists()


def test_set_cannot_reopen_file_access(served: Endpoint, data_dir: Path) -> None:
    with served.psycopg(autocommit=True) as con:
        con.execute("SET enable_external_access = true")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            con.execute(f"SELECT * FROM read_csv('{data_dir / 'Benefits.csv'}')")
        assert con.execute("SELECT current_setting('enable_external_access')").fetchall() == [(False,)]


def test_user_tables_and_catalog_are_readable(served: Endpoint) -> None:
    with served.psycopg(autocommit=True) as con:
        assert con.execute("SELECT count(*) FROM benefits").fetchall() == [(4877,)]
        assert con.execute("SELECT name FROM genesis_models()").fetchall() == [(MODEL,)]
        assert con.execute("SHOW TABLES").fetchall()
        assert con.execute("EXPLAIN SELECT * FROM benefits").fetchall()
