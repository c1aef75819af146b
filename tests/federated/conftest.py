"""Benefits in a fresh database, and one federation trained on it (shared by the read-only tests)."""
from __future__ import annotations

import duckdb
import pytest

import genesis_sql
from genesis_sql.federated import FederatedTrainingSimulator
from tests.conftest import read_csv_sql


@pytest.fixture()
def benefits_con(tmp_path):
    con = duckdb.connect(str(tmp_path / "fed.duckdb"))
    genesis_sql.install(con)
    con.execute(f"CREATE TABLE benefits AS {read_csv_sql('Benefits')}")
    yield con
    con.close()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(connection, simulator): Benefits over 3 IID sites, trained as model 'fed' with secure aggregation."""
    con = duckdb.connect(str(tmp_path_factory.mktemp("fed") / "trained.duckdb"))
    genesis_sql.install(con)
    con.execute(f"CREATE TABLE benefits AS {read_csv_sql('Benefits')}")
    sim = FederatedTrainingSimulator(n_sites=3, seed=0)
    sim.setup_from_data(con, "SELECT * FROM benefits")
    sim.simulate_training(con, "fed", method="copula")
    yield con, sim
    con.close()
