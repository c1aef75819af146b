"""Models fitted on the shared real data, with labels, for the natural-language tests (fitted once)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

import genesis_sql
from tests.conftest import read_csv_sql

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "nl"
# CPS state codes of Benefits (shared/data/README.md), labelled through a mapping query at fit.
STATE_NAMES = [(11, "Maine"), (21, "New York"), (23, "Pennsylvania"), (74, "Texas"), (95, "Hawaii")]
MODELS = {
    "workers": ("Benefits", "SELECT * FROM benefits"),
    "diamonds": ("diamonds", "SELECT * FROM diamonds USING SAMPLE 4000 ROWS (reservoir, 1)"),
    "medexp": ("MedExp", "SELECT * FROM medexp"),
    "males": ("Males", "SELECT * FROM males"),
    "economics": ("economics", "SELECT * FROM economics"),
    "movies": ("movies", "SELECT * FROM movies USING SAMPLE 4000 ROWS (reservoir, 1)"),
}


@pytest.fixture(scope="session")
def nl_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file with six models fitted (copula, seed 0) and Benefits' state codes labelled."""
    path = tmp_path_factory.mktemp("nl") / "nl.duckdb"
    con = duckdb.connect(str(path))
    genesis_sql.install(con)
    con.execute("CREATE TABLE state_names (code INTEGER, name VARCHAR)")
    con.executemany("INSERT INTO state_names VALUES (?, ?)", STATE_NAMES)
    for model, (data, source) in MODELS.items():
        table = source.split()[3]
        con.execute(f"CREATE TABLE {table} AS {read_csv_sql(data)}")
        labels = {"state": "SELECT code, name FROM state_names"} if model == "workers" else None
        genesis_sql.fit(con, model, source, method="copula", seed=0, labels=labels)
    con.execute("SELECT genesis_label('workers', 'state', 93, 'California')").fetchall()
    con.close()
    return path


@pytest.fixture
def nl_con(nl_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the fitted models."""
    con = duckdb.connect(str(nl_db))
    genesis_sql.install(con)
    yield con
    con.close()


def phrasings() -> list[tuple[str, str | None]]:
    """(request, expected SQL or None for 'needs confirmation') from the fixture file."""
    cases = []
    for line in (FIXTURES / "phrasings.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        request, _, expected = line.rpartition(" | ")
        cases.append((request.strip(), None if expected.strip() == "?" else expected.strip()))
    return cases
