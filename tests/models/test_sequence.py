"""Sequence models on the Males panel (545 men, 1980-1987) and a variable-length cut of it."""
from __future__ import annotations

import shutil
import subprocess
import sys

import duckdb
import numpy as np
import pandas as pd
import pytest

import genesis_sql
from genesis_sql.errors import ConditionError, FitError, InvalidArgumentError
from tests.conftest import read_csv_sql

KEY, INDEX = "nr", "year"


def lag1(df: pd.DataFrame, column: str) -> float:
    ordered = df.sort_values([KEY, INDEX], kind="stable")
    same = ordered[KEY].to_numpy()[1:] == ordered[KEY].to_numpy()[:-1]
    x = ordered[column].to_numpy(dtype=float)
    return float(np.corrcoef(x[:-1][same], x[1:][same])[0, 1])


@pytest.fixture(scope="module")
def panel(tmp_path_factory, installed_template) -> str:
    """A file with Males, a variable-length cut (each man's years after a seeded random count dropped) and a
    sequence model of each."""
    path = tmp_path_factory.mktemp("sequence") / "males.duckdb"
    shutil.copyfile(installed_template, path)
    with duckdb.connect(str(path)) as con:
        genesis_sql.install(con)
        con.execute(f"CREATE TABLE males AS {read_csv_sql('Males')}")
        con.execute("CREATE TABLE males_var AS SELECT m.* FROM males AS m JOIN (SELECT nr, 2 + hash(nr, 7) % 7 AS keep "
                    "FROM (SELECT DISTINCT nr FROM males)) USING (nr) WHERE m.year < 1980 + keep")
        for name in ("males", "males_var"):
            summary = genesis_sql.fit(con, name, f"SELECT * FROM {name}", sequence_key=KEY, sequence_index=INDEX)
            assert summary.method == "sequence"
    return str(path)


@pytest.fixture(scope="module")
def con(panel):
    connection = duckdb.connect(panel)
    genesis_sql.install(connection)
    yield connection
    connection.close()


@pytest.mark.parametrize("name", ["males", "males_var"])
def test_sequences_keep_entities_lengths_autocorrelation_and_context(con, name):
    real = con.sql(f"SELECT * FROM {name}").df()
    entities = real[KEY].nunique()
    synth = genesis_sql.generate(con, name, entities, seed=1).to_pandas()
    lengths = synth.groupby(KEY).size()
    assert synth[KEY].nunique() == entities
    assert abs(lengths.mean() / real.groupby(KEY).size().mean() - 1) < 0.15
    assert lengths.max() <= 8
    assert abs(lag1(synth, "wage") - lag1(real, "wage")) < 0.1
    for column in ("school", "ethn"):  # constant within every real entity, hence context
        assert (synth.groupby(KEY)[column].nunique(dropna=False) == 1).all(), column
    # Years run on from the drawn start one by one, as in training, and keys are fresh.
    steps = synth.groupby(KEY)[INDEX].apply(lambda y: set(np.diff(y.to_numpy())) <= {1})
    assert steps.all() and synth.groupby(KEY)[INDEX].min().eq(1980).all()
    assert not set(synth[KEY]) & set(real[KEY])


def test_sql_returns_n_entities_with_their_whole_sequences(con):
    sql = con.sql("SELECT * FROM genesis_generate('males_var', 40, seed := 2)").df()
    python = genesis_sql.generate(con, "males_var", 40, seed=2).to_pandas()
    assert sql.equals(python) and sql[KEY].nunique() == 40
    counted = con.sql("SELECT count(DISTINCT nr) FROM genesis_generate('males_var', 300, seed := 2)").fetchall()
    assert counted == [(300,)]
    longer = con.sql("SELECT * FROM genesis_generate('males_var', 90, seed := 2)").df()
    assert longer.head(len(sql)).equals(sql)  # prefix-stable in entities


def test_conditions_on_context_columns_hold_for_every_entity(con):
    rows = con.sql("SELECT * FROM genesis_generate('males', 50, seed := 3, condition := 'ethn = ''black''')").df()
    assert rows[KEY].nunique() == 50 and (rows["ethn"] == "black").all() and len(rows) == 400


def test_conditions_on_time_varying_columns_are_refused_at_bind_time(con):
    with pytest.raises(ConditionError, match="context"):
        genesis_sql.generate(con, "males", 10, condition="wage > 1")
    with pytest.raises(duckdb.Error, match="ConditionError"):
        con.sql("SELECT count(*) FROM genesis_generate('males', 10, condition := 'wage > 1')").fetchall()


def test_bad_sequence_options_are_named(con):
    with pytest.raises(FitError, match="sequence_key"):
        genesis_sql.fit(con, "x", "SELECT * FROM males", method="sequence")
    with pytest.raises(FitError, match="change within some entities"):
        genesis_sql.fit(con, "x", "SELECT * FROM males", sequence_key=KEY, context_columns=["wage"])
    with pytest.raises(InvalidArgumentError, match="method='sequence'"):
        genesis_sql.fit(con, "x", "SELECT * FROM males", method="arf", sequence_key=KEY)


@pytest.mark.slow
def test_a_new_process_generates_the_same_sequences_from_the_stored_model(panel, con, tmp_path):
    expected = genesis_sql.generate(con, "males", 25, seed=5).to_pandas()
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(panel, copy)
    code = ("import duckdb, genesis_sql, sys; con = duckdb.connect(sys.argv[1]); genesis_sql.install(con); "
            "genesis_sql.generate(con, 'males', 25, seed=5).to_pandas().to_csv(sys.stdout, index=False)")
    out = subprocess.run([sys.executable, "-c", code, str(copy)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-500:]
    assert out.stdout == expected.to_csv(index=False)
