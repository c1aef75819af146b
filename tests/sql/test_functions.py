"""The SQL surface: genesis_generate, genesis_fit, genesis_models, genesis_drop and genesis_last_seed.

Rows: exactly n, deterministic by seed whatever the threads or batch sizes, prefix-stable, the same in a
new process. Bad input: a GenesisError with a clear message at bind time (so count(*) fails like
SELECT *), and nothing changed afterwards.
"""
from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import genesis_sql
from genesis_sql.errors import (
    ConditionSyntaxError,
    InfeasibleConditionError,
    InvalidArgumentError,
    InvalidModelNameError,
    ModelNotFoundError,
    UnknownColumnError,
)
from genesis_sql.models import METHODS
from genesis_sql.generation import RUNTIME, batches, plan_generation, runtime
from genesis_sql.generation.row_function import row_argument
from genesis_sql.sql.functions import row_function_name
from tests.conftest import REPO, diamonds_sample_sql, read_csv_sql


def generated(con: duckdb.DuckDBPyConnection, model: str, n: int | str, **named: object) -> pa.Table:
    args = "".join(f", {k} := {v}" for k, v in named.items())
    return con.sql(f"SELECT * FROM genesis_generate('{model}', {n}{args})").to_arrow_table()


def state_of(con: duckdb.DuckDBPyConnection) -> tuple:
    """The catalog and the user's tables, to compare before and after bad input."""
    return (con.execute("SELECT name, version, content_hash FROM genesis.models ORDER BY ALL").fetchall(),
            con.execute("SELECT count(*) FROM genesis.model_arrays").fetchall(),
            con.execute("SELECT table_name, estimated_size FROM duckdb_tables() ORDER BY ALL").fetchall(),
            con.execute("SELECT count(*), sum(price) FROM diamonds").fetchall())


# --- rows ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("model", "n"), [("diamonds", 5_000), ("benefits", 1_234), ("economics", 478),
                                          ("movies", 300)])
def test_exactly_n_rows_with_the_training_columns_and_types(models_con, model, n):
    rel = models_con.sql(f"SELECT * FROM genesis_generate('{model}', {n}, seed := 1)")
    training = models_con.sql(f"SELECT * FROM {model}")
    assert rel.columns == training.columns
    assert rel.types == training.types
    assert rel.to_arrow_table().num_rows == n
    assert models_con.sql(f"SELECT count(*) FROM genesis_generate('{model}', {n}, seed := 1)").fetchall() == [(n,)]


def test_zero_rows_keep_the_columns(models_con):
    empty = models_con.sql("SELECT * FROM genesis_generate('economics', 0)")
    assert empty.columns == ["date", "pce", "pop", "psavert", "uempmed", "unemploy"]
    assert empty.fetchall() == []


def test_same_seed_same_rows_other_seed_other_rows(models_con):
    first = generated(models_con, "benefits", 3_000, seed=42)
    assert generated(models_con, "benefits", 3_000, seed=42).equals(first)
    other = generated(models_con, "benefits", 3_000, seed=43)
    assert not other.equals(first)
    assert pc.mean(pc.equal(other.column("age"), first.column("age"))).as_py() < 0.2


def test_thread_count_does_not_change_rows(models_con):
    threads = models_con.sql("SELECT current_setting('threads')").fetchall()[0][0]
    try:
        models_con.execute("SET threads = 1")
        one = generated(models_con, "diamonds", 60_000, seed=3)
        models_con.execute("SET threads = 2")
        two = generated(models_con, "diamonds", 60_000, seed=3)
    finally:
        models_con.execute(f"SET threads = {threads}")
    assert one.num_rows == 60_000
    assert one.equals(two)


@pytest.mark.parametrize(("small", "large"), [(100, 1_000), (20_000, 40_000)])
def test_unconditional_output_is_prefix_stable(models_con, small, large):
    assert generated(models_con, "diamonds", small, seed=9).equals(
        generated(models_con, "diamonds", large, seed=9).slice(0, small))


def test_different_models_draw_different_rows(models_db: Path):
    with duckdb.connect(str(models_db)) as con:
        genesis_sql.install(con)
        other_rows = diamonds_sample_sql().replace("% 5 = 1", "% 5 = 3")
        genesis_sql.fit(con, "diamonds_b", other_rows, method="copula")
        a, b = generated(con, "diamonds", 5_000, seed=1), generated(con, "diamonds_b", 5_000, seed=1)
    assert not a.equals(b)
    # independent streams: the rank of the price in one says nothing about the other
    assert abs(pc.mean(pc.equal(a.column("cut"), b.column("cut"))).as_py() - 0.3) < 0.1
    corr = pa.table({"a": a.column("price"), "b": b.column("price")}).to_pandas().corr(method="spearman").iloc[0, 1]
    assert abs(corr) < 0.05


def test_seed_null_draws_a_fresh_seed_and_genesis_last_seed_reports_it(models_con):
    first = models_con.sql("SELECT * FROM genesis_generate('benefits', 500)").to_arrow_table()
    seed = models_con.sql("SELECT genesis_last_seed()").fetchall()[0][0]
    second = models_con.sql("SELECT * FROM genesis_generate('benefits', 500, seed := NULL)").to_arrow_table()
    second_seed = models_con.sql("SELECT genesis_last_seed()").fetchall()[0][0]
    assert isinstance(seed, int) and isinstance(second_seed, int) and seed != second_seed
    assert not first.equals(second)
    assert generated(models_con, "benefits", 500, seed=seed).equals(first)
    assert generated(models_con, "benefits", 500, seed=second_seed).equals(second)


def test_python_and_sql_give_identical_rows_whatever_the_batch_size(models_con):
    sql = generated(models_con, "movies", 2_000, seed=5)
    for batch_size in (777, 65_536):
        plan, batches = genesis_sql.generate_stream(models_con, "movies", 2_000, seed=5, batch_size=batch_size)
        python = pa.concat_tables(list(batches))
        assert plan.seed == 5 and python.num_rows == 2_000
        assert python.equals(sql), batch_size
    plan, batches = genesis_sql.generate_stream(models_con, "economics", 60, seed=5, batch_size=1)
    assert pa.concat_tables(list(batches)).equals(generated(models_con, "economics", 60, seed=5))


def test_a_new_process_generates_the_same_rows(models_con, models_db: Path, tmp_path: Path):
    diamonds, movies = tmp_path / "diamonds.parquet", tmp_path / "movies.parquet"
    code = textwrap.dedent(f"""
        import duckdb, genesis_sql
        con = duckdb.connect({str(models_db)!r})
        genesis_sql.install(con)
        con.execute("COPY (SELECT * FROM genesis_generate('diamonds', 3000, seed := 3)) TO '{diamonds}'")
        con.execute("COPY (SELECT * FROM genesis_generate('movies', 200, seed := 3)) TO '{movies}'")
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert pq.read_table(diamonds).equals(generated(models_con, "diamonds", 3_000, seed=3))
    assert pq.read_table(movies).equals(generated(models_con, "movies", 200, seed=3))


def test_count_star_validates_and_counts_n(models_con, monkeypatch: pytest.MonkeyPatch):
    with pytest.raises(duckdb.Error, match="n must be"):
        models_con.sql("SELECT count(*) FROM genesis_generate('movies', -5)").fetchall()
    made = []
    make = batches.make_rows
    monkeypatch.setattr(batches, "make_rows", lambda *args, **kwargs: made.append(args[2:4]) or make(*args, **kwargs))
    # Numbered by rows (within one row group), the rows are not made at all: DuckDB drops the unread row function.
    assert models_con.sql("SELECT count(*) FROM genesis_generate('movies', 100000)").fetchall() == [(100_000,)]
    assert made == []
    # Numbered by blocks, the count is the sum of the blocks' lengths, which DuckDB learns by making them.
    assert models_con.sql("SELECT count(*) FROM genesis_generate('diamonds', 300001)").fetchall() == [(300_001,)]
    assert sum(last - first for first, last in made) == 300_001


def test_conditions_give_n_rows_that_all_match_and_spelling_does_not_matter(models_con):
    rows = generated(models_con, "diamonds", 500, seed=4, condition="'carat > 1.5 AND cut = ''Ideal'''")
    assert rows.num_rows == 500
    assert pc.all(pc.greater(rows.column("carat"), 1.5)).as_py()
    assert set(rows.column("cut").to_pylist()) == {"Ideal"}
    same = generated(models_con, "diamonds", 500, seed=4, condition="'CUT=''Ideal'' and 1.50 < Carat'")
    assert same.equals(rows)
    assert models_con.sql("SELECT count(*) FROM genesis_generate('diamonds', 500, seed := 4, "
                          "condition := 'carat > 1.5 AND cut = ''Ideal''')").fetchall() == [(500,)]


def pick(con: duckdb.DuckDBPyConnection, plan_id: int, content_hash: str, rows: list[int]) -> list[dict]:
    """Rows of a plan chosen by index, straight from the model's row function."""
    values = ", ".join(f"({i})" for i in rows)
    call = f"{row_function_name(content_hash)}({row_argument(plan_id, 'i')})"
    return con.sql(f"SELECT unnest({call}) FROM (VALUES {values}) AS t(i)").to_arrow_table().to_pylist()


def test_the_row_function_makes_exactly_the_rows_asked_for_in_any_order(models_con):
    reference = generated(models_con, "economics", 10, seed=7).to_pylist()
    plan, synthesizer = plan_generation(models_con, "economics", 10, seed=7)
    plan_id = RUNTIME.remember_plan(plan, synthesizer)
    assert pick(models_con, plan_id, plan.content_hash, [5, 3, 9]) == [reference[5], reference[3], reference[9]]


def test_a_plan_that_aged_out_is_made_again_from_its_request_and_else_named(models_con, monkeypatch):
    reference = generated(models_con, "economics", 10, seed=7, condition="'unemploy > 8000'").to_pylist()
    plan, synthesizer = plan_generation(models_con, "economics", 10, seed=7, condition="unemploy > 8000")
    old = RUNTIME.remember_plan(plan, synthesizer)
    monkeypatch.setattr(runtime, "PLAN_CACHE_SIZE", 1)
    RUNTIME.remember_plan(*plan_generation(models_con, "economics", 10, seed=8))
    assert RUNTIME.plan(old) is None
    assert pick(models_con, old, plan.content_hash, [2, 0]) == [reference[2], reference[0]]
    monkeypatch.setattr(runtime, "PLAN_REQUEST_CACHE_SIZE", 1)
    RUNTIME.remember_plan(*plan_generation(models_con, "economics", 10, seed=8))
    with pytest.raises(duckdb.Error, match="generation plan is no longer known .* prepare or run it again"):
        pick(models_con, old, plan.content_hash, [1])


# --- bad input -------------------------------------------------------------------------------------------------

BAD_GENERATE = [
    pytest.param("'diamond', 10", "ModelNotFoundError: Unknown model 'diamond'. Did you mean 'diamonds'?",
                 id="unknown model"),
    pytest.param("'diamonds@7', 10", "ModelNotFoundError: Model 'diamonds' has no version 7; stored versions: [1].",
                 id="unknown version"),
    pytest.param("NULL, 10", "InvalidModelNameError: A model name must be text such as 'customers' or 'customers@2'. "
                             "Got None.", id="model NULL"),
    pytest.param("'x''); DROP TABLE diamonds; --', 10", "InvalidModelNameError: Invalid model name "
                 "\"x'); DROP TABLE diamonds; --\": use lower-case letters", id="injection in the name"),
    pytest.param("'diamonds', -5", "InvalidArgumentError: n must be zero or more rows. Got -5.", id="n negative"),
    pytest.param("'diamonds', NULL", "InvalidArgumentError: n must be a whole number of rows, such as 1000. Got None.",
                 id="n NULL"),
    pytest.param("'diamonds', 2.5", "InvalidArgumentError: n must be a whole number of rows, such as 1000. Got '2.5'.",
                 id="n fractional"),
    pytest.param("'diamonds', 'many'", "InvalidArgumentError: n must be a whole number of rows, such as 1000. "
                                       "Got 'many'.", id="n text"),
    pytest.param("'diamonds', 1000000000000", "InvalidArgumentError: n = 1,000,000,000,000 is more than ",
                 id="n absurdly large"),
    pytest.param("'diamonds', 10, seed := -1", "InvalidArgumentError: seed must be a whole number in [0, 2**63 - 1] "
                                               "or NULL. Got -1.", id="seed negative"),
    pytest.param("'diamonds', 10, seed := 'abc'", "InvalidArgumentError: seed must be a whole number in "
                                                  "[0, 2**63 - 1] or NULL. Got 'abc'.", id="seed text"),
    pytest.param("'diamonds', 10, seed := 9223372036854775808", "InvalidArgumentError: seed must be a whole number "
                 "in [0, 2**63 - 1] or NULL. Got 9223372036854775808.", id="seed too large"),
    pytest.param("'diamonds', 10, condition := 'carat >>> 1'", "ConditionSyntaxError: Cannot parse condition "
                                                               "'carat >>> 1'", id="unparsable condition"),
    pytest.param("'diamonds', 10, condition := 'carot > 1'", "UnknownColumnError: Condition names unknown column "
                                                             "'carot'. Did you mean 'carat'", id="unknown column"),
    pytest.param("'diamonds', 10, condition := 'carat > 500'", "InfeasibleConditionError: Condition \"carat\" > 500 "
                 "cannot be met: column 'carat' was [0.2, ", id="infeasible range"),
    pytest.param("'diamonds', 10, condition := 'cut = ''Perfect'''", "InfeasibleConditionError: Condition \"cut\" = "
                 "'Perfect' cannot be met: column 'cut' only takes ", id="infeasible category"),
    pytest.param("'diamonds', 10, condition := 'price > (SELECT 1)'", "ConditionSyntaxError: Condition 'price > "
                 "(SELECT 1)' uses a subquery or another table", id="subquery in condition"),
]


@pytest.fixture(scope="module")
def bad_con(models_template: Path, tmp_path_factory: pytest.TempPathFactory):
    """A private copy of the fitted models, so that bad input cannot harm other tests' data."""
    path = tmp_path_factory.mktemp("bad") / "models.duckdb"
    path.write_bytes(models_template.read_bytes())
    connection = duckdb.connect(str(path))
    genesis_sql.install(connection)
    yield connection
    connection.close()


@pytest.mark.parametrize("select", ["*", "count(*)", "price"])
@pytest.mark.parametrize(("args", "message"), BAD_GENERATE)
def test_bad_generate_arguments_fail_at_bind_time_with_a_clear_message(bad_con, select, args, message):
    before = state_of(bad_con)
    started = time.perf_counter()
    with pytest.raises(duckdb.Error, match=re.escape(message)):
        bad_con.sql(f"SELECT {select} FROM genesis_generate({args})").fetchall()
    assert time.perf_counter() - started < 30
    assert state_of(bad_con) == before


def test_explain_validates_too(bad_con):
    with pytest.raises(duckdb.Error, match=re.escape("InvalidArgumentError: n must be zero or more rows. Got -1.")):
        bad_con.sql("EXPLAIN SELECT * FROM genesis_generate('diamonds', -1)").fetchall()


@pytest.mark.parametrize(("call", "error", "message"), [
    (dict(model="diamond", n=10), ModelNotFoundError, "Unknown model 'diamond'. Did you mean 'diamonds'?"),
    (dict(model="diamonds", n=-1), InvalidArgumentError, "n must be zero or more rows. Got -1."),
    (dict(model="diamonds", n=1.5), InvalidArgumentError, "n must be a whole number of rows, such as 1000. Got 1.5."),
    (dict(model="diamonds", n=10, seed=-3), InvalidArgumentError, "seed must be a whole number in [0, 2**63 - 1]"),
    (dict(model="diamonds", n=10, condition="carat >>> 1"), ConditionSyntaxError, "Cannot parse condition"),
    (dict(model="diamonds", n=10, condition="nope = 1"), UnknownColumnError, "Condition names unknown column 'nope'"),
    (dict(model="diamonds", n=10, condition="carat > 500"), InfeasibleConditionError, 'Condition "carat" > 500'),
    (dict(model="x'); DROP TABLE diamonds; --", n=10), InvalidModelNameError, "Invalid model name"),
])
def test_bad_arguments_from_python_raise_genesis_errors(bad_con, call, error, message):
    model, n = call.pop("model"), call.pop("n")
    with pytest.raises(error, match=re.escape(message)) as info:
        genesis_sql.generate(bad_con, model, n, **call)
    assert isinstance(info.value, genesis_sql.GenesisError)


BAD_FIT = [
    pytest.param("'empty', 'SELECT * FROM diamonds WHERE false'",
                 "FitError: The training query returned no rows; a model needs at least one row.", id="empty table"),
    pytest.param("'broken', 'SELECT * FROM no_such_table'",
                 "FitError: The training query failed: Catalog Error: Table with name no_such_table does not exist",
                 id="failing query"),
    pytest.param("'crash', 'SELECT CAST(''x'' || price AS INTEGER) AS n FROM diamonds'",
                 "FitError: The training query failed: Conversion Error", id="query failing while it runs"),
    pytest.param("'x''); DROP TABLE diamonds; --', 'SELECT * FROM diamonds'",
                 "InvalidModelNameError: Invalid model name \"x'); DROP TABLE diamonds; --\"", id="injection in the name"),
    pytest.param("'nested', 'SELECT [price] AS l, {''a'': 1} AS s, MAP {''k'': 1} AS m FROM diamonds'",
                 "UnsupportedColumnTypeError: Cannot model columns l (BIGINT[]), s (STRUCT(a INTEGER)), "
                 "m (MAP(VARCHAR, INTEGER))", id="LIST STRUCT MAP columns"),
    pytest.param("'d', 'SELECT * FROM diamonds', method := 'magic'",
                 "InvalidArgumentError: Unknown method 'magic'; use 'auto' or one of ", id="unknown method"),
    pytest.param("'d', 'SELECT * FROM diamonds', options := '{\"holdout\": 0.2, \"nope\": 1}'",
                 "InvalidArgumentError: Unknown fit options ['nope']; allowed: column_types, ", id="unknown option"),
    pytest.param("'d', 'SELECT * FROM diamonds', options := 'not json'",
                 "InvalidArgumentError: options must be JSON text such as '{\"holdout\": 0.2}'", id="options not JSON"),
    pytest.param("'d', 'SELECT * FROM diamonds', options := '{\"holdout\": 1.5}'",
                 "InvalidArgumentError: holdout must be a fraction between 0 and 1, such as 0.2. Got 1.5.",
                 id="holdout out of range"),
    pytest.param("'d', 'SELECT * FROM diamonds', seed := 'x'",
                 "InvalidArgumentError: seed must be a whole number in [0, 2**63 - 1] or NULL. Got 'x'.", id="bad seed"),
]


@pytest.mark.parametrize(("args", "message"), BAD_FIT)
def test_bad_fits_fail_with_a_clear_message_and_store_nothing(bad_con, args, message):
    before = state_of(bad_con)
    with pytest.raises(duckdb.Error, match=re.escape(message)):
        bad_con.sql(f"SELECT genesis_fit({args})").fetchall()
    assert state_of(bad_con) == before


@pytest.mark.parametrize(("ref", "message"), [
    ("x''); DROP TABLE diamonds; --", "InvalidModelNameError: Invalid model name \"x'); DROP TABLE diamonds; --\""),
    ("diamond", "ModelNotFoundError: Unknown model 'diamond'. Did you mean 'diamonds'?"),
    ("diamonds@2", "ModelNotFoundError: Model 'diamonds' has no version 2; stored versions: [1]."),
])
def test_bad_drops_fail_and_drop_nothing(bad_con, ref, message):
    before = state_of(bad_con)
    with pytest.raises(duckdb.Error, match=re.escape(message)):
        bad_con.sql(f"SELECT genesis_drop('{ref}')").fetchall()
    assert state_of(bad_con) == before


# --- genesis_fit, genesis_models and genesis_drop in pure SQL ---------------------------------------------------

def test_fit_list_generate_and_drop_in_pure_sql(con):
    con.execute(f"CREATE TABLE econ AS {read_csv_sql('economics')}")
    summary = con.sql("SELECT genesis_fit('econ', 'SELECT * FROM econ', method := 'copula')").fetchall()[0][0]
    assert re.fullmatch(r"econ@1: copula on 478 rows in \d+\.\d\ds \(date:datetime, pce:numeric, pop:integer, "
                        r"psavert:numeric, uempmed:numeric, unemploy:integer\)", summary), summary
    options = '{"column_types": {"unemploy": "numeric"}, "holdout": 0.25}'
    summary = con.sql(f"SELECT genesis_fit('econ', 'SELECT * FROM econ', seed := 3, options := '{options}')"
                      ).fetchall()[0][0]  # method 'auto'
    method = re.match(r"econ@2: (\w+) on ", summary).group(1)
    assert method in METHODS and "unemploy:numeric" in summary
    models = con.sql("SELECT name, version, is_latest, method, columns, training_rows FROM genesis_models()").fetchall()
    assert models[0] == ("econ", 1, False, "copula", 6, 478)
    assert models[1][:5] == ("econ", 2, True, method, 6) and 300 < models[1][5] < 420  # 25% held out
    assert con.sql("SELECT count(*) FROM genesis_generate('econ@1', 100)").fetchall() == [(100,)]
    latest = generated(con, "econ", 100, seed=1)
    assert latest.equals(generated(con, "econ@2", 100, seed=1))
    assert not latest.equals(generated(con, "econ@1", 100, seed=1))
    assert con.sql("SELECT genesis_drop('econ@1')").fetchall() == [("dropped 1 version of econ@1",)]
    assert con.sql("SELECT name, version, is_latest FROM genesis_models()").fetchall() == [("econ", 2, True)]
    assert con.sql("SELECT genesis_drop('ECON')").fetchall() == [("dropped 1 version of ECON",)]
    assert con.sql("SELECT count(*) FROM genesis_models()").fetchall() == [(0,)]
    with pytest.raises(duckdb.Error, match=re.escape("ModelNotFoundError: Unknown model 'econ'. No models are stored")):
        con.sql("SELECT * FROM genesis_generate('econ', 10)").fetchall()


def test_a_model_fitted_in_sql_is_usable_from_a_new_connection(db_path: Path):
    with duckdb.connect(str(db_path)) as con:
        genesis_sql.install(con)
        con.execute(f"CREATE TABLE econ AS {read_csv_sql('economics')}")
        con.sql("SELECT genesis_fit('econ', 'SELECT * FROM econ')").fetchall()
        before = generated(con, "econ", 200, seed=2)
    with duckdb.connect(str(db_path)) as con:
        genesis_sql.install(con)
        assert generated(con, "econ", 200, seed=2).equals(before)


def test_a_second_connection_uses_the_first_ones_functions(models_db: Path):
    """Python UDFs live in the database instance, owned by the connection that registered them (DuckDB):
    a second connection in the same process reuses them while the first stays open."""
    first = duckdb.connect(str(models_db))
    second = duckdb.connect(str(models_db))
    try:
        genesis_sql.install(first)
        genesis_sql.install(second)
        expected = first.sql("SELECT * FROM genesis_generate('economics', 5, seed := 1)").fetchall()
        assert second.sql("SELECT * FROM genesis_generate('economics', 5, seed := 1)").fetchall() == expected
    finally:
        second.close()
        first.close()
