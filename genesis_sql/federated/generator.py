"""FederatedGenerator: runs a federated copula fit over any exchange and keeps the aggregate model.

The rounds (genesis_sql.federated.statistics): ``hello``; ``domain``; ``marginals`` (again for a
categorical column whose values collided in a hash slot, with a new salt); the refinement of quantile bins
that hold several values (when any does); two score rounds that lay the categories out; the final score
round. Each statistics round is one secure sum. Sites that drop out stay out of later rounds; the
statistics of a round are the sums of the sites that completed it.
"""
from __future__ import annotations

import time
import uuid
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from scipy.special import ndtri

from genesis_sql.errors import FederatedError
from genesis_sql.federated import privacy
from genesis_sql.federated import statistics as st
from genesis_sql.federated.aggregator import Exchange, ModelAggregator, SecureAggregator
from genesis_sql.federated.copula_fit import DOMAIN_RETRIES, CopulaAggregation
from genesis_sql.federated.secure import verify_signed
from genesis_sql.federated.site import DataSite
from genesis_sql.models._random import derive_key
from genesis_sql.models.copula import GaussianCopula

# Under DP each row of normal scores is clipped to this many times sqrt(latent dims) in L2 norm
# (a standard normal vector's norm is about sqrt(dims), so few rows are clipped).
DP_CLIP_FACTOR = 1.5


class FederatedGenerator:
    """Trains one copula across sites and generates from it.

    Args:
        sites: in-process :class:`DataSite` objects (or use ``exchange`` for remote sites).
        aggregator: how sums are formed; a :class:`SecureAggregator` by default.
        exchange: the transport to the sites; an in-process one over ``sites`` when omitted.
        seed: the fit's seed.
    """

    def __init__(self, sites: list[DataSite] | None = None, aggregator: ModelAggregator | None = None, *,
                 exchange: Exchange | None = None, seed: int = 0) -> None:
        self.sites = list(sites or [])
        self.aggregator = aggregator if aggregator is not None else SecureAggregator()
        self.exchange = exchange
        self.seed = seed
        self.model: GaussianCopula | None = None
        self.info: dict[str, Any] = {}

    def add_site(self, site: DataSite) -> None:
        """Add an in-process site."""
        if any(s.name == site.name for s in self.sites):
            raise FederatedError(f"A site named {site.name!r} is already part of this federation.")
        self.sites.append(site)

    def _exchange(self) -> Exchange:
        if self.exchange is not None:
            return self.exchange
        from genesis_sql.federated.simulator import LocalExchange

        return LocalExchange(self.sites)

    def train(self, *, name: str = "federated", method: str = "copula", epsilon: float | None = None,
              delta: float | None = None, column_types: dict[str, str] | None = None) -> GaussianCopula:
        """Run the rounds and return the aggregate copula (also kept as ``self.model``)."""
        if method != "copula":
            raise FederatedError(f"Federated training fits method='copula', not {method!r}: its sufficient "
                                 "statistics are sums, which secure aggregation adds exactly.")
        epsilon, delta = privacy.check_privacy(epsilon, delta)
        exchange = self._exchange()
        try:
            return self._train(exchange, name, method, epsilon, delta, column_types)
        except FederatedError as exc:
            failures = getattr(exchange, "failures", {})
            if failures:
                detail = "; ".join(f"{s}: {m}" for s, m in sorted(failures.items()))
                raise FederatedError(f"{exc} Sites reported: {detail}") from exc
            raise

    def _train(self, exchange: Exchange, name: str, method: str, epsilon: float | None, delta: float,
               column_types: dict[str, str] | None) -> GaussianCopula:
        started = time.perf_counter()
        session = uuid.uuid4().hex
        names = sorted(exchange.sites)
        self.aggregator.check_sites(names, "are part of the federation")
        tolerated = self.aggregator.max_dropouts_for(len(names))
        hello = exchange.call("hello", {s: {"session": session, "method": method, "column_types": column_types,
                                            "epsilon": epsilon, "delta": delta, "sites": len(names),
                                            "max_dropouts": tolerated, "model": name} for s in names})
        verify_keys, schemas, distinct, fingerprints = {}, {}, {}, {}
        for site, reply in sorted(hello.items()):
            body = verify_signed(reply, str(reply.get("verify_key", "")), "hello")
            if body["site"] != site:
                raise FederatedError(f"Site {site!r} answered as {body['site']!r}.")
            verify_keys[site] = body["verify_key"]
            schemas[site], distinct[site] = body["columns"], body["distinct"]
            fingerprints[site] = {"rows_fingerprint": body["fingerprint"], "engine": body["fingerprint_engine"],
                                  "verify_key": body["verify_key"]}
        self.aggregator.check_sites(sorted(hello), "answered")
        plan = CopulaAggregation(schemas, distinct, seed=self.seed)
        state = {"active": sorted(hello), "rounds": 0, "dropped": []}

        def run(request: dict[str, Any]) -> dict[str, Any]:
            state["rounds"] += 1
            entries = st.layout(request, plan.schema)
            total, survivors = self.aggregator.aggregate(
                exchange, f"{session}/{state['rounds']}", {"request": request, "schema": plan.schema},
                state["active"], verify_keys, sum(e["length"] for e in entries))
            state["dropped"] += sorted(set(state["active"]) - set(survivors))
            state["active"] = survivors
            return st.decode_round(total, entries)

        self._domains(plan, run, epsilon, delta)
        plan.build_codecs()
        if epsilon is not None:
            plan.clip = DP_CLIP_FACTOR * max(len(plan.latent), 1) ** 0.5
        while not plan.layouts_done:
            request = plan.scores_request()
            plan.read_layout(run(request), request)
        self.model = plan.finish(run(plan.scores_request()))
        self.info = {"session": session, "sites": fingerprints, "rounds": state["rounds"],
                     "dropped": state["dropped"], "completed": state["active"], "training_rows": plan.rows,
                     "secure_aggregation": self.aggregator.secure, "epsilon": epsilon,
                     "delta": delta if epsilon is not None else None, "refused": list(self.aggregator.refused),
                     "fit_seconds": time.perf_counter() - started}
        return self.model

    @staticmethod
    def _domains(plan: CopulaAggregation, run, epsilon: float | None, delta: float) -> None:
        request = plan.domain_request()
        if epsilon is not None:
            # Slots and bins are occupied only where the noisy count clears the noise (DP partition selection).
            sigma = privacy.site_sigma(st.round_sensitivity(st.layout(request, plan.schema)), epsilon, delta, 1)
            plan.threshold = 1.0 + sigma * float(ndtri(1.0 - delta))
            plan.private = True
        plan.read_domain(run(request), request)
        request = plan.marginal_request()
        earlier = run(request)
        collided = plan.read_marginals(earlier, request, retry=epsilon is None)
        for _ in range(DOMAIN_RETRIES):
            if not collided:
                break
            request = plan.domain_request(collided)
            plan.read_domain(run(request), request)
            request = plan.marginal_request()
            collided = plan.read_marginals(run(request), request, retry=True)
        if collided:
            raise FederatedError(f"The values of columns {collided} kept colliding in their hash slots.")
        request = plan.refine_request()
        if request is not None:
            plan.read_refinement(run(request), request, earlier)

    def generate(self, n_samples: int, seed: int | None = 0) -> pa.Table:
        """``n_samples`` rows from the trained model (an Arrow table)."""
        if self.model is None:
            raise FederatedError("Train the federation first (FederatedGenerator.train).")
        return self.model.sample_rows(np.arange(int(n_samples), dtype=np.int64), key=derive_key(str(seed), "federated"))

    def register(self, con: duckdb.DuckDBPyConnection, name: str):
        """Store the trained model in ``con``'s catalog as the next version of ``name`` (with lineage)."""
        if self.model is None:
            raise FederatedError("Train the federation first (FederatedGenerator.train).")
        from genesis_sql.federated.registry import register_federated

        return register_federated(con, name, self.model, self.info)
