"""Conditions that used to escape as raw Python, DuckDB or Arrow errors (issue 11, item 7), through SQL,
Python and the CLI: each gives rows or a named GenesisError, quickly, and changes nothing stored."""
from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

import genesis_sql
from genesis_sql.cli import cli
from tests.hostile.conftest import refusal, snapshot

HUGE = "x" * 900_000
# condition -> the GenesisError it must raise (None: it must return the n rows asked for)
CASES = {
    "price > 1e400": "InfeasibleConditionError",  # no price above +infinity (plain DuckDB: 0 rows)
    "price < 1e400": None,
    "price > -1e400": None,
    "year(carat) = 1": "ConditionError",  # year() of a number: DuckDB's binder refuses
    "carat": "ConditionSyntaxError",  # a bare column is not a true/false condition
    "'abc'": "ConditionSyntaxError",
    "price % 0 = 1": "ConditionError",  # division by zero on every row
    "(" * 3000 + "price > 1" + ")" * 3000: "ConditionSyntaxError",  # RecursionError in the parser
    "NOT " * 3000 + "price > 1": "ConditionSyntaxError",
    " + ".join(["price"] * 3000) + " > 1": "ConditionSyntaxError",
    f"cut = 'Ideal' OR cut = '{HUGE}'": "ConditionSyntaxError",  # ArrowInvalid after 33 s
    f"cut = '{HUGE}'": "ConditionSyntaxError",
    "price > 1 --": None,  # a trailing comment is harmless
    "price > 1 -- AND price < 0": None,
}
IDS = [f"case{i}" for i in range(len(CASES))]


@pytest.mark.parametrize(("condition", "expected"), CASES.items(), ids=IDS)
def test_sql(hostile_con: duckdb.DuckDBPyConnection, condition: str, expected: str | None):
    before = snapshot(hostile_con)
    rows = []
    got = refusal(lambda: rows.extend(hostile_con.execute(
        "SELECT * FROM genesis_generate('diamonds', 3000, seed := 1, condition := ?)", [condition]).fetchall()))
    assert got == expected
    assert expected is not None or len(rows) == 3000
    assert snapshot(hostile_con) == before


@pytest.mark.parametrize(("condition", "expected"), CASES.items(), ids=IDS)
def test_python(hostile_con: duckdb.DuckDBPyConnection, condition: str, expected: str | None):
    before = snapshot(hostile_con)
    got = refusal(lambda: genesis_sql.generate(hostile_con, "diamonds", 50, seed=1, conditions=condition))
    assert got == expected
    if expected is not None:
        assert snapshot(hostile_con) == before


@pytest.fixture(scope="module")
def cli_db(models_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A copy no connection of this process holds, for the CLI (which opens and closes it)."""
    path = tmp_path_factory.mktemp("hostile_cli") / "cli.duckdb"
    shutil.copyfile(models_template, path)
    return str(path)


@pytest.mark.parametrize(("condition", "expected"), CASES.items(), ids=IDS)
def test_cli(cli_db: str, tmp_path: Path, condition: str, expected: str | None):
    out = tmp_path / "rows.csv"
    result = CliRunner().invoke(cli, ["--db", cli_db, "generate", "diamonds", "20", "--seed", "1",
                                      "--where", condition, "--out", str(out)])
    assert "Traceback" not in result.output
    if expected is None:
        assert result.exit_code == 0, result.output
        assert out.is_file()
    else:
        assert result.exit_code == 1, result.output
        assert result.stderr.splitlines()[-1].startswith(f"Error: {expected}: ")
        assert not out.exists()
