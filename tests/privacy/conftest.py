"""A fresh genesis file with the Benefits data as a table, for the DP fits and the budget ledger."""
from __future__ import annotations

import pytest

from tests.conftest import read_csv_sql


@pytest.fixture
def benefits_con(con):
    """``con`` (a fresh installed file) with table ``benefits``."""
    con.execute(f"CREATE TABLE benefits AS {read_csv_sql('Benefits')}")
    return con
