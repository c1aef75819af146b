"""Conditional samplers: feasibility from the model, rare and infeasible conditions, faithful conditionals."""
from __future__ import annotations

import re

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from scipy.stats import ks_2samp

import genesis_sql
from genesis_sql.conditions import parse_condition
from genesis_sql.conditions.sampling import ConditionalSampler, GuidedConditionalSampler
from genesis_sql.errors import InfeasibleConditionError, RareConditionError
from genesis_sql.generation.batches import generate_batches
from genesis_sql.generation.plan import plan_generation
from genesis_sql.models import AdversarialRandomForest, GaussianCopula
from genesis_sql.schema import detect_schema

from tests.conftest import arrow_with_types, diamonds_sample_sql, read_csv_sql


@pytest.fixture(scope="module")
def diamonds():
    """The full real diamonds table and a copula fitted on it."""
    rel = duckdb.sql(read_csv_sql("diamonds"))
    table = rel.to_arrow_table()
    types = {name: str(t) for name, t in zip(rel.columns, rel.types)}
    return table, GaussianCopula(random_state=0).fit(table, detect_schema(table, types))


def conditions(model, text):
    return parse_condition(text, model.columns_)


def test_feasibility_is_computed_from_the_model(diamonds) -> None:
    table, model = diamonds
    cs = conditions(model, "carat > 2")
    estimate = GuidedConditionalSampler(model).estimate_feasibility(cs).probability
    drawn = model.sample_rows(np.arange(200_000), key=11)
    frequency = cs.mask(drawn).mean()
    assert estimate == pytest.approx(frequency, rel=0.1)
    assert ConditionalSampler(model).estimate_feasibility(cs).probability == pytest.approx(frequency, rel=0.3)


def test_rare_conditions_cost_no_more_tries(diamonds) -> None:
    """A one-column condition of probability ~1e-4 is proposed inside its region: nearly every try is kept."""
    _, model = diamonds
    cs = conditions(model, "carat > 3.2")
    feasibility = GuidedConditionalSampler(model).estimate_feasibility(cs)
    assert 1e-6 < feasibility.probability < 1e-3
    assert feasibility.acceptance > 0.8
    rows = GuidedConditionalSampler(model).sample(np.arange(2000), 3, cs)
    assert rows.num_rows == 2000 and cs.mask(rows).all()


def test_too_rare_raises_with_the_probability(diamonds) -> None:
    _, model = diamonds
    cs = conditions(model, "carat > 4.9 AND cut = 'Fair' AND color = 'D'")
    with pytest.raises(RareConditionError, match=r"estimated probability .*e-\d\d"):
        GuidedConditionalSampler(model).estimate_feasibility(cs).check(cs)


@pytest.mark.parametrize(("condition", "message"), [
    ("carat > 500", "column 'carat' was [0.2, 5.01] in training; never NULL"),
    ("carat > 3 AND carat < 1", "cannot be met"),
    ("cut = 'Idea'", "Closest: 'Ideal'"),
    ("price IS NULL", "never NULL"),
])
def test_infeasible_conditions_name_the_support(models_con, condition: str, message: str) -> None:
    with pytest.raises(InfeasibleConditionError, match=re.escape(message)):
        genesis_sql.generate(models_con, "diamonds", 10, condition=condition)


def assert_strategies_agree(model, cs) -> None:
    """Importance sampling gives what plain rejection gives: per-column KS and total variation below 0.05 at
    6,000 rows a side."""
    rows = np.arange(6000)
    guided = GuidedConditionalSampler(model, "importance").sample(rows, 21, cs)
    plain = GuidedConditionalSampler(model, "iterative").sample(rows, 22, cs)
    for name in ("price", "carat", "depth", "x", "y"):
        a, b = (t.column(name).to_numpy() for t in (guided, plain))
        assert ks_2samp(a, b).statistic < 0.05, name
    for name in ("cut", "color", "clarity"):
        a, b = (pa.chunked_array(t.column(name)).cast(pa.string()).to_pylist() for t in (guided, plain))
        cats = set(a) | set(b)
        tv = 0.5 * sum(abs(a.count(c) / len(a) - b.count(c) / len(b)) for c in cats)
        assert tv < 0.05, name


def test_strategies_agree_on_the_distribution(diamonds) -> None:
    """Importance sampling in the latent space gives what plain rejection gives."""
    _, model = diamonds
    assert_strategies_agree(model, conditions(model, "carat > 1.5 AND cut IN ('Ideal', 'Premium')"))


@pytest.fixture(scope="module")
def forest() -> AdversarialRandomForest:
    """A forest fitted on every fifth diamond."""
    table, types = arrow_with_types(diamonds_sample_sql())
    return AdversarialRandomForest(random_state=0).fit(table, detect_schema(table, types))


@pytest.mark.parametrize("which", ["diamonds", "forest"])
def test_a_condition_between_two_columns_is_met_inside_the_model(request, which: str) -> None:
    """x > y + 0.3 holds for 1-3% of the rows: the copula and the forest propose rows inside it (most tries
    are kept, where plain rejection keeps 1-3%), and the rows are the ones plain rejection gives."""
    model = request.getfixturevalue(which)
    model = model[1] if which == "diamonds" else model
    cs = conditions(model, "x > y + 0.3")
    feasibility = GuidedConditionalSampler(model).estimate_feasibility(cs)
    assert 0.005 < feasibility.probability < 0.05 and feasibility.acceptance > 0.5
    assert_strategies_agree(model, cs)
    both = conditions(model, "x - y BETWEEN -0.02 AND 0.02 AND cut = 'Fair'")
    assert GuidedConditionalSampler(model).estimate_feasibility(both).acceptance > 0.2
    assert_strategies_agree(model, both)


@pytest.mark.parametrize("which", ["diamonds", "forest"])
def test_rows_between_two_columns_do_not_depend_on_batching(request, which: str) -> None:
    model = request.getfixturevalue(which)
    model = model[1] if which == "diamonds" else model
    cs = conditions(model, "depth > 70 - table / 10")
    whole = model.sample_rows(np.arange(3000), key=8, conditions=cs)
    assert cs.mask(whole).all()
    assert model.sample_rows(np.arange(1111, 3000), key=8, conditions=cs).equals(whole.slice(1111))
    assert model.sample_rows(np.array([2999, 5]), key=8, conditions=cs).equals(whole.take([2999, 5]))


def test_conditional_rows_do_not_depend_on_batching(models_con) -> None:
    whole = genesis_sql.generate(models_con, "diamonds", 3000, seed=9, condition="price > 10000 AND color = 'E'")
    sql = models_con.sql("SELECT * FROM genesis_generate('diamonds', 3000, seed := 9, "
                         "condition := 'color = ''E'' AND price > 10000')").to_arrow_table()
    assert whole.equals(sql.cast(whole.schema))
    prefix = genesis_sql.generate(models_con, "diamonds", 100, seed=9, condition="price > 10000 AND color = 'E'")
    assert prefix.equals(whole.slice(0, 100))


def test_conditional_rows_do_not_depend_on_the_start(models_con) -> None:
    """Rows from a start off the piece grid are the same rows as in a batch from 0, to the last bit."""
    plan, synthesizer = plan_generation(models_con, "benefits", 12_000, seed=3, condition="age > 50 AND state = 93")
    whole = next(generate_batches(plan, synthesizer, batch_size=12_000))
    later = next(generate_batches(plan, synthesizer, batch_size=6000, start=6000))
    assert later.equals(whole.slice(6000))


def test_faithful_conditional_price_given_carat(diamonds) -> None:
    """The price of generated diamonds with carat > 2 follows the real price among real ones (KS < 0.1)."""
    table, model = diamonds
    cs = conditions(model, "carat > 2")
    generated = model.sample_rows(np.arange(20_000), key=5, conditions=cs)
    real = cs.apply(table)
    assert ks_2samp(generated.column("price").to_numpy(), real.column("price").to_numpy()).statistic < 0.1
