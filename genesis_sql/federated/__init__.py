"""Federated training: sites keep their rows; the aggregate becomes a normal genesis model.

Sites compute the sufficient statistics of a Gaussian copula on their own rows (histograms, counts,
sums and cross-products of normal scores: genesis_sql.federated.statistics); secure aggregation with
pairwise masks, Shamir-shared mask keys and signed updates gives the aggregator their sums only
(genesis_sql.federated.secure); optional record-level DP adds Gaussian noise spent from each site's
ledger (genesis_sql.federated.privacy). The aggregate is a ``copula`` model registered in the catalog
with a lineage block naming every site's rows fingerprint.

    from genesis_sql.federated import FederatedTrainingSimulator
    sim = FederatedTrainingSimulator(n_sites=3, seed=0)
    sim.setup_non_iid(con, "SELECT * FROM raw_customers", column="state")
    sim.simulate_training(con, "customers_fed", method="copula")

Across processes the same protocol runs on Flower (genesis_sql.federated.flower; ``genesis federated``).
"""
from __future__ import annotations

from genesis_sql.errors import FederatedError
from genesis_sql.federated.aggregator import ModelAggregator, SecureAggregator
from genesis_sql.federated.generator import FederatedGenerator
from genesis_sql.federated.simulator import FederatedTrainingSimulator, LocalExchange
from genesis_sql.federated.site import DataSite, SiteConfig

__all__ = ["DataSite", "FederatedError", "FederatedGenerator", "FederatedTrainingSimulator", "LocalExchange",
           "ModelAggregator", "SecureAggregator", "SiteConfig"]
