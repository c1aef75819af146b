"""About sixty injection payloads over model names, n, seed, fit options, conditions and query arguments,
through SQL, Python and the CLI (issue 11, "Acceptance"). Every one gives a named GenesisError (or, where
the payload is harmless, an ordinary answer), and after every failure the genesis catalog and the user's
tables are exactly as they were (a content hash of every table's rows)."""
from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

import genesis_sql
from genesis_sql.cli import cli
from tests.hostile.conftest import refusal, snapshot

DROP = "DROP TABLE victim"
NAMES = [
    f"x'); {DROP}; --", f"diamonds; {DROP}", "diamonds' OR '1'='1", 'diamonds"; DROP', "../../etc/passwd",
    "diamonds@1; DROP", "diamonds@-1", "diamonds@99999999999999999999999", "DIAMONDS@1@2", "", " ", "\x00diamonds",
    "diamonds\n" + DROP, "dïamonds", "genesis.models", "1diamonds", "a" * 10_000, "diamonds--",
]
NS = ["-1", "1e309", "nan", "inf", f"10; {DROP}", "100000000000000000000000", "0x10", "1.5", "", "ten", "1e12"]
SEEDS = ["-1", "18446744073709551616", "1.5", f"1; {DROP}", "abc", "nan", "9" * 400]
OPTIONS = [
    '{"holdout": "0.2; DROP TABLE victim"}', '{"column_types": {"price); DROP TABLE victim; --": "categorical"}}',
    '{"column_types": {"price": "categorical); DROP TABLE victim; --"}}',
    '{"sequence_key": "\\"; DROP TABLE victim; --"}',
    '{"context_columns": "price"}', '{"holdout": 5}', '[1, 2]', "not json", '{"__class__": {}}',
    "[" * 100_000 + "]" * 100_000, '{"constraints": "price > 0; DROP TABLE victim"}', '{"rules": "sometimes"}',
]
CONDITIONS = [
    f"1=1; {DROP}", "price > (SELECT max(x) FROM victim)", "EXISTS (SELECT 1)", "price > $1", "price > ?",
    "random() > 0.5", "read_csv('/etc/passwd') IS NULL", "getvariable('x') = 1", "price IN (SELECT x FROM victim)",
    f"') ; {DROP}; --", "query('DROP TABLE victim') IS NULL", f"price > 1 /* */; {DROP}", "\x00",
    "victim.x = 1", "genesis_drop('diamonds') IS NULL", "current_setting('threads') = '1'", "setseed(0.1) IS NULL",
    "nextval('s') > 0", "COLUMNS(*) > 1", "*", "price > 1e999999999", "cut LIKE repeat('a', 100000)",
    "cut = 'Ideal' UNION SELECT 1", "lower(cut) = 'ideal' OR 1 = 1",
]


def gives_error_and_changes_nothing(con: duckdb.DuckDBPyConnection, *calls: Callable[[], object],
                                    harmless: bool = False) -> None:
    """Each call refuses with a GenesisError (or, when ``harmless``, may answer); after refusals every
    table is as it was (one snapshot around all the calls: none of them may change anything)."""
    before = snapshot(con)
    refused = [refusal(call) for call in calls]
    assert all(refused) or harmless, f"a hostile payload was accepted: {refused}"
    if all(refused):
        assert snapshot(con) == before
    assert con.execute("SELECT count(*) FROM victim").fetchall() == [(3,)]


@pytest.mark.parametrize("name", NAMES)
def test_model_names_in_sql(hostile_con: duckdb.DuckDBPyConnection, name: str):
    gives_error_and_changes_nothing(
        hostile_con,
        lambda: hostile_con.execute("SELECT * FROM genesis_generate(?, 5)", [name]).fetchall(),
        lambda: hostile_con.execute("SELECT genesis_drop(?)", [name]).fetchall(),
        lambda: hostile_con.execute("SELECT genesis_fit(?, 'SELECT * FROM economics', method := 'copula')",
                                    [name]).fetchall())


@pytest.mark.parametrize("name", NAMES)
def test_model_names_in_python(hostile_con: duckdb.DuckDBPyConnection, name: str):
    gives_error_and_changes_nothing(
        hostile_con, lambda: genesis_sql.generate(hostile_con, name, 5),
        lambda: genesis_sql.fit(hostile_con, name, "SELECT * FROM economics", method="copula"))


@pytest.mark.parametrize("n", NS)
def test_n(hostile_con: duckdb.DuckDBPyConnection, n: str):
    gives_error_and_changes_nothing(
        hostile_con,
        lambda: hostile_con.execute("SELECT count(*) FROM genesis_generate('diamonds', ?)", [n]).fetchall(),
        lambda: genesis_sql.generate(hostile_con, "diamonds", n))


@pytest.mark.parametrize("seed", SEEDS)
def test_seeds(hostile_con: duckdb.DuckDBPyConnection, seed: str):
    gives_error_and_changes_nothing(
        hostile_con,
        lambda: hostile_con.execute("SELECT count(*) FROM genesis_generate('diamonds', 5, seed := ?)",
                                    [seed]).fetchall(),
        lambda: genesis_sql.generate(hostile_con, "diamonds", 5, seed=seed),
        lambda: hostile_con.execute("SELECT genesis_fit('econ', 'SELECT * FROM economics', seed := ?)",
                                    [seed]).fetchall())


@pytest.mark.parametrize("options", OPTIONS, ids=[f"options{i}" for i in range(len(OPTIONS))])
def test_fit_options(hostile_con: duckdb.DuckDBPyConnection, options: str):
    gives_error_and_changes_nothing(hostile_con, lambda: hostile_con.execute(
        "SELECT genesis_fit('econ', 'SELECT * FROM economics', method := 'copula', options := ?)",
        [options]).fetchall())


@pytest.mark.parametrize("method", [f"copula'; {DROP}; --", "__import__('os')", "copula\x00", "../copula", ""])
def test_methods(hostile_con: duckdb.DuckDBPyConnection, method: str):
    gives_error_and_changes_nothing(hostile_con, lambda: genesis_sql.fit(
        hostile_con, "econ", "SELECT * FROM economics", method=method))


@pytest.mark.parametrize("condition", CONDITIONS, ids=[f"condition{i}" for i in range(len(CONDITIONS))])
def test_conditions(hostile_con: duckdb.DuckDBPyConnection, condition: str):
    harmless = condition == "lower(cut) = 'ideal' OR 1 = 1"
    gives_error_and_changes_nothing(
        hostile_con,
        lambda: hostile_con.execute("SELECT count(*) FROM genesis_generate('diamonds', 5, condition := ?)",
                                    [condition]).fetchall(),
        lambda: genesis_sql.generate(hostile_con, "diamonds", 5, condition=condition), harmless=harmless)


# Query arguments carrying a second statement (issue 11, item 1; the statement validator).
SMUGGLED = [f"SELECT * FROM economics); {DROP}; --", f"SELECT * FROM economics; {DROP}",
            "SELECT * FROM economics); DELETE FROM genesis.lineage; --",
            f"WITH t AS (SELECT 1) SELECT * FROM economics; {DROP}",
            "SELECT * FROM economics) UNION ALL SELECT * FROM economics WHERE genesis_drop('diamonds') IS NULL; --",
            "COPY victim TO '/tmp/genesis_hostile_copy.csv'", "ATTACH ':memory:' AS other"]
QUERY_ENTRIES: dict[str, Callable[[duckdb.DuckDBPyConnection, str], object]] = {
    "fit": lambda con, q: genesis_sql.fit(con, "econ", q, method="copula"),
    "genesis_fit": lambda con, q: con.execute("SELECT genesis_fit('econ', ?, method := 'copula')", [q]).fetchall(),
    "evaluate real": lambda con, q: genesis_sql.evaluate(con, "economics", q),
    "evaluate holdout": lambda con, q: genesis_sql.evaluate(con, "economics", "SELECT * FROM economics",
                                                            holdout_sql=q),
    "genesis_evaluate": lambda con, q: con.execute("SELECT genesis_evaluate('economics', ?)", [q]).fetchall(),
    "genesis_query": lambda con, q: con.execute("SELECT * FROM genesis_query(?)", [q]).fetchall(),
}


@pytest.mark.parametrize("entry", sorted(QUERY_ENTRIES))
@pytest.mark.parametrize("query", SMUGGLED, ids=[f"smuggled{i}" for i in range(len(SMUGGLED))])
def test_a_second_statement_never_runs(hostile_con: duckdb.DuckDBPyConnection, entry: str, query: str):
    gives_error_and_changes_nothing(hostile_con, lambda: QUERY_ENTRIES[entry](hostile_con, query))


@pytest.mark.parametrize("entry", ["evaluate real", "fit"])
def test_a_query_ending_in_a_comment_works(hostile_con: duckdb.DuckDBPyConnection, entry: str):
    assert refusal(lambda: QUERY_ENTRIES[entry](hostile_con, "SELECT * FROM economics -- the real rows")) is None


@pytest.fixture(scope="module")
def cli_db(models_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("payload_cli") / "cli.duckdb"
    shutil.copyfile(models_template, path)
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE victim AS SELECT range AS x FROM range(3)")
    return str(path)


CLI_CASES = [
    ["generate", NAMES[0], "5"], ["generate", "diamonds", "5", "--where", CONDITIONS[0]],
    ["generate", "diamonds", "5", "--where", CONDITIONS[10]], ["generate", "diamonds", "5", "--seed", "-1"],
    ["fit", NAMES[1], "--sql", "SELECT * FROM economics"], ["fit", "econ", "--sql", SMUGGLED[0]],
    ["fit", "econ", "--sql", "SELECT * FROM economics", "--column-type", "date); DROP TABLE victim; --=id"],
    ["drop", NAMES[0]], ["sql", SMUGGLED[1]], ["sql", f"SELECT 1; {DROP}"],
    ["evaluate", "economics", "--real", SMUGGLED[0]],
    ["generate", "diamonds", "5", "--out", f"x.csv'); {DROP}; --.csv"],
]


@pytest.mark.parametrize("args", CLI_CASES, ids=[f"cli{i}" for i in range(len(CLI_CASES))])
def test_cli(cli_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]):
    monkeypatch.chdir(tmp_path)
    with duckdb.connect(cli_db) as con:
        before = snapshot(con)
    result = CliRunner().invoke(cli, ["--db", cli_db, *args])
    assert "Traceback" not in result.output
    if result.exit_code == 0:  # only a file name that is odd but harmless may pass
        assert args[-2] == "--out"
    else:
        assert result.exit_code == 1, result.output
        assert result.stderr.splitlines()[-1].startswith("Error: "), result.output
        assert any(f"Error: {name}: " in result.stderr for name in _genesis_names()), result.stderr
        with duckdb.connect(cli_db) as con:
            assert snapshot(con) == before


def _genesis_names() -> set[str]:
    from tests.hostile.conftest import error_names

    return error_names()


def test_there_are_about_sixty_payloads():
    count = len(NAMES) + len(NS) + len(SEEDS) + len(OPTIONS) + len(CONDITIONS) + len(SMUGGLED) + len(CLI_CASES) + 5
    assert count >= 60, count
    assert json.loads(OPTIONS[0])  # the payloads are what they say: valid JSON where JSON is the attack
