"""``genesis fit --method dp`` and ``genesis privacy-budget``: the ledger from the command line."""
from __future__ import annotations

from click.testing import CliRunner

from genesis_sql.cli import cli


def _run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_dp_fit_and_budget_limit_from_the_cli(benefits_con, db_path):
    benefits_con.close()
    db = str(db_path)
    fitted = _run("--db", db, "fit", "w", "--sql", "SELECT age, sex FROM benefits", "--method", "dp",
                  "--epsilon", "2", "--public-bounds", '{"age": [18, 80]}')
    assert fitted.exit_code == 0, fitted.output
    assert "dp on 4,877 rows" in fitted.output
    shown = _run("--db", db, "privacy-budget", "--limit", "benefits", "3")
    assert shown.exit_code == 0 and "main.benefits" in shown.output and "3.0" in shown.output
    refused = _run("--db", db, "fit", "w", "--sql", "SELECT age FROM benefits", "--method", "dp", "--epsilon", "2")
    assert refused.exit_code != 0 and "PrivacyBudgetError" in refused.output


def test_bad_public_bounds_json_is_a_clear_error(benefits_con, db_path):
    benefits_con.close()
    result = _run("--db", str(db_path), "fit", "w", "--sql", "SELECT age FROM benefits", "--method", "dp",
                  "--public-bounds", "{bad")
    assert result.exit_code != 0 and "--public-bounds takes JSON" in result.output
