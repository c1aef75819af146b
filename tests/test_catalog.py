"""The genesis catalog: migrations, the model registry stored as data, content hashes, versions and drop."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import pickle
import re
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pytest

import genesis_sql
from genesis_sql import catalog
from genesis_sql.errors import CatalogError, GenesisError, InvalidModelNameError, MigrationError, ModelNotFoundError
from tests.conftest import read_csv_sql

CATALOG_TABLES = {"schema_migrations", "models", "model_arrays", "model_versions", "lineage", "quality_runs",
                  "quality_metrics", "privacy_budget"}


def snapshot(con: duckdb.DuckDBPyConnection) -> tuple:
    """Everything a migration could touch: the genesis schema's columns, the ledger and the stored rows."""
    columns = con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_schema = 'genesis' ORDER BY ALL").fetchall()
    ledger = con.execute("SELECT version, name, checksum FROM genesis.schema_migrations ORDER BY version").fetchall()
    models = con.execute("SELECT name, version, content_hash FROM genesis.models ORDER BY ALL").fetchall()
    budget = con.execute("SELECT count(*) FROM genesis.privacy_budget").fetchall()
    return columns, ledger, models, budget


def shipped_migrations() -> dict[int, Path]:
    return {int(p.name.split("_")[0]): p for p in catalog.sql_dir("migrations").glob("*.sql")}


@pytest.fixture
def migrations_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped migrations that the catalog reads instead; tests add files to it."""
    folder = tmp_path / "migrations"
    shutil.copytree(catalog.sql_dir("migrations"), folder)
    shipped = catalog.sql_dir
    monkeypatch.setattr(catalog, "sql_dir", lambda kind: folder if kind == "migrations" else shipped(kind))
    return folder


BROKEN = """
CREATE TABLE genesis.half_done (x INTEGER);
ALTER TABLE genesis.models ADD COLUMN oops INTEGER;
INSERT INTO genesis.privacy_budget (model, mechanism, epsilon) VALUES ('m', 'laplace', 1.0);
SELECT * FROM genesis.no_such_table;
"""


# --- migrations --------------------------------------------------------------------------------------------

def test_migrations_create_the_catalog_and_record_each_file_with_its_checksum(tmp_path: Path):
    with duckdb.connect(str(tmp_path / "new.duckdb")) as con:
        applied = catalog.apply_migrations(con)
        tables = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'genesis'").fetchall()}
        ledger = con.execute("SELECT version, checksum FROM genesis.schema_migrations ORDER BY version").fetchall()
    files = shipped_migrations()
    assert applied == sorted(files)
    assert CATALOG_TABLES <= tables
    assert ledger == [(v, hashlib.sha256(files[v].read_text(encoding="utf-8").encode()).hexdigest())
                      for v in sorted(files)]


def test_migrations_applied_twice_are_a_no_op(tmp_path: Path):
    with duckdb.connect(str(tmp_path / "twice.duckdb")) as con:
        genesis_sql.install(con)
        before = snapshot(con)
        assert catalog.apply_migrations(con) == []
        genesis_sql.install(con)
        assert snapshot(con) == before
    with duckdb.connect(str(tmp_path / "twice.duckdb")) as con:  # and again from a new connection
        assert catalog.apply_migrations(con) == []
        assert snapshot(con) == before


def test_a_failing_migration_leaves_the_database_as_it_was(tmp_path: Path, migrations_dir: Path):
    path = tmp_path / "current.duckdb"
    with duckdb.connect(str(path)) as con:
        genesis_sql.install(con)
        before = snapshot(con)
        (migrations_dir / "999_broken.sql").write_text(BROKEN, encoding="utf-8")
        with pytest.raises(MigrationError, match=re.escape("Migration 999_broken.sql failed and was rolled back: ")):
            catalog.apply_migrations(con)
        assert snapshot(con) == before
        # install runs the same migrations, so it fails the same way, with a GenesisError
        with pytest.raises(GenesisError, match=re.escape("Migration 999_broken.sql failed and was rolled back")):
            genesis_sql.install(con)
    with duckdb.connect(str(path)) as con:  # nothing half-done was persisted either
        assert snapshot(con) == before


def test_a_failing_migration_keeps_the_earlier_ones_and_is_retried_once_fixed(tmp_path: Path,
                                                                             migrations_dir: Path):
    earlier = sorted(shipped_migrations())
    (migrations_dir / "999_broken.sql").write_text(BROKEN, encoding="utf-8")
    with duckdb.connect(str(tmp_path / "new.duckdb")) as con:
        with pytest.raises(MigrationError):
            catalog.apply_migrations(con)
        ledger = [r[0] for r in con.execute("SELECT version FROM genesis.schema_migrations").fetchall()]
        assert sorted(ledger) == earlier
        assert "half_done" not in {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables")
                                   .fetchall()}
        (migrations_dir / "999_broken.sql").write_text("CREATE TABLE genesis.fixed (x INTEGER);", encoding="utf-8")
        assert catalog.apply_migrations(con) == [999]
        assert con.execute("SELECT count(*) FROM genesis.fixed").fetchall() == [(0,)]


def test_install_ignores_a_genesis_catalog_in_another_attached_database(tmp_path: Path, installed_template: Path):
    # The migrations ledger is looked up in the connection's own database, not in any attached one.
    other = tmp_path / "other.duckdb"
    shutil.copyfile(installed_template, other)
    with duckdb.connect(str(tmp_path / "mine.duckdb")) as con:
        con.execute(f"ATTACH '{other}' AS other")
        genesis_sql.install(con)
        assert con.execute("SELECT count(*) FROM genesis.schema_migrations").fetchall() == [(len(shipped_migrations()),)]


# --- model references ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("ref", "expected"), [("Diamonds@2", ("diamonds", 2)), (" movies ", ("movies", None)),
                                               ("_x9@10", ("_x9", 10))])
def test_model_references_are_name_and_optional_version(ref, expected):
    assert catalog.parse_model_ref(ref) == expected


@pytest.mark.parametrize("ref", ["2fast", "a-b", "m@", "m@x", "m@1@2", "", "x'); DROP TABLE t; --", "a b"])
def test_invalid_model_references_are_rejected_with_the_rule(ref):
    with pytest.raises(InvalidModelNameError, match=re.escape(
            f"Invalid model name {ref!r}: use lower-case letters, digits and '_' (not starting with a digit), "
            "optionally followed by '@N' for version N, e.g. 'customers' or 'customers@2'.")):
        catalog.parse_model_ref(ref)


@pytest.mark.parametrize("ref", [None, 5, ["m"]])
def test_model_references_must_be_text(ref):
    with pytest.raises(InvalidModelNameError, match=re.escape(
            f"A model name must be text such as 'customers' or 'customers@2'. Got {ref!r}.")):
        catalog.parse_model_ref(ref)


def test_fitting_under_a_versioned_name_is_refused(con):
    with pytest.raises(InvalidModelNameError, match=re.escape(
            "Fit under a plain name such as 'm'; versions ('@2') are assigned.")):
        genesis_sql.fit(con, "m@2", "SELECT 1 AS x")


# --- models stored as data -------------------------------------------------------------------------------------

def test_models_are_stored_as_json_and_raw_numeric_arrays(models_con):
    types = dict(models_con.execute(
        "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_schema = 'genesis' "
        "AND table_name IN ('models', 'model_arrays')").fetchall())
    assert [c for c, t in types.items() if t == "BLOB"] == ["model_arrays.data"]
    for columns, parameters, state in models_con.execute(
            "SELECT columns::VARCHAR, parameters::VARCHAR, state::VARCHAR FROM genesis.models").fetchall():
        for text in (columns, parameters, state):
            json.loads(text)
    arrays = models_con.execute("SELECT name, key, dtype, shape, data FROM genesis.model_arrays").fetchall()
    assert {r[0] for r in arrays} == {"diamonds", "benefits", "movies", "economics"}
    for name, key, dtype, shape, data in arrays:
        assert dtype in catalog.ARRAY_DTYPES, (name, key, dtype)
        assert len(data) == np.dtype(dtype).itemsize * math.prod(shape), (name, key)


class _Exploit:
    """Unpickling this creates a file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("dtype", ["|O", "<f8"])
def test_a_pickle_planted_in_the_arrays_is_never_unpickled(models_db: Path, tmp_path: Path, dtype: str):
    marker = tmp_path / "code-ran"
    payload = pickle.dumps(_Exploit(marker)) + b"\x00"  # not a whole number of float64s
    with duckdb.connect(str(models_db)) as con:
        con.execute("UPDATE genesis.model_arrays SET data = ?, dtype = ? WHERE name = 'economics' AND key = "
                    "(SELECT min(key) FROM genesis.model_arrays WHERE name = 'economics')", [payload, dtype])
        with pytest.raises(CatalogError, match=re.escape("Model economics@1 is corrupt: ")):
            catalog.load_model(con, "economics")
    assert not marker.exists()


def test_content_hash_mismatch_is_a_catalog_error(models_db: Path):
    with duckdb.connect(str(models_db)) as con:
        key, data = con.execute("SELECT key, data FROM genesis.model_arrays WHERE name = 'economics' "
                                "ORDER BY octet_length(data) DESC LIMIT 1").fetchall()[0]
        tampered = bytearray(data)
        tampered[len(data) // 2] ^= 0x01
        con.execute("UPDATE genesis.model_arrays SET data = ? WHERE name = 'economics' AND key = ?",
                    [bytes(tampered), key])
        with pytest.raises(CatalogError, match=re.escape(
                "Model economics@1 is corrupt: its stored content does not match its content hash. "
                "Refit it, or drop this version with genesis_drop('economics@1').")):
            catalog.load_model(con, "economics")
        assert catalog.load_model(con, "benefits").ref == "benefits@1"


def test_a_corrupt_version_fails_alone_and_can_still_be_dropped(models_db: Path):
    with duckdb.connect(str(models_db)) as con:
        con.execute("UPDATE genesis.models SET content_hash = repeat('0', 64) WHERE name = 'economics'")
    with duckdb.connect(str(models_db)) as con:
        genesis_sql.install(con)  # the other models stay usable
        assert con.sql("SELECT count(*) FROM genesis_generate('benefits', 10, seed := 1)").fetchall() == [(10,)]
        with pytest.raises(duckdb.Error, match=re.escape("CatalogError: Model economics@1 is corrupt")):
            con.sql("SELECT * FROM genesis_generate('economics', 10, seed := 1)").fetchall()
        assert con.sql("SELECT genesis_drop('economics@1')").fetchall() == [("dropped 1 version of economics@1",)]
        assert catalog.model_names(con) == ["benefits", "diamonds", "movies"]


def test_saving_a_model_is_all_or_nothing(models_db: Path):
    with duckdb.connect(str(models_db)) as con:
        before = snapshot(con)
        record = catalog.load_model(con, "economics")
        record.arrays["words"] = np.array(["not", "numbers"], dtype=object)
        with pytest.raises(CatalogError, match=re.escape("Cannot store an array of dtype |O; allowed: ")):
            catalog.save_model(con, record)
        assert snapshot(con) == before
        assert con.execute("SELECT count(*) FROM genesis.model_arrays WHERE version = 2").fetchall() == [(0,)]


# --- versions and drop -------------------------------------------------------------------------------------------

@pytest.fixture
def versioned(con):
    """``econ`` fitted twice on different rows: version 1 on 1967-1986, version 2 on every month."""
    con.execute(f"CREATE TABLE econ AS {read_csv_sql('economics')}")
    genesis_sql.fit(con, "econ", "SELECT * FROM econ WHERE date < DATE '1987-01-01'", method="copula")
    genesis_sql.fit(con, "econ", "SELECT * FROM econ", method="copula")
    return con


def test_fitting_an_existing_name_adds_a_version_and_old_versions_stay_queryable(versioned):
    con = versioned
    assert catalog.resolve_version(con, "econ")[:2] == ("econ", 2)
    assert catalog.resolve_version(con, "ECON@1")[:2] == ("econ", 1)
    old = genesis_sql.generate(con, "econ@1", 200, seed=3)
    new = genesis_sql.generate(con, "econ", 200, seed=3)
    assert max(old.column("date").to_pylist()) < dt.date(1987, 1, 1)
    assert not old.equals(new)
    assert genesis_sql.generate(con, "econ@2", 200, seed=3).equals(new)
    assert con.sql("SELECT version, is_latest FROM genesis_models() WHERE name = 'econ'").fetchall() == [
        (1, False), (2, True)]


def test_dropping_one_version_makes_the_previous_one_latest(versioned):
    con = versioned
    old = genesis_sql.generate(con, "econ@1", 100, seed=3)
    assert catalog.drop_model(con, "econ@2") == 1
    assert catalog.resolve_version(con, "econ")[:2] == ("econ", 1)
    assert genesis_sql.generate(con, "econ", 100, seed=3).equals(old)
    assert con.execute("SELECT DISTINCT version FROM genesis.model_arrays WHERE name = 'econ'").fetchall() == [(1,)]
    with pytest.raises(ModelNotFoundError, match=re.escape("Model 'econ' has no version 2; stored versions: [1].")):
        catalog.drop_model(con, "econ@2")


def test_dropping_a_name_removes_every_version_and_its_arrays(versioned):
    con = versioned
    assert catalog.drop_model(con, "econ") == 2
    assert con.execute("SELECT count(*) FROM genesis.models").fetchall() == [(0,)]
    assert con.execute("SELECT count(*) FROM genesis.model_arrays").fetchall() == [(0,)]
    with pytest.raises(ModelNotFoundError, match=re.escape(
            "Unknown model 'econ'. No models are stored yet; create one with genesis_sql.fit(...) or "
            "SELECT genesis_fit(...).")):
        genesis_sql.generate(con, "econ", 10, seed=1)
    assert con.sql("SELECT count(*) FROM econ").fetchall() == [(478,)]  # the user's table is untouched


def test_a_dropped_versions_number_is_never_given_to_another_model(versioned):
    con = versioned
    catalog.drop_model(con, "econ@2")
    assert genesis_sql.fit(con, "econ", "SELECT * FROM econ WHERE date >= DATE '1990-01-01'",
                           method="copula").version == 3
    assert con.sql("SELECT version FROM genesis_models() WHERE name = 'econ'").fetchall() == [(1,), (3,)]
    with pytest.raises(ModelNotFoundError, match=re.escape("Model 'econ' has no version 2; stored versions: [1, 3].")):
        genesis_sql.generate(con, "econ@2", 10)
    catalog.drop_model(con, "econ@3")  # the latest: its number stays taken too
    assert genesis_sql.fit(con, "econ", "SELECT * FROM econ", method="copula").version == 4


def test_dropping_every_version_forgets_the_name(versioned):
    con = versioned
    catalog.drop_model(con, "econ")
    assert genesis_sql.fit(con, "econ", "SELECT * FROM econ", method="copula").version == 1


def test_the_version_ledger_is_filled_from_the_models_a_database_already_has(tmp_path: Path):
    """A database from before the ledger (migration 004) keeps its numbering when it is upgraded."""
    with duckdb.connect(str(tmp_path / "old.duckdb")) as con:
        genesis_sql.install(con)
        con.execute(f"CREATE TABLE econ AS {read_csv_sql('economics')}")
        for _ in range(3):
            genesis_sql.fit(con, "econ", "SELECT * FROM econ", method="copula")
        # Back to what a database before 004 held after dropping econ@3.
        con.execute("DELETE FROM genesis.model_arrays WHERE version = 3")
        con.execute("DELETE FROM genesis.models WHERE version = 3")
        con.execute("DROP TABLE genesis.model_versions")
        con.execute("DELETE FROM genesis.schema_migrations WHERE version = 4")
        assert catalog.apply_migrations(con) == [4]
        assert con.execute("SELECT * FROM genesis.model_versions").fetchall() == [("econ", 2)]
        assert genesis_sql.fit(con, "econ", "SELECT * FROM econ", method="copula").version == 3


def test_unknown_names_suggest_close_ones_or_list_the_known_ones(models_con):
    with pytest.raises(ModelNotFoundError, match=re.escape("Unknown model 'diamond'. Did you mean 'diamonds'?")):
        catalog.resolve_version(models_con, "diamond")
    with pytest.raises(ModelNotFoundError, match=re.escape(
            "Unknown model 'zzz'. Known models: benefits, diamonds, economics, movies.")):
        catalog.drop_model(models_con, "zzz")
