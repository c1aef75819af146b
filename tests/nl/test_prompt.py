"""prompt_context: every model's schema, values, labels and valid examples, within the token budget."""
from __future__ import annotations

import duckdb
import pytest

import genesis_sql
from genesis_sql.nl.ask import descriptions
from genesis_sql.nl.prompt import CHARS_PER_TOKEN, examples
from genesis_sql.nl.validate import validate_sql


def test_the_context_names_models_columns_values_labels_and_both_sql_forms(nl_con: duckdb.DuckDBPyConnection):
    text = genesis_sql.prompt_context(nl_con)
    for expected in ("Model workers", "Model diamonds", "genesis_generate('movies', n)", "'Ideal'",
                     "93=California", "condition :=", "\"table\" numeric"):
        assert expected in text
    assert len(text) <= 4000 * CHARS_PER_TOKEN


@pytest.mark.parametrize("budget", [300, 800, 1500, 3000])
def test_the_context_fits_the_budget(nl_con: duckdb.DuckDBPyConnection, budget: int):
    text = genesis_sql.prompt_context(nl_con, max_tokens=budget)
    assert len(text) <= budget * CHARS_PER_TOKEN
    assert "genesis_generate" in text


def test_the_examples_are_three_valid_queries_per_model(nl_con: duckdb.DuckDBPyConnection):
    for description in descriptions(nl_con):
        queries = examples(description)
        assert len(queries) == 3, description.name
        for query in queries:
            validate_sql(nl_con, query)
