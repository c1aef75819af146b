"""The core ``genesis`` commands through click's CliRunner: fit, generate, sql, models, drop and demo."""
from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner, Result

import genesis_sql
from genesis_sql.cli import cli
from genesis_sql.errors import ModelNotFoundError
from tests.conftest import read_csv_sql


def genesis(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def box_rows(text: str) -> list[str]:
    """The data rows of a printed DuckDB box table (the lines between the header rule and the bottom)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("├"))
    return [line for line in lines[start + 1:] if line.startswith("│")]


@pytest.fixture
def db(models_db: Path) -> str:
    """A private copy of the fitted models (diamonds, benefits, movies, economics)."""
    return str(models_db)


def test_fit_prints_a_summary_and_each_fit_adds_a_version(db_path: Path):
    source = read_csv_sql("economics")
    first = ok(genesis("--db", str(db_path), "fit", "econ", "--sql", source, "--method", "copula"))
    assert re.fullmatch(r"econ@1: copula on 478 rows in \d+\.\d\ds \(date:datetime, pce:numeric, pop:integer, "
                        r"psavert:numeric, uempmed:numeric, unemploy:integer\)\n", first.stdout)
    assert "fit econ" in first.stderr  # the progress bar
    second = ok(genesis("--db", str(db_path), "fit", "econ", "--sql", source, "--column-type", "unemploy=numeric",
                        "--holdout", "0.2", "--seed", "3"))
    assert re.match(r"econ@2: \w+ on ", second.stdout) and "unemploy:numeric" in second.stdout
    with duckdb.connect(str(db_path)) as con:
        rows = con.execute("SELECT version, training_rows < 478 FROM genesis.models ORDER BY version").fetchall()
    assert rows == [(1, False), (2, True)]


def test_generate_prints_rows_and_reports_a_drawn_seed(db: str):
    fixed = ok(genesis("--db", db, "generate", "economics", "5", "--seed", "1"))
    assert fixed.stderr == ""
    lines = fixed.stdout.splitlines()  # not a terminal: every row as CSV
    assert lines[0] == "date,pce,pop,psavert,uempmed,unemploy"
    assert len(lines) == 6
    table = ok(genesis("--db", db, "generate", "economics", "5", "--seed", "1", "--format", "table"))
    header = table.stdout.splitlines()[1]
    assert [h.strip() for h in header.strip("│").split("│")] == ["date", "pce", "pop", "psavert", "uempmed", "unemploy"]
    assert len(box_rows(table.stdout)) == 5
    assert ok(genesis("--db", db, "generate", "economics", "5", "--seed", "1")).stdout == fixed.stdout
    drawn = ok(genesis("--db", db, "generate", "economics", "5"))
    seed = re.fullmatch(r"seed: (\d+)\n", drawn.stderr).group(1)
    assert ok(genesis("--db", db, "generate", "economics", "5", "--seed", seed)).stdout == drawn.stdout


def test_generate_where_gives_n_matching_rows(db: str, tmp_path: Path):
    out = tmp_path / "rich.parquet"
    ok(genesis("--db", db, "generate", "diamonds", "300", "--seed", "1", "--where", "price > 10000", "--out", str(out)))
    with duckdb.connect() as con:
        assert con.sql(f"SELECT count(*), min(price) > 10000 FROM '{out}'").fetchall() == [(300, True)]


@pytest.mark.parametrize(("suffix", "reader"), [("parquet", "read_parquet"), ("csv", "read_csv"),
                                                 ("jsonl", "read_json")])
def test_generate_out_writes_a_file_duckdb_reads_back(db: str, tmp_path: Path, suffix: str, reader: str):
    out = tmp_path / f"diamonds.{suffix}"
    result = ok(genesis("--db", db, "generate", "diamonds", "3000", "--seed", "2", "--out", str(out)))
    assert result.stdout == ""
    assert result.stderr == f"wrote 3,000 rows of diamonds@1 (seed 2) to {out}\n"
    with duckdb.connect(db) as con:
        genesis_sql.install(con)
        genesis_rows = "SELECT * FROM genesis_generate('diamonds', 3000, seed := 2)"
        written = con.sql(f"SELECT * FROM {reader}('{out}')")
        assert written.columns == con.sql(genesis_rows).columns
        assert con.sql(f"SELECT count(*) FROM {reader}('{out}')").fetchall() == [(3000,)]
        differ = con.sql(f"SELECT count(*) FROM (({genesis_rows}) EXCEPT ALL (SELECT * FROM {reader}('{out}')))")
        assert differ.fetchall() == [(0,)]


def test_large_generates_draw_a_progress_bar(db: str, tmp_path: Path):
    result = ok(genesis("--db", db, "generate", "diamonds", "200000", "--seed", "1", "--out", str(tmp_path / "b.parquet")))
    assert "generate diamonds" in result.stderr


def test_sql_prints_results_with_pushdown(db: str):
    result = ok(genesis("--db", db, "sql", "SELECT count(*) AS n FROM genesis_generate('diamonds', 1234)"))
    assert [row.strip("│ ") for row in box_rows(result.stdout)] == ["1234"]
    pushed = ok(genesis("--db", db, "sql", "SELECT count(*) AS n, min(cut) AS lo, max(cut) AS hi FROM "
                        "genesis_generate('diamonds', 200, seed := 1) WHERE cut = 'Ideal'"))
    assert re.search(r"│\s+200 │ Ideal\s+│ Ideal\s+│", pushed.stdout), pushed.stdout


def listed_names(text: str) -> list[str]:
    """The model names in the first column of ``genesis models`` output (long cells may wrap onto more lines)."""
    names = [row.strip("│").split("│")[0].strip() for row in box_rows(text)]
    return [name for name in names if name]


def test_models_lists_one_row_per_version_and_drop_removes_them(db: str):
    listed = ok(genesis("--db", db, "models"))
    assert "is_latest" in listed.stdout and "training_rows" in listed.stdout
    assert listed_names(listed.stdout) == ["benefits", "diamonds", "economics", "movies"]
    ok(genesis("--db", db, "fit", "economics", "--sql", "SELECT * FROM economics WHERE pce > 1000"))
    assert listed_names(ok(genesis("--db", db, "models")).stdout) == [
        "benefits", "diamonds", "economics", "economics", "movies"]
    assert ok(genesis("--db", db, "drop", "economics@1")).stdout == "dropped 1 version of economics@1\n"
    assert ok(genesis("--db", db, "drop", "movies")).stdout == "dropped 1 version of movies\n"
    assert listed_names(ok(genesis("--db", db, "models")).stdout) == ["benefits", "diamonds", "economics"]
    with duckdb.connect(db) as con:
        assert con.execute("SELECT name, version FROM genesis.models ORDER BY ALL").fetchall() == [
            ("benefits", 1), ("diamonds", 1), ("economics", 2)]


@pytest.mark.parametrize(("args", "message"), [
    (["generate", "diamond", "10"], "Error: ModelNotFoundError: Unknown model 'diamond'. Did you mean 'diamonds'?"),
    (["generate", "diamonds", "10", "--seed", "-1"],
     "Error: InvalidArgumentError: seed must be a whole number in [0, 2**63 - 1] or NULL. Got -1."),
    (["generate", "diamonds", "10", "--where", "carat > 500"],
     "Error: InfeasibleConditionError: Condition \"carat\" > 500 cannot be met: column 'carat' was [0.2, "),
    (["generate", "diamonds", "10", "--where", "carat >>> 1"],
     "Error: ConditionSyntaxError: Cannot parse condition 'carat >>> 1'"),
    (["generate", "diamonds", "10", "--out", "x.txt"],
     "Error: InvalidArgumentError: Cannot write 'x.txt': use a .parquet, .csv or .jsonl file name."),
    (["fit", "m", "--sql", "SELECT * FROM no_such_table"],
     "Error: FitError: The training query failed: Catalog Error: Table with name no_such_table does not exist!"),
    (["fit", "m", "--sql", "SELECT * FROM diamonds", "--column-type", "price"],
     "Error: InvalidArgumentError: --column-type takes COLUMN=KIND, e.g. zip=categorical. Got 'price'."),
    (["fit", "x'); DROP TABLE diamonds; --", "--sql", "SELECT * FROM diamonds"],
     "Error: InvalidModelNameError: Invalid model name \"x'); DROP TABLE diamonds; --\""),
    (["sql", "SELECT * FROM genesis_generate('diamonds', -1)"],
     "InvalidArgumentError: n must be zero or more rows. Got -1."),
    (["sql", "SELEC 1"],
     "Error: InvalidArgumentError: The query is not valid SQL: Parser Error: syntax error at or near \"SELEC\""),
    (["drop", "nope"], "Error: ModelNotFoundError: Unknown model 'nope'. Known models: "),
])
def test_bad_input_is_a_one_line_error_and_a_non_zero_exit(db: str, args: list[str], message: str):
    result = genesis("--db", db, *args)
    assert result.exit_code == 1
    assert result.stdout == ""
    # one error line, last; before it at most a progress label or the drawn seed
    lines = result.stderr.splitlines()
    assert [line for line in lines if line.startswith("Error: ")] == lines[-1:], result.stderr
    assert len(lines) <= 2
    assert message in lines[-1]
    assert "Traceback" not in result.output
    with duckdb.connect(db) as con:  # nothing was dropped or added
        assert con.execute("SELECT count(*) FROM diamonds").fetchall() == [(10_788,)]
        assert con.execute("SELECT count(*) FROM genesis.models").fetchall() == [(4,)]


@pytest.mark.parametrize("args", [["generate", "diamonds", "-5"], ["generate", "diamonds", "many"],
                                  ["generate", "diamonds"], ["nonsense"]])
def test_usage_errors_exit_non_zero_without_a_traceback(db: str, args: list[str]):
    result = genesis("--db", db, *args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output and "Usage: " in result.output


def test_debug_lets_the_exception_through(db: str):
    result = genesis("--db", db, "--debug", "generate", "diamond", "10")
    assert result.exit_code != 0
    assert isinstance(result.exception, ModelNotFoundError)


def test_the_default_database_is_genesis_duckdb_in_the_current_folder(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GENESIS_DB", raising=False)
    ok(genesis("fit", "econ", "--sql", read_csv_sql("economics")))
    assert (tmp_path / "genesis.duckdb").is_file()
    assert len(ok(genesis("generate", "econ", "3", "--seed", "1")).stdout.splitlines()) == 4  # header + 3 rows
    counted = ok(genesis("sql", "SELECT count(*) AS models FROM genesis.models"))
    assert box_rows(counted.stdout)[0].strip("│ ") == "1"


def test_demo_runs_twice_and_the_second_run_reuses_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GENESIS_DB", raising=False)
    first = ok(genesis("demo"))
    assert "loaded benefits: 4,877 real rows" in first.stdout
    assert "fitting model 'benefits'" in first.stdout
    assert "SELECT * FROM genesis_generate('benefits', 1000, seed := 42)" in first.stdout
    assert "fidelity of benefits@1 (1,000 synthetic vs 4,877 real rows" in first.stdout
    assert ("WHERE age > 50 AND state = 93\n-> 1,000 rows, every one over 50 and in California (93)"
            in first.stdout)
    assert "column shapes" in first.stdout and "each column's distribution vs the real one" in first.stdout
    second = ok(genesis("demo"))
    assert "model 'benefits' is stored; reusing it" in second.stdout
    assert "fitting" not in second.stdout and "loaded" not in second.stdout
    assert box_rows(second.stdout) == box_rows(first.stdout)  # the same sample: same model, same seed
    assert listed_names(ok(genesis("models")).stdout) == ["benefits"]
