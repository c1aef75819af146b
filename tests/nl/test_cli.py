"""genesis ask and genesis describe (CliRunner, as users run them)."""
from __future__ import annotations

import csv
from pathlib import Path

from click.testing import CliRunner

from genesis_sql.cli import cli


def test_ask_prints_the_sql_and_the_reading_and_runs_with_yes(nl_db: Path):
    result = CliRunner().invoke(cli, ["--db", str(nl_db), "ask", "20 workers over 50 in California", "--yes"])
    assert result.exit_code == 0, result.output
    assert "SELECT * FROM genesis_generate('workers', 20) WHERE age > 50 AND state = 93" in result.output
    assert "condition: state = 93" in result.output and "│" in result.output


def test_ask_writes_a_file_with_out(nl_db: Path, tmp_path: Path):
    out = tmp_path / "rows.csv"
    result = CliRunner().invoke(cli, ["--db", str(nl_db), "ask", "30 diamonds with color E or F", "--yes",
                                      "--out", str(out), "--seed", "2"])
    assert result.exit_code == 0, result.output
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 30 and {r["color"] for r in rows} <= {"E", "F"}


def test_ask_does_not_run_a_reading_it_did_not_fully_understand_on_yes(nl_db: Path):
    result = CliRunner().invoke(cli, ["--db", str(nl_db), "ask", "20 happy workers", "--yes"], input="n\n")
    assert result.exit_code == 1
    assert "not understood: 'happy'" in result.output and "not run" in result.output
    confirmed = CliRunner().invoke(cli, ["--db", str(nl_db), "ask", "20 happy workers"], input="y\n")
    assert confirmed.exit_code == 0 and "│" in confirmed.output


def test_ask_with_sql_in_the_request_is_a_one_line_error(nl_db: Path):
    result = CliRunner().invoke(cli, ["--db", str(nl_db), "ask", "20 workers; DROP TABLE benefits"])
    assert result.exit_code == 1 and "UnsafeQueryError" in result.output


def test_describe_prints_columns_and_prompt_text(nl_db: Path):
    table = CliRunner().invoke(cli, ["--db", str(nl_db), "describe", "workers"])
    assert table.exit_code == 0 and "11=Maine" in table.output and "joblost" in table.output
    prompt = CliRunner().invoke(cli, ["--db", str(nl_db), "describe", "workers", "--prompt", "--max-tokens", "600"])
    assert prompt.exit_code == 0 and "genesis_generate('workers'" in prompt.output
    assert len(prompt.output) <= 600 * 4 + 1
    unknown = CliRunner().invoke(cli, ["--db", str(nl_db), "describe", "nobody"])
    assert unknown.exit_code == 1 and "ModelNotFoundError" in unknown.output
