"""Every tabular method against the same contract: estimator rules, per-row determinism, every column kind,
and a model stored in a DuckDB file generating the same rows in a new connection."""
from __future__ import annotations

import datetime as dt
import inspect
import json

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import genesis_sql
from genesis_sql.catalog import ModelRecord, save_model
from genesis_sql.models import NotFittedError
from genesis_sql.models._columns import on_calendar_grid
from genesis_sql.models._random import derive_key
from genesis_sql.quality.privacy import exact_copy_rate
from tests.conftest import read_csv_sql
from tests.models.conftest import TABULAR, make, sample, typed


@pytest.mark.parametrize("method", TABULAR)
def test_estimator_contract(method, kinds_table):
    table, columns = kinds_table
    model = make(method, random_state=3)
    params = model.get_params()
    names = [p for p in inspect.signature(type(model).__init__).parameters if p != "self"]
    assert list(params) == names and params["random_state"] == 3
    with pytest.raises(NotFittedError, match="not fitted yet"):
        model.sample_rows(np.arange(3), key=1)
    assert model.fit(table.slice(0, 400), columns) is model
    assert model.get_params() == params  # fitting leaves the parameters untouched


@pytest.mark.parametrize("method", TABULAR)
def test_fitting_twice_gives_the_identical_model(method, kinds_table, fitted_kinds):
    table, columns = kinds_table
    again = make(method).fit(table, columns)
    (state_a, arrays_a), (state_b, arrays_b) = fitted_kinds[method].to_state(), again.to_state()
    assert json.dumps(state_a, sort_keys=True) == json.dumps(state_b, sort_keys=True)
    assert arrays_a.keys() == arrays_b.keys()
    for key in arrays_a:
        np.testing.assert_array_equal(arrays_a[key], arrays_b[key], err_msg=key)


@pytest.mark.parametrize("method", TABULAR)
def test_rows_are_a_function_of_the_key_and_the_row_index(method, fitted_kinds):
    model = fitted_kinds[method]
    whole = sample(model, np.arange(3000))
    assert pa.concat_tables([sample(model, np.arange(0, 700)), sample(model, np.arange(700, 3000))]).equals(whole)
    scattered = np.array([2999, 5, 1234, 17, 640])
    assert sample(model, scattered).equals(whole.take(pa.array(scattered)))
    assert sample(model, np.arange(3000), key=1).equals(whole)
    assert not sample(model, np.arange(3000), key=2).equals(whole)


@pytest.mark.parametrize("method", TABULAR)
def test_every_column_kind_comes_back_in_its_own_type_and_support(method, kinds_table, fitted_kinds):
    real, _ = kinds_table
    synth = sample(fitted_kinds[method], np.arange(4000))
    assert synth.schema.equals(fitted_kinds[method].output_schema)
    # Identifiers are fresh and unique.
    assert pc.min(synth["id"]).as_py() > pc.max(real["id"]).as_py()
    for name in ("id", "code"):
        assert pc.count_distinct(synth[name]).as_py() == synth.num_rows
        assert not pc.any(pc.is_in(synth[name], value_set=real[name].combine_chunks())).as_py()
    # Numbers keep NULL rate, bounds and precision; integers stay whole and in range.
    amount = synth["amount"]
    assert abs(amount.null_count / synth.num_rows - real["amount"].null_count / real.num_rows) < 0.04
    values = np.asarray(amount.drop_null().to_numpy())
    assert values.min() >= pc.min(real["amount"]).as_py() and values.max() <= pc.max(real["amount"]).as_py()
    np.testing.assert_allclose(values, np.round(values, 2))
    assert synth["visits"].type == pa.int32() and synth["visits"].null_count == 0
    assert pc.min(synth["visits"]).as_py() >= pc.min(real["visits"]).as_py()
    assert pc.max(synth["visits"]).as_py() <= pc.max(real["visits"]).as_py()
    # Categories and booleans: only training values, NULL where training had NULLs.
    assert set(synth["grade"].to_pylist()) <= set(real["grade"].to_pylist()) and synth["grade"].null_count > 0
    assert set(synth["member"].to_pylist()) == {True, False}
    # Dates and timestamps stay in the training range, at the training precision (whole seconds).
    for name in ("joined", "seen"):
        assert pc.min(real[name]).as_py() <= pc.min(synth[name]).as_py()
        assert pc.max(synth[name]).as_py() <= pc.max(real[name]).as_py()
    assert all(t.microsecond == 0 for t in synth["seen"].to_pylist())
    assert isinstance(synth["joined"][0].as_py(), dt.date)


@pytest.mark.parametrize("method", TABULAR)
def test_a_stored_model_generates_the_same_rows_in_a_new_connection(method, fitted_kinds, kinds_table, db_path):
    model = fitted_kinds[method]
    state, arrays = model.to_state()
    record = ModelRecord(name="kinds", version=0, method=method, columns=[c.to_dict() for c in model.columns_],
                         parameters=model.get_params(), state=json.loads(json.dumps(state)), arrays=arrays,
                         training_rows=kinds_table[0].num_rows, source_sql="SELECT 1", source_fingerprint="test",
                         fit_seconds=0.0)
    with duckdb.connect(str(db_path)) as con:
        save_model(con, record)
    expected = sample(model, np.arange(500), key=derive_key(record.content_hash, 3, ""))
    with duckdb.connect(str(db_path)) as con:
        genesis_sql.install(con)
        assert genesis_sql.generate(con, "kinds", 500, seed=3).equals(expected)
        via_sql = con.sql("SELECT * FROM genesis_generate('kinds', 500, seed := 3)").to_arrow_table()
    assert via_sql.equals(expected)


@pytest.mark.parametrize("method", TABULAR)
def test_no_method_copies_training_rows_more_than_a_holdout_does(method):
    """DESIGN.md's privacy default on a real table of mostly discrete columns, where chance copies happen:
    the share of synthetic rows equal to a training row is at most max(2%, twice the holdout's share)."""
    con = duckdb.connect()
    rel = con.sql(f"SELECT *, row_number() OVER () AS genesis_row FROM ({read_csv_sql('Benefits')})")
    whole, _ = typed(rel.to_arrow_table())
    held = pc.equal(pc.bit_wise_and(whole["genesis_row"], 3), 0)
    train = whole.filter(pc.invert(held)).drop_columns(["genesis_row"])
    holdout = whole.filter(held).drop_columns(["genesis_row"])
    train, columns = typed(train)
    synth = sample(make(method).fit(train, columns), np.arange(train.num_rows), key=11)
    assert exact_copy_rate(synth, train) <= max(0.02, 2 * exact_copy_rate(holdout, train))


@pytest.mark.parametrize("method", ["copula", "arf"])
def test_dates_on_a_calendar_grid_stay_on_it(method):
    """economics has one row per month, dated the month's last day: generated dates are month ends too
    (interpolated dates fell mid-month, on dates no real row has)."""
    con = duckdb.connect()
    table, columns = typed(con.sql(read_csv_sql("economics")).to_arrow_table())
    synth = sample(make(method).fit(table, columns), np.arange(2000))
    dates = np.asarray(synth["date"].to_numpy(), dtype="datetime64[D]")
    next_days = dates + np.timedelta64(1, "D")
    assert (next_days.astype("datetime64[M]") != dates.astype("datetime64[M]")).all()  # all month ends
    assert set(dates.tolist()) <= set(np.asarray(table["date"].to_numpy(), dtype="datetime64[D]").tolist())


@pytest.mark.parametrize(("name", "days", "on_grid"), [
    ("month ends", (np.arange(np.datetime64("1967-06"), np.datetime64("2015-05"), dtype="datetime64[M]") + 1)
     .astype("datetime64[D]") - 1, True),
    ("first of the month", np.arange(np.datetime64("1990-01"), np.datetime64("1999-01"), 3, dtype="datetime64[M]")
     .astype("datetime64[D]"), True),
    ("weekly", np.arange(np.datetime64("1958-03-29"), np.datetime64("2001-12-29"), 7), True),
    ("business days", np.busday_offset("2020-01-01", np.arange(500), roll="forward"), True),
    ("a few business days", np.busday_offset("2020-01-01", np.arange(40), roll="forward"), False),
    ("any day", np.unique(np.datetime64("1970-01-01") + np.random.default_rng(0).integers(0, 20_000, 3_000)), False),
])
def test_calendar_grids_are_recognised(name, days, on_grid):
    values = days.astype("datetime64[D]").astype(np.int64).astype(float)
    assert on_calendar_grid(values, 86_400_000_000.0) is on_grid
    assert on_calendar_grid(values * 86_400_000_000.0, 1.0) is on_grid  # as midnight timestamps
    assert not on_calendar_grid(values * 86_400_000_000.0 + 3_600_000_000.0, 1.0)  # not at midnight
