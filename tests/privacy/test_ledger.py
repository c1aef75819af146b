"""The privacy budget ledger: spends per base table, limits, refusal, persistence and lineage."""
from __future__ import annotations

import json

import duckdb
import pytest

import genesis_sql
from genesis_sql.errors import PrivacyBudgetError
from genesis_sql.privacy import sources_of


def _budget(con) -> dict[str, tuple[float, float, int]]:
    rows = con.execute("SELECT source, epsilon_spent, epsilon_limit, fits FROM genesis_privacy_budget()").fetchall()
    return {source: (spent, limit, fits) for source, spent, limit, fits in rows}


def test_sources_are_the_base_tables_read():
    assert sources_of("SELECT * FROM benefits") == ["main.benefits"]
    assert sources_of("SELECT age FROM Benefits WHERE age > 30") == ["main.benefits"]
    assert sources_of("WITH t AS (SELECT * FROM a) SELECT * FROM t JOIN s.b USING (x)") == ["main.a", "s.b"]


def test_overspend_is_refused_and_stores_nothing(benefits_con):
    genesis_sql.fit(benefits_con, "dp_a", "SELECT * FROM benefits", method="dp", epsilon=6.0)
    with pytest.raises(PrivacyBudgetError, match="main.benefits"):
        genesis_sql.fit(benefits_con, "dp_b", "SELECT * FROM benefits", method="dp", epsilon=5.0)
    assert benefits_con.execute("SELECT count(*) FROM genesis.models WHERE name = 'dp_b'").fetchall()[0][0] == 0
    assert _budget(benefits_con) == {"main.benefits": (6.0, 10.0, 1)}


def test_another_name_a_subset_and_a_projection_share_the_budget(benefits_con):
    genesis_sql.fit(benefits_con, "dp_all", "SELECT * FROM benefits", method="dp", epsilon=3.0)
    genesis_sql.fit(benefits_con, "dp_old", "SELECT * FROM benefits WHERE age > 40", method="dp", epsilon=3.0)
    genesis_sql.fit(benefits_con, "dp_cols", "SELECT age, sex FROM benefits", method="dp", epsilon=3.0)
    assert _budget(benefits_con) == {"main.benefits": (9.0, 10.0, 3)}
    with pytest.raises(PrivacyBudgetError):
        genesis_sql.fit(benefits_con, "dp_more", "SELECT ui FROM benefits WHERE sex = 'male'", method="dp", epsilon=2.0)


def test_limit_is_set_from_sql(benefits_con):
    benefits_con.execute("SELECT genesis_privacy_budget_limit('benefits', 2)").fetchall()
    with pytest.raises(PrivacyBudgetError):
        genesis_sql.fit(benefits_con, "dp_a", "SELECT age FROM benefits", method="dp", epsilon=3.0)
    assert _budget(benefits_con) == {"main.benefits": (0.0, 2.0, 0)}


def test_budget_survives_reopening_the_file(benefits_con, db_path):
    genesis_sql.fit(benefits_con, "dp_a", "SELECT * FROM benefits", method="dp", epsilon=4.0)
    benefits_con.close()
    with duckdb.connect(str(db_path)) as again:
        genesis_sql.install(again)
        assert _budget(again) == {"main.benefits": (4.0, 10.0, 1)}
        genesis_sql.fit(again, "dp_b", "SELECT * FROM benefits", method="dp", epsilon=4.0)
        with pytest.raises(PrivacyBudgetError):
            genesis_sql.fit(again, "dp_c", "SELECT * FROM benefits", method="dp", epsilon=4.0)


def test_spends_are_written_to_lineage(benefits_con):
    genesis_sql.fit(benefits_con, "dp_a", "SELECT age, sex FROM benefits", method="dp", epsilon=1.5)
    blocks = [json.loads(content) for (content,) in benefits_con.execute(
        "SELECT content FROM genesis.lineage WHERE block_type = 'transform' ORDER BY seq").fetchall()]
    spends = [b for b in blocks if b["operation"] == "privacy_spend"]
    assert len(spends) == 1
    assert spends[0]["params"]["epsilon"] == 1.5 and spends[0]["params"]["sources"] == ["main.benefits"]
    assert benefits_con.execute("SELECT ok FROM genesis_lineage_verify()").fetchall()[0][0] is True
