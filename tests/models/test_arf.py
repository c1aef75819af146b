"""Adversarial random forest: dependence a copula cannot hold, training marginals, leaf privacy, conditions,
and the fit/generate round trip through the catalog."""
from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from scipy import stats

import genesis_sql
from genesis_sql.conditions import parse_condition
from genesis_sql.models import AdversarialRandomForest, GaussianCopula
from tests.conftest import read_csv_sql
from tests.models.conftest import sample, typed


@pytest.fixture(scope="module")
def parabola() -> tuple[pa.Table, list]:
    """y = x^2 + noise: strong dependence with no correlation, which a Gaussian copula cannot represent."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 3000)
    return typed(pa.table({"x": x, "y": x ** 2 + rng.normal(scale=0.05, size=x.size)}))


def edge_and_centre(table: pa.Table) -> tuple[float, float]:
    x, y = table["x"].to_numpy(), table["y"].to_numpy()
    return float(y[np.abs(x) > 0.8].mean()), float(y[np.abs(x) < 0.2].mean())


def test_keeps_a_dependence_the_copula_loses(parabola):
    table, columns = parabola
    real_edge, real_centre = edge_and_centre(table)
    forest_edge, forest_centre = edge_and_centre(sample(AdversarialRandomForest().fit(table, columns), np.arange(4000)))
    copula_edge, copula_centre = edge_and_centre(sample(GaussianCopula().fit(table, columns), np.arange(4000)))
    assert real_edge - real_centre > 0.7
    assert abs(forest_edge - real_edge) < 0.1 and abs(forest_centre - real_centre) < 0.1
    assert copula_edge - copula_centre < 0.3


@pytest.fixture(scope="module")
def medexp() -> tuple[pa.Table, list, AdversarialRandomForest]:
    con = duckdb.connect()
    rel = con.sql(read_csv_sql("MedExp"))
    table, columns = typed(rel.to_arrow_table())
    return table, columns, AdversarialRandomForest().fit(table, columns)


def test_marginals_are_the_training_marginals_tails_included(medexp):
    """Calibration: each number's distribution is the training one, up to its extremes (med is zero-inflated
    and heavy-tailed). Eight times the training rows are drawn: med's maximum (39,182) is one row, twice the
    next (18,642), and a sample of the table's own size got within 20% of it for one model in six
    (random_state 0-5), eight times as many for all six."""
    table, _, model = medexp
    synth = sample(model, np.arange(8 * table.num_rows), key=5)
    for name in ("med", "linc", "age"):
        real, fake = table[name].to_numpy(), synth[name].to_numpy()
        assert stats.ks_2samp(real, fake).statistic < 0.03, name
        assert fake.min() >= real.min() and fake.max() <= real.max(), name
        spread = real.max() - real.min()
        assert fake.max() > real.max() - 0.2 * spread and fake.min() < real.min() + 0.2 * spread, name
    assert abs((synth["med"].to_numpy() == 0).mean() - (table["med"].to_numpy() == 0).mean()) < 0.02


def test_no_leaf_describes_fewer_than_min_leaf_rows(medexp):
    table, _, model = medexp
    trees = model.n_trees
    counts = model.mixture_.weight * table.num_rows * trees
    assert counts.min() >= model.min_leaf - 1e-6
    assert model.mixture_.leaves > 100  # and the forest did split the data


def test_synthetic_rows_are_not_copies(medexp):
    table, _, model = medexp
    synth = sample(model, np.arange(table.num_rows), key=9).to_pandas()
    real = table.to_pandas()
    seen = set(map(tuple, real.astype(str).to_numpy()))
    copies = sum(tuple(row) in seen for row in synth.astype(str).to_numpy())
    assert copies / len(synth) <= 0.02


def test_auto_picks_the_forest_which_generates_under_conditions_and_from_storage(db_path):
    with duckdb.connect(str(db_path)) as con:
        genesis_sql.install(con)
        con.execute(f"CREATE TABLE medexp AS {read_csv_sql('MedExp')}")
        summary = genesis_sql.fit(con, "medexp", "SELECT * FROM medexp")
        assert summary.method == "arf"
        assert con.sql("SELECT method FROM genesis_models() WHERE name = 'medexp'").fetchall() == [("arf",)]
        rows = genesis_sql.generate(con, "medexp", 300, seed=4, condition="age > 50 AND health = 'poor'")
        first = genesis_sql.generate(con, "medexp", 200, seed=4)
    assert rows.num_rows == 300
    assert pc.all(pc.and_(pc.greater(rows["age"], 50), pc.equal(rows["health"], "poor"))).as_py()
    with duckdb.connect(str(db_path)) as con:
        genesis_sql.install(con)
        assert genesis_sql.generate(con, "medexp", 200, seed=4).equals(first)


def test_conditions_are_met_natively_with_the_conditional_distribution(medexp):
    """Leaves are reweighted by their mass inside the condition, so the conditional distribution of the other
    columns follows the data's (people over 40 in fair or poor health have more chronic diseases)."""
    table, columns, model = medexp
    conditions = parse_condition("age > 40 AND health IN ('fair', 'poor')", columns)
    real = table.to_pandas()
    inside = (real["age"] > 40) & real["health"].isin(["fair", "poor"])
    proposal = model.condition_proposal(conditions)
    assert abs(proposal.first_mass / inside.mean() - 1) < 0.3
    synth = sample(model, np.arange(1000), key=3, conditions=conditions).to_pandas()
    assert len(synth) == 1000 and ((synth["age"] > 40) & synth["health"].isin(["fair", "poor"])).all()
    assert abs(synth["ndisease"].mean() - real.loc[inside, "ndisease"].mean()) < 0.25 * real["ndisease"].std()
    assert synth["ndisease"].mean() > real.loc[~inside, "ndisease"].mean() + 0.5 * real["ndisease"].std()
