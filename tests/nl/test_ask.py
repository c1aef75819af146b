"""ask: the phrasing corpus, the SQL shape, rows that satisfy the reading, the llm= path."""
from __future__ import annotations

import json

import duckdb
import pytest

import genesis_sql
from genesis_sql.errors import GenesisError, InvalidArgumentError
from genesis_sql.nl.tokens import tokenize
from tests.nl.conftest import phrasings

CASES = phrasings()


def test_the_corpus_is_read_exactly_or_flagged_and_never_silently_wrong(nl_con: duckdb.DuckDBPyConnection):
    exact, silent = 0, []
    for request, expected in CASES:
        result = genesis_sql.ask(nl_con, request)
        if expected is None:
            exact += result.needs_confirmation
            if not result.needs_confirmation:
                silent.append((request, result.sql))
        else:
            exact += result.sql == expected and not result.needs_confirmation
            if result.sql != expected and not result.needs_confirmation:
                silent.append((request, result.sql))
    assert len(CASES) >= 150
    assert silent == []
    assert exact / len(CASES) >= 0.9, f"{exact} of {len(CASES)} exact"


def test_the_contract_request_gives_the_fixed_shape_and_matching_rows(nl_con: duckdb.DuckDBPyConnection):
    result = genesis_sql.ask(nl_con, "Generate 300 workers over 50 in California")
    assert result.sql == "SELECT * FROM genesis_generate('workers', 300) WHERE age > 50 AND state = 93"
    assert (result.model, result.n, result.conditions) == ("workers", 300, ("age > 50", "state = 93"))
    assert not result.needs_confirmation and result.unparsed == ()
    assert any("age" in a for a in result.assumptions)
    rows = result.rows(seed=1)
    assert rows.num_rows == 300
    assert all(a > 50 and s == 93 for a, s in zip(rows.column("age").to_pylist(), rows.column("state").to_pylist()))
    assert rows.equals(result.rows(seed=1))


def test_rows_come_through_pushdown_on_a_genesis_connection_too(nl_db):
    with genesis_sql.connect(str(nl_db)) as gcon:
        rows = genesis_sql.ask(gcon, "200 diamonds with clarity IF or VVS1 under $2000").rows(seed=3)
    assert rows.num_rows == 200
    assert set(rows.column("clarity").to_pylist()) <= {"IF", "VVS1"}
    assert max(rows.column("price").to_pylist()) < 2000


def test_a_vague_request_is_flagged_with_the_words_not_understood(nl_con: duckdb.DuckDBPyConnection):
    result = genesis_sql.ask(nl_con, "1000 happy workers")
    assert result.needs_confirmation and result.unparsed == ("'happy'",)
    assert result.sql == "SELECT * FROM genesis_generate('workers', 1000)"
    typo = genesis_sql.ask(nl_con, "workers in Califronia")
    assert typo.needs_confirmation and "California" in typo.unparsed[0]


def test_a_condition_outside_the_training_support_is_flagged(nl_con: duckdb.DuckDBPyConnection):
    result = genesis_sql.ask(nl_con, "100 workers over 90")
    assert result.needs_confirmation and "age" in result.problems[0]


def test_labels_set_later_are_read_at_once(nl_con: duckdb.DuckDBPyConnection):
    assert genesis_sql.ask(nl_con, "100 workers in Kentucky").needs_confirmation
    nl_con.execute("SELECT genesis_label('workers', 'state', 61, 'Kentucky')").fetchall()
    try:
        result = genesis_sql.ask(nl_con, "100 workers in Kentucky or in KY")
        assert result.sql == "SELECT * FROM genesis_generate('workers', 100) WHERE state = 61"
    finally:
        nl_con.execute("DELETE FROM genesis.labels WHERE label = 'Kentucky'")


def test_an_llm_intent_is_checked_like_the_parser_output(nl_con: duckdb.DuckDBPyConnection):
    seen = {}

    def llm(text: str, context: str) -> str:
        seen["context"] = context
        return json.dumps({"model": "workers", "n": 50, "conditions": [
            {"column": "age", "op": ">=", "value": 40}, {"column": "sex", "op": "=", "value": "female"}]})

    result = genesis_sql.ask(nl_con, "fifty older women", llm=llm)
    assert result.sql == "SELECT * FROM genesis_generate('workers', 50) WHERE age >= 40 AND sex = 'female'"
    assert "genesis_generate('workers'" in seen["context"]
    bad = genesis_sql.ask(nl_con, "x", llm=lambda t, c: {"model": "workers", "n": 5,
                                                       "conditions": [{"column": "sex", "op": "=", "value": "femal"}]})
    assert bad.needs_confirmation and "Did you mean 'female'" in bad.problems[0]
    with pytest.raises(InvalidArgumentError, match="must be JSON"):
        genesis_sql.ask(nl_con, "x", llm=lambda t, c: "SELECT * FROM benefits; DROP TABLE benefits")
    with pytest.raises(InvalidArgumentError, match="Each condition must be"):
        genesis_sql.ask(nl_con, "x", llm=lambda t, c: {"model": "workers", "n": 5, "conditions": ["age > 1"]})
    with pytest.raises(InvalidArgumentError, match="llm callable failed"):
        genesis_sql.ask(nl_con, "x", llm=lambda t, c: 1 / 0)


def test_no_model_named_picks_the_only_fitting_one_or_asks(nl_con: duckdb.DuckDBPyConnection):
    clear = genesis_sql.ask(nl_con, "100 rows with clarity VS2")
    assert clear.model == "diamonds" and not clear.needs_confirmation and "names no model" in clear.assumptions[0]
    unclear = genesis_sql.ask(nl_con, "100 women over 40")
    assert unclear.needs_confirmation and "which model" in unclear.problems[0]


def test_a_result_without_a_model_cannot_run(nl_con: duckdb.DuckDBPyConnection):
    result = genesis_sql.ask(nl_con, "")
    assert result.sql == "" and result.needs_confirmation
    with pytest.raises(GenesisError, match="no model"):
        result.rows()


@pytest.mark.parametrize("text, values", [
    ("two thousand five hundred", [2500]), ("a thousand", [1000]), ("1,250", [1250]), ("2.5k", [2500]),
    ("$5,000", [5000]), ("$1.2 million", [1200000]), ("two hundred and fifty", [250]), ("a dozen", [12]),
    ("30-40", [(30, 40)]), ("30s", [30]), ("'90s", [1990]), ("forties", [40]), ("12%", [12]),
])
def test_numbers_in_words_digits_money_ranges_and_decades(text: str, values: list):
    assert [t.value for t in tokenize(text) if t.kind != "word"] == values
