"""A stored model edited behind genesis's back, with its content hash recomputed so the hash check passes
(issue 11, items 3 and 10): that model fails with a CatalogError naming it when it is used; every other
model, ``install``, the listing and dropping keep working; stored state cannot choose code to run."""
from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from click.testing import CliRunner

import genesis_sql
from genesis_sql.catalog import ModelRecord, decode_array, encode_array
from genesis_sql.cli import cli
from genesis_sql.errors import CatalogError


def tamper(path: Path, model: str, edit: Callable[[dict[str, Any], dict[str, np.ndarray]], None]) -> None:
    """Edit the stored state (and arrays) of ``model@1`` in the file and store a matching content hash."""
    with duckdb.connect(str(path)) as con:
        method, columns, parameters, state = con.execute(
            "SELECT method, columns, parameters, state FROM genesis.models WHERE name = ? AND version = 1",
            [model]).fetchall()[0]
        arrays = {key: decode_array(dtype, shape, data) for key, dtype, shape, data in con.execute(
            "SELECT key, dtype, shape, data FROM genesis.model_arrays WHERE name = ? AND version = 1",
            [model]).fetchall()}
        state = json.loads(state)
        edit(state, arrays)
        record = ModelRecord(name=model, version=1, method=method, columns=json.loads(columns),
                             parameters=json.loads(parameters), state=state, arrays=arrays, training_rows=0,
                             source_sql="", source_fingerprint="", fit_seconds=0.0)
        con.execute("UPDATE genesis.models SET state = ?, content_hash = ? WHERE name = ? AND version = 1",
                    [json.dumps(state), record.compute_content_hash(), model])
        con.execute("DELETE FROM genesis.model_arrays WHERE name = ? AND version = 1", [model])
        for key, array in arrays.items():
            dtype, shape, data = encode_array(array)
            con.execute("INSERT INTO genesis.model_arrays VALUES (?, 1, ?, ?, ?, ?)", [model, key, dtype, shape, data])


def drop_key(state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    del state["codecs"]


def wrong_type(state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    state["codecs"] = "nonsense"


def short_array(state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    key = next(k for k in sorted(arrays) if arrays[k].ndim == 2)
    arrays[key] = arrays[key][:1, :1].copy()


def one_codec_short(state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    state["codecs"] = state["codecs"][:-1]


@pytest.mark.parametrize("edit", [drop_key, wrong_type, short_array, one_codec_short])
def test_a_corrupt_model_fails_alone_and_by_name(models_db: Path, edit):
    tamper(models_db, "benefits", edit)
    with duckdb.connect(str(models_db)) as con:
        genesis_sql.install(con)  # used to fail with a KeyError
        listed = con.execute("SELECT name FROM genesis_models() ORDER BY name").fetchall()
        assert listed == [("benefits",), ("diamonds",), ("economics",), ("movies",)]
        assert len(con.execute("SELECT * FROM genesis_generate('diamonds', 10, seed := 1)").fetchall()) == 10
        with pytest.raises(duckdb.Error, match=r"CatalogError: Model benefits@1 is corrupt"):
            con.execute("SELECT * FROM genesis_generate('benefits', 10, seed := 1)").fetchall()
        with pytest.raises(CatalogError, match=r"Model benefits@1 is corrupt.*genesis_drop\('benefits@1'\)"):
            genesis_sql.generate(con, "benefits", 10, seed=1)
        assert con.execute("SELECT genesis_drop('benefits')").fetchall() == [("dropped 1 version of benefits",)]
        assert con.execute("SELECT count(*) FROM genesis.models WHERE name = 'benefits'").fetchall() == [(0,)]


def test_the_cli_lists_and_drops_around_a_corrupt_model(models_db: Path):
    tamper(models_db, "benefits", drop_key)
    db = str(models_db)
    listed = CliRunner().invoke(cli, ["--db", db, "models"])
    assert listed.exit_code == 0, listed.output
    assert "diamonds" in listed.stdout and "benefits" in listed.stdout
    used = CliRunner().invoke(cli, ["--db", db, "generate", "benefits", "5"])
    assert used.exit_code == 1
    assert used.stderr.splitlines()[-1].startswith("Error: CatalogError: Model benefits@1 is corrupt")
    assert CliRunner().invoke(cli, ["--db", db, "generate", "diamonds", "5", "--seed", "1"]).exit_code == 0
    dropped = CliRunner().invoke(cli, ["--db", db, "drop", "benefits"])
    assert dropped.exit_code == 0 and dropped.stdout == "dropped 1 version of benefits\n"


PEOPLE = pa.table({
    "full_name": ["Mary Smith", "John Brown", "Linda Jones", "James Miller", "Susan Davis", "Robert Wilson"] * 20,
    "city": ["Boston", "Denver", "Austin", "Seattle", "Portland", "Chicago"] * 20,
    "age": list(range(20, 80, 1)) * 2,
})


@pytest.fixture
def people_db(db_path: Path) -> Path:
    with duckdb.connect(str(db_path)) as con:
        genesis_sql.install(con)
        con.register("people_rows", PEOPLE)
        con.execute("CREATE TABLE people AS SELECT * FROM people_rows")
        genesis_sql.fit(con, "people", "SELECT * FROM people", method="copula",
                        column_types={"full_name": "text", "city": "text"})
        styles = [c for c in json.loads(con.execute("SELECT state FROM genesis.models").fetchall()[0][0])["codecs"]
                  if isinstance(c, dict) and c.get("style")]
    assert {c["style"] for c in styles} >= {"name", "city"}, styles
    return db_path


def restyle(style: str | None = None, locale: str | None = None):
    def edit(state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        for codec in state["codecs"]:
            if isinstance(codec, dict) and codec.get("style") == "city":
                codec.update({k: v for k, v in {"style": style, "locale": locale}.items() if v is not None})
    return edit


@pytest.mark.parametrize("edit", [restyle(style="seed_instance"), restyle(style="add_provider"),
                                  restyle(style="binary"), restyle(locale="../../etc")])
def test_stored_state_cannot_choose_which_faker_method_runs(people_db: Path, edit):
    with duckdb.connect(str(people_db)) as con:
        genesis_sql.install(con)
        assert len(genesis_sql.generate(con, "people", 5, seed=1)) == 5
    tamper(people_db, "people", edit)
    with duckdb.connect(str(people_db)) as con:
        genesis_sql.install(con)
        with pytest.raises(CatalogError, match=r"Model people@1 is corrupt: .*(Faker|locale)"):
            genesis_sql.generate(con, "people", 5, seed=1)
