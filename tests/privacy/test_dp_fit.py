"""DP fits: reachable from Python and SQL, generate rows, and read nothing outside the mechanism."""
from __future__ import annotations

import json

import numpy as np
import pytest
import pyarrow as pa

import genesis_sql
from genesis_sql.errors import GenesisError, InvalidArgumentError
from genesis_sql.privacy import DPCopula, public_schema
from genesis_sql.privacy.accounting import DEFAULT_DELTA, epsilon_for, rho_for


def test_rho_conversion_gives_back_the_declared_epsilon():
    for epsilon in (0.1, 1.0, 4.0):
        assert epsilon_for(rho_for(epsilon, 1e-6), 1e-6) == pytest.approx(epsilon)
    assert DEFAULT_DELTA == 1e-6


def test_dp_fit_from_python_generates_rows(benefits_con):
    summary = genesis_sql.fit(benefits_con, "dp_workers", "SELECT * FROM benefits", method="dp", epsilon=1.0)
    assert summary.method == "dp"
    rows = genesis_sql.generate(benefits_con, "dp_workers", 500, seed=1).to_pandas()
    assert len(rows) == 500
    real = benefits_con.sql("SELECT * FROM benefits").df()
    # Released marginals at epsilon 1 on ~4,900 rows: means within a few percent of the real ones.
    assert abs(rows["age"].mean() - real["age"].mean()) < 0.1 * real["age"].mean()
    assert set(rows["joblost"]) <= set(real["joblost"])


def test_dp_fit_from_sql_with_options(benefits_con):
    line = benefits_con.execute(
        "SELECT genesis_fit('dp_sql', 'SELECT age, sex, ui FROM benefits', method := 'dp', "
        "options := '{\"epsilon\": 2, \"public_bounds\": {\"age\": [18, 70], \"sex\": [\"male\", \"female\"]}}')"
    ).fetchall()[0][0]
    assert line.startswith("dp_sql@1: dp")
    rows = benefits_con.execute("SELECT age, sex FROM genesis_generate('dp_sql', 300, seed := 5)").df()
    assert len(rows) == 300 and rows["age"].between(18, 70).all()
    assert set(rows["sex"]) <= {"male", "female"}


def test_stored_dp_model_holds_only_released_domains(benefits_con):
    """A value only one row has is never in a DP model's category list, whereas the copula copies it."""
    benefits_con.execute("UPDATE benefits SET joblost = 'one_of_a_kind' WHERE rowid = 7")
    genesis_sql.fit(benefits_con, "dp_rare", "SELECT joblost, age FROM benefits", method="dp", epsilon=1.0)
    genesis_sql.fit(benefits_con, "plain", "SELECT joblost, age FROM benefits", method="copula")
    states = dict(benefits_con.execute("SELECT name, state FROM genesis.models").fetchall())
    assert "one_of_a_kind" not in json.dumps(states["dp_rare"])
    assert "one_of_a_kind" in json.dumps(states["plain"])
    rules = json.loads(states["dp_rare"])["rules"]
    assert not any(rules.get(key) for key in rules if key != "detection")


def test_an_outlier_does_not_stretch_the_released_range(benefits_con):
    """One row's extreme value is not released: the range comes from noisy cell counts, not min/max."""
    benefits_con.execute("UPDATE benefits SET age = 977 WHERE rowid = 3")
    genesis_sql.fit(benefits_con, "dp_range", "SELECT tenure, age FROM benefits", method="dp", epsilon=1.0)
    rows = genesis_sql.generate(benefits_con, "dp_range", 3000, seed=0).to_pandas()
    assert rows["age"].max() < 200


def test_noise_is_fresh_even_with_the_same_seed():
    """A seed anyone can replay must not fix the noise, or it could be subtracted from the model."""
    table = pa.table({"x": np.arange(1000, dtype=np.float64) % 37, "y": (np.arange(1000) % 5).astype(np.int64)})
    specs = public_schema({"x": "DOUBLE", "y": "BIGINT"}, None)
    first = DPCopula(random_state=1, epsilon=1.0).fit(table, specs)
    again = DPCopula(random_state=1, epsilon=1.0).fit(table, specs)
    assert not np.array_equal(first.correlation_, again.correlation_)


@pytest.mark.parametrize("options", [{"epsilon": 0}, {"epsilon": -1}, {"epsilon": 1, "delta": 1.5},
                                     {"epsilon": 1, "public_bounds": {"nope": [0, 1]}},
                                     {"epsilon": 1, "public_bounds": {"age": [1]}}])
def test_bad_privacy_options_are_refused_and_store_nothing(benefits_con, options):
    with pytest.raises(InvalidArgumentError):
        genesis_sql.fit(benefits_con, "dp_bad", "SELECT age, sex FROM benefits", method="dp", **options)
    assert benefits_con.execute("SELECT count(*) FROM genesis.models").fetchall()[0][0] == 0
    assert benefits_con.execute("SELECT count(*) FROM genesis.privacy_budget").fetchall()[0][0] == 0


def test_epsilon_without_dp_is_refused(benefits_con):
    with pytest.raises(GenesisError, match="method='dp'"):
        genesis_sql.fit(benefits_con, "plain", "SELECT age FROM benefits", method="copula", epsilon=1.0)


def test_dp_model_loads_in_a_new_connection(benefits_con, db_path):
    genesis_sql.fit(benefits_con, "dp_reload", "SELECT age, sex FROM benefits", method="dp", epsilon=1.0)
    first = genesis_sql.generate(benefits_con, "dp_reload", 50, seed=3).to_pylist()
    benefits_con.close()
    import duckdb

    with duckdb.connect(str(db_path)) as again:
        genesis_sql.install(again)
        assert genesis_sql.generate(again, "dp_reload", 50, seed=3).to_pylist() == first


def test_one_row_moves_the_correlation_statistic_by_at_most_its_sensitivity():
    """The bound the correlation's noise is calibrated to, checked on the worst rows of heavy-tailed data."""
    from genesis_sql.privacy.mechanism import clipped_products

    z = np.random.default_rng(0).standard_t(1, size=(400, 6))
    full = clipped_products(z)
    bound = 6 / np.sqrt(2.0)
    changes = [np.linalg.norm(full - clipped_products(np.delete(z, i, axis=0))) for i in range(len(z))]
    assert max(changes) <= bound + 1e-9
    # The bound is nearly reached by a row along the diagonal direction (so the check has power).
    extreme = np.vstack([z, np.full((1, 6), 50.0)])
    assert np.linalg.norm(clipped_products(extreme) - full) > 0.9 * bound


@pytest.mark.slow
def test_quality_at_epsilon_one_on_benefits(benefits_con):
    genesis_sql.fit(benefits_con, "dp_quality", "SELECT * FROM benefits", method="dp", epsilon=1.0)
    report = genesis_sql.evaluate(benefits_con, "dp_quality", "SELECT * FROM benefits")
    assert report.overall >= 0.80


def test_a_thin_long_tail_keeps_its_range_end():
    """A tail too thin for any one cell to pass the threshold is kept once its rows add up: at epsilon 1 on
    20,000 rows, 2% of them spread evenly over 100-1000 still reach the released range (the former
    per-cell threshold cut it off at the bulk's end, 100)."""
    rng = np.random.default_rng(4)
    bulk = rng.uniform(10.0, 100.0, 19_600)
    tail = rng.uniform(100.0, 1000.0, 400)
    table = pa.table({"x": np.concatenate([bulk, tail]), "y": rng.normal(size=20_000)})
    model = DPCopula(epsilon=1.0).fit(table, public_schema({"x": "DOUBLE", "y": "DOUBLE"}, None))
    pseudo = model.codecs_[0].pseudo_values_
    assert 600.0 <= np.nanmax(pseudo) <= 3000.0
    assert 5.0 <= np.nanmin(pseudo) <= 12.0
