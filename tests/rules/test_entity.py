"""Entity keys: a repeated identifier (Males' person over eight years) is never copied, and what it carried
(rows per key, columns constant within a key) is kept."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import ks_2samp

import genesis_sql
from genesis_sql.rules.entity import looks_like_entity_key
from tests.conftest import read_csv_sql


@pytest.fixture
def panel_con(con):
    con.execute(f"CREATE TABLE panel AS SELECT 'p' || nr AS person_id, * EXCLUDE (nr) FROM ({read_csv_sql('Males')})")
    return con


@pytest.mark.parametrize("method", ["auto", "copula"])
def test_a_text_person_id_over_years_is_fresh_and_keeps_rows_per_key_and_constant_columns(panel_con, method):
    genesis_sql.fit(panel_con, "panel", "SELECT * FROM panel", method=method, seed=0)
    real = panel_con.sql("SELECT * FROM panel").df()
    synth = panel_con.sql("SELECT * FROM genesis_generate('panel', 4000, seed := 1)").df()
    assert len(synth) == 4000
    assert not synth.person_id.isin(set(real.person_id)).any()
    assert ks_2samp(real.person_id.value_counts().to_numpy(), synth.person_id.value_counts().to_numpy()).statistic < 0.1
    constant = [c for c in real.columns if c != "person_id" and (real.groupby("person_id")[c].nunique() == 1).all()]
    assert constant  # schooling and ethnicity do not change over the years
    assert (synth.groupby("person_id")[constant].nunique() == 1).all().all()
    rules = panel_con.sql("SELECT rules FROM genesis_models()").fetchall()[0][0]
    assert any("'person_id' is an entity key" in line for line in rules)


def test_an_integer_id_named_like_one_repeating_is_an_entity_key(con):
    con.execute(f"CREATE TABLE males AS SELECT * FROM ({read_csv_sql('Males')})")
    genesis_sql.fit(con, "males", "SELECT * FROM males", method="copula", seed=0)
    real = set(con.sql("SELECT nr FROM males").df().nr)
    synth = con.sql("SELECT nr FROM genesis_generate('males', 2000, seed := 1)").df().nr
    assert not synth.isin(real).any()
    assert synth.min() > max(real)


def test_entity_keys_are_deterministic_prefix_stable_and_kept_under_a_condition(panel_con):
    genesis_sql.fit(panel_con, "panel", "SELECT * FROM panel", method="copula", seed=0)
    first = panel_con.sql("SELECT * FROM genesis_generate('panel', 300, seed := 4)").df()
    again = panel_con.sql("SELECT * FROM genesis_generate('panel', 1000, seed := 4)").df()
    assert first.equals(again.head(300))
    real = set(panel_con.sql("SELECT person_id FROM panel").df().person_id)
    conditioned = panel_con.sql("SELECT * FROM genesis_generate('panel', 1000, seed := 4, "
                                "condition := 'school >= 12')").df()
    assert len(conditioned) == 1000 and (conditioned.school >= 12).all()
    assert not conditioned.person_id.isin(real).any()
    assert (conditioned.groupby("person_id").school.nunique() == 1).all()


def test_rules_off_leaves_identifiers_as_they_were(panel_con):
    genesis_sql.fit(panel_con, "panel", "SELECT * FROM panel", method="copula", seed=0, rules="off")
    kinds = dict(panel_con.sql("SELECT unnest(json_extract_string(columns, '$[*].name')), "
                               "unnest(json_extract_string(columns, '$[*].kind')) FROM genesis.models").fetchall())
    assert kinds["person_id"] == "categorical"


def test_only_repeated_identifier_like_columns_are_entity_keys():
    import pyarrow as pa

    rng = np.random.default_rng(0)
    ids = np.repeat(np.arange(100), 5)
    assert looks_like_entity_key("customer_id", pa.chunked_array([pa.array(ids)]))
    assert looks_like_entity_key("ref", pa.chunked_array([pa.array([f"C{i:05d}" for i in ids])]))
    assert not looks_like_entity_key("state", pa.chunked_array([pa.array(rng.choice(["CA", "NY"], 500))]))
    assert not looks_like_entity_key("customer_id", pa.chunked_array([pa.array(np.arange(500))]))  # unique: an id
    assert not looks_like_entity_key("amount", pa.chunked_array([pa.array(ids)]))
