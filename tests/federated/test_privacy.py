"""Record-level DP of the shared statistics: accounting, noise, and each site's ledger in its own DuckDB."""
from __future__ import annotations

import math

import pytest

from genesis_sql.catalog import model_names
from genesis_sql.errors import FederatedError, InvalidArgumentError
from genesis_sql.federated import DataSite, FederatedTrainingSimulator, SiteConfig
from genesis_sql.federated import privacy

REAL = "SELECT * FROM benefits"


def test_zcdp_conversion_round_trips():
    for epsilon in (0.1, 1.0, 8.0):
        rho = privacy.rho_for(epsilon, 1e-6)
        assert math.isclose(privacy.epsilon_for(rho, 1e-6), epsilon, rel_tol=1e-12)
    # The Gaussian mechanism's sigma for sensitivity 1 and rho: 1 / sqrt(2 rho), split over the rounds.
    rho_round = privacy.rho_for(1.0, 1e-6) / privacy.NOISY_ROUNDS
    assert math.isclose(privacy.site_sigma(1.0, 1.0, 1e-6, 1), 1 / math.sqrt(2 * rho_round))
    assert math.isclose(privacy.site_sigma(1.0, 1.0, 1e-6, 4), 0.5 / math.sqrt(2 * rho_round))


def _sites(sim: FederatedTrainingSimulator, budget: float) -> None:
    sim.sites = [DataSite(SiteConfig(s.name, privacy_budget=budget), s.con, s.sql) for s in sim.sites]


def _ledger(site: DataSite) -> list[tuple]:
    return site.con.sql("SELECT model, mechanism, epsilon FROM genesis.privacy_budget ORDER BY spent_at").fetchall()


def test_dp_training_spends_from_every_sites_ledger_and_adds_noise(benefits_con):
    sim = FederatedTrainingSimulator(n_sites=3, seed=0)
    sim.setup_from_data(benefits_con, REAL)
    _sites(sim, budget=1.5)
    sim.simulate_training(benefits_con, "fed_dp", epsilon=1.0)
    for site in sim.sites:
        assert _ledger(site) == [("fed_dp", privacy.MECHANISM, 1.0)]
    assert sim.generator.info["epsilon"] == 1.0
    # The released row count is noisy (its sigma is in the tens at epsilon 1).
    assert sim.generator.info["training_rows"] != 4877
    assert benefits_con.sql("SELECT count(*) FROM genesis_generate('fed_dp', 200, seed := 1)").fetchall()[0][0] == 200
    # A second epsilon-1 training would pass the sites' budget of 1.5: refused before anything is shared.
    received = len(sim.received)
    with pytest.raises(FederatedError, match="privacy budget"):
        sim.simulate_training(benefits_con, "fed_dp_again", epsilon=1.0)
    assert "fed_dp_again" not in model_names(benefits_con)
    assert not [m for m in sim.received if m["phase"] == "update"]
    assert received > 0
    for site in sim.sites:
        assert len(_ledger(site)) == 1


def test_bad_privacy_arguments(benefits_con):
    sim = FederatedTrainingSimulator(n_sites=2, seed=0)
    sim.setup_from_data(benefits_con, REAL)
    for bad in (0, -1.0, "1", float("inf")):
        with pytest.raises(InvalidArgumentError, match="epsilon"):
            sim.simulate_training(benefits_con, "fed_bad", epsilon=bad)
    with pytest.raises(InvalidArgumentError, match="delta"):
        sim.simulate_training(benefits_con, "fed_bad", epsilon=1.0, delta=2.0)
