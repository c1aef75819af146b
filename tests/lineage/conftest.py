"""Fixtures for the lineage tests: a real DuckDB file with the genesis catalog, keys, and built chains."""
from __future__ import annotations

import shutil

import duckdb
import pytest

import genesis_sql
from genesis_sql.lineage import LineageChain, Signer
from genesis_sql.lineage.record import record_quality


@pytest.fixture(autouse=True)
def _no_lineage_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start with no signing or trusted key in the environment; each sets what it needs."""
    monkeypatch.delenv("GENESIS_LINEAGE_KEY", raising=False)
    monkeypatch.delenv("GENESIS_LINEAGE_PUBKEY", raising=False)


@pytest.fixture
def con(db_path):
    """A plain connection to the root conftest's fresh installed ``db_path``: the catalog is there, the
    genesis functions are not registered (the chain needs only its table; tests that use SQL functions
    call ``genesis_sql.install``), which keeps each test well under a second."""
    connection = duckdb.connect(str(db_path))
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def signer() -> Signer:
    """The writers' signing key."""
    return Signer.generate()


@pytest.fixture(scope="session")
def attacker() -> Signer:
    """A key that is not the trusted one."""
    return Signer.generate()


@pytest.fixture
def make_chain(con):
    """Build a chain in ``con``: a genesis block plus ``blocks`` transform blocks with varied content."""

    def make(blocks: int, signer: Signer | None = None) -> LineageChain:
        chain = LineageChain(con, signer=signer)
        for i in range(blocks):
            chain.add_transform_block(f"step {i}", {"i": i, "ratio": i / 7, "note": "café ☕" if i % 5 == 0 else "x"})
        return chain

    return make


@pytest.fixture
def shop(con):
    """``con`` with genesis installed and a small ``customers`` table to fit on."""
    genesis_sql.install(con)
    con.execute("CREATE TABLE customers AS SELECT range AS id, 18 + range % 60 AS age, "
                "['CA', 'NY', 'TX'][1 + range % 3] AS state FROM range(300)")
    return con


@pytest.fixture(scope="module")
def history(installed_template, tmp_path_factory):
    """A model with a history, built once per module (read it, do not change it): two fits, generations of
    each version and a quality check of version 2, all unsigned."""
    path = tmp_path_factory.mktemp("history") / "history.duckdb"
    shutil.copyfile(installed_template, path)
    con = duckdb.connect(str(path))
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("GENESIS_LINEAGE_KEY", raising=False)
        genesis_sql.install(con)
        con.execute("CREATE TABLE customers AS SELECT range AS id, 18 + range % 60 AS age, "
                    "['CA', 'NY', 'TX'][1 + range % 3] AS state FROM range(300)")
        genesis_sql.fit(con, "customers", "SELECT * FROM customers", seed=0)
        genesis_sql.generate(con, "customers", 20, seed=1)
        genesis_sql.fit(con, "customers", "SELECT * FROM customers WHERE age > 30", seed=0)
        genesis_sql.generate(con, "customers", 30, seed=2, condition="state = 'CA'")
        record_quality(con, run_id="run-1", model="customers", version=2, metrics={"overall": 0.9}, passed=True)
    yield con
    con.close()
