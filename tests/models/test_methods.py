"""Choosing a method: what ``auto`` picks, how the choice shows, and versions of refitted models."""
from __future__ import annotations

import logging

import pytest

import genesis_sql
from genesis_sql.errors import InvalidArgumentError
from genesis_sql.models import SMALL_TABLE_ROWS, choose_method
from tests.conftest import read_csv_sql


@pytest.mark.parametrize("rows, kinds, sequence, expected", [
    (5000, ["numeric", "categorical", "integer"], False, "arf"),
    (SMALL_TABLE_ROWS - 1, ["numeric", "categorical", "integer"], False, "copula"),
    (5000, ["id", "numeric"], False, "copula"),  # one modelled column: no dependence to learn
    (5000, ["id", "numeric", "text"], False, "arf"),
    (40, ["numeric", "categorical"], True, "sequence"),
])
def test_auto_picks_by_size_kinds_and_sequence_options(rows, kinds, sequence, expected):
    assert choose_method("auto", rows, kinds, sequence=sequence) == expected


def test_named_methods_are_kept_and_unknown_ones_refused():
    assert choose_method("tvae", 10, ["numeric"]) == "tvae"
    with pytest.raises(InvalidArgumentError, match="Unknown method 'gan'.*arf, copula, dp, sequence, tvae"):
        choose_method("gan", 10, ["numeric"])
    with pytest.raises(InvalidArgumentError, match="options of method='sequence'"):
        choose_method("copula", 10, ["numeric"], sequence=True)


def test_the_choice_is_logged_listed_and_scored_and_old_versions_stay(con, caplog):
    con.execute(f"CREATE TABLE medexp AS {read_csv_sql('MedExp')}")
    with caplog.at_level(logging.INFO, logger="genesis_sql.api"):
        first = genesis_sql.fit(con, "b", "SELECT * FROM medexp")
    assert first.method == "arf" and "auto chose arf" in caplog.text and "(similarity arf" in caplog.text
    second = genesis_sql.fit(con, "b", "SELECT * FROM medexp USING SAMPLE 150 ROWS (reservoir, 1)")
    assert (second.version, second.method) == (2, "copula")
    con.sql("SELECT genesis_evaluate('b@1', 'SELECT * FROM medexp')").fetchall()
    listed = con.sql("SELECT version, is_latest, method, fit_seconds, quality FROM genesis_models() "
                     "WHERE name = 'b' ORDER BY version").fetchall()
    assert [row[:3] for row in listed] == [(1, False, "arf"), (2, True, "copula")]
    assert all(row[3] > 0 for row in listed)
    assert 0.8 < listed[0][4] <= 1.0 and listed[1][4] is None
    old = con.sql("SELECT * FROM genesis_generate('b@1', 100, seed := 1)").df()
    new = con.sql("SELECT * FROM genesis_generate('b', 100, seed := 1)").df()
    assert len(old) == len(new) == 100 and not old.equals(new)
    assert old.equals(genesis_sql.generate(con, "b@1", 100, seed=1).to_pandas())
