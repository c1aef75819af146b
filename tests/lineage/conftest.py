"""Fixtures for the lineage tests: a real DuckDB file with the genesis catalog, keys, and built chains."""
from __future__ import annotations

import shutil

import duckdb
import pytest

import genesis_sql
from genesis_sql.lineage import LineageChain, Signer


@pytest.fixture(autouse=True)
def _no_lineage_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start with no signing or trusted key in the environment; each sets what it needs."""
    monkeypatch.delenv("GENESIS_LINEAGE_KEY", raising=False)
    monkeypatch.delenv("GENESIS_LINEAGE_PUBKEY", raising=False)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    """A DuckDB file with the genesis catalog installed, made once and copied by ``db_path``."""
    path = tmp_path_factory.mktemp("template") / "lineage.duckdb"
    with duckdb.connect(str(path)) as con:
        genesis_sql.install(con)
    return path


@pytest.fixture
def db_path(template_db, tmp_path):
    """A fresh DuckDB file with the genesis catalog (and an empty chain)."""
    path = tmp_path / "lineage.duckdb"
    shutil.copyfile(template_db, path)
    return path


@pytest.fixture
def con(db_path):
    """A connection to ``db_path`` (the catalog is there; genesis functions are not registered on it)."""
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
