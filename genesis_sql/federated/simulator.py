"""The in-process federation: sites as separate in-memory DuckDB databases, messages as JSON text.

Every message goes through ``json.dumps``/``json.loads`` as it would over a network, and the simulator
keeps what the aggregator received (``received``) and the bytes each site sent and got per message.
"""
from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from genesis_sql.api import FitSummary, _source_relation
from genesis_sql.errors import FederatedError, GenesisError, InvalidArgumentError
from genesis_sql.federated.aggregator import ModelAggregator, SecureAggregator
from genesis_sql.federated.generator import FederatedGenerator
from genesis_sql.federated.site import DataSite, SiteConfig

# Non-IID splits draw each value's shares of the sites from a Dirichlet with this concentration.
NON_IID_ALPHA = 0.5


class LocalExchange:
    """Delivers messages to in-process sites, as JSON, recording what the aggregator sends and receives.

    Args:
        sites: the sites.
        dropouts: site name -> the statistics round (1-based) from which it stops answering.
    """

    def __init__(self, sites: list[DataSite], dropouts: dict[str, int] | None = None) -> None:
        self._sites = {s.name: s for s in sites}
        self.dropouts = dict(dropouts or {})
        self.received: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []
        self.traffic: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.failures: dict[str, str] = {}
        self._updates = 0

    @property
    def sites(self) -> list[str]:
        """The names of the sites."""
        return list(self._sites)

    def _gone(self, site: str) -> bool:
        start = self.dropouts.get(site)
        return start is not None and self._updates >= start

    def call(self, phase: str, payloads: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        if phase == "update":
            self._updates += 1
        replies = {}
        for site, payload in payloads.items():
            if site in self.failures or self._gone(site):
                continue
            sent = json.dumps(payload)
            try:
                reply = self._sites[site].handle(phase, json.loads(sent))
            except GenesisError as exc:
                self.failures[site] = str(exc)
                continue
            text = json.dumps(reply)
            self.traffic[site][f"{phase}_down"] += len(sent)
            self.traffic[site][f"{phase}_up"] += len(text)
            self.sent.append({"phase": phase, "site": site, "message": json.loads(sent)})
            self.received.append({"phase": phase, "site": site, "message": json.loads(text)})
            replies[site] = json.loads(text)
        return replies


class FederatedTrainingSimulator:
    """Splits one table over ``n_sites`` in-memory sites and trains a federated copula across them.

    Args:
        n_sites: how many sites.
        seed: the split's and the fit's seed.
        min_sites: fewer surviving sites than this stop training.
        max_dropouts: dropouts secure aggregation recovers from (default ``(n_sites - 1) // 2``).
        secure: False sums plaintext vectors (a baseline; the aggregator then sees each site's statistics).

    Example:
        >>> sim = FederatedTrainingSimulator(n_sites=3, seed=0)            # doctest: +SKIP
        >>> sim.setup_non_iid(con, "SELECT * FROM customers", column="state")
        >>> sim.simulate_training(con, "customers_fed", method="copula")
    """

    def __init__(self, n_sites: int = 3, seed: int = 0, *, min_sites: int = 2, max_dropouts: int | None = None,
                 secure: bool = True) -> None:
        if isinstance(n_sites, bool) or not isinstance(n_sites, int) or n_sites < 2:
            raise InvalidArgumentError(f"n_sites must be a whole number >= 2 (a federation of one is a plain fit). "
                                       f"Got {n_sites!r}.")
        self.n_sites = n_sites
        self.seed = seed
        self.aggregator = SecureAggregator(min_sites=min_sites, max_dropouts=max_dropouts) if secure \
            else ModelAggregator(min_sites=min_sites)
        self.sites: list[DataSite] = []
        self.exchange: LocalExchange | None = None
        self.generator: FederatedGenerator | None = None

    @property
    def received(self) -> list[dict[str, Any]]:
        """Every message the aggregator received in the last training (phase, site, message)."""
        return self.exchange.received if self.exchange is not None else []

    def _rows(self, con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
        query, _ = _source_relation(con, sql)
        table = con.sql(query).to_arrow_table()
        if table.num_rows < self.n_sites:
            raise FederatedError(f"{table.num_rows} rows cannot be split over {self.n_sites} sites.")
        return table

    def _make_sites(self, table: pa.Table, parts: list[np.ndarray]) -> list[DataSite]:
        self.sites = []
        for k, rows in enumerate(parts):
            site_con = duckdb.connect()
            site_con.register("site_part", table.take(pa.array(np.sort(rows))))
            site_con.execute("CREATE TABLE site_rows AS SELECT * FROM site_part")
            site_con.unregister("site_part")
            self.sites.append(DataSite(SiteConfig(f"site_{k}"), site_con, "SELECT * FROM site_rows"))
        return self.sites

    def setup_from_data(self, con: duckdb.DuckDBPyConnection, sql: str) -> list[DataSite]:
        """IID sites: the rows of ``sql`` shuffled (by seed) and split into near-equal parts."""
        table = self._rows(con, sql)
        order = np.random.default_rng(self.seed).permutation(table.num_rows)
        return self._make_sites(table, np.array_split(order, self.n_sites))

    def setup_non_iid(self, con: duckdb.DuckDBPyConnection, sql: str, column: str) -> list[DataSite]:
        """Non-IID sites: each value of ``column`` is spread over the sites in Dirichlet(0.5) shares, so
        the sites differ in that column's mix (label skew) and everything that depends on it."""
        table = self._rows(con, sql)
        names = {n.lower(): n for n in table.column_names}
        if not isinstance(column, str) or column.lower() not in names:
            raise InvalidArgumentError(f"setup_non_iid: no column {column!r}; columns: {table.column_names}.")
        values = [json.dumps(v) for v in table.column(names[column.lower()]).to_pylist()]
        rng = np.random.default_rng(self.seed)
        groups: dict[str, list[int]] = defaultdict(list)
        for row, value in enumerate(values):
            groups[value].append(row)
        for _ in range(100):
            parts: list[list[int]] = [[] for _ in range(self.n_sites)]
            for value in sorted(groups):
                rows = rng.permutation(groups[value])
                shares = rng.dirichlet(np.full(self.n_sites, NON_IID_ALPHA))
                cuts = np.round(np.cumsum(shares)[:-1] * rows.size).astype(np.int64)
                for k, piece in enumerate(np.split(rows, cuts)):
                    parts[k].extend(piece.tolist())
            if min(len(p) for p in parts) >= max(1, table.num_rows // (20 * self.n_sites)):
                return self._make_sites(table, [np.asarray(p, dtype=np.int64) for p in parts])
        raise FederatedError(f"Could not split by {column!r} so that every one of {self.n_sites} sites has rows.")

    def simulate_training(self, con: duckdb.DuckDBPyConnection, name: str, method: str = "copula", *,
                          epsilon: float | None = None, delta: float | None = None,
                          column_types: dict[str, str] | None = None,
                          dropouts: dict[int, int] | None = None) -> FitSummary:
        """Train across the sites and register the aggregate as model ``name`` in ``con``.

        Args:
            epsilon, delta: record-level DP of the shared statistics (None: no DP).
            dropouts: site index -> statistics round (1-based) from which that site stops answering.
        """
        if not self.sites:
            raise FederatedError("Set the sites up first: setup_from_data(con, sql) or "
                                 "setup_non_iid(con, sql, column).")
        self.aggregator.refused.clear()
        self.exchange = LocalExchange(self.sites, {self.sites[k].name: r for k, r in (dropouts or {}).items()})
        self.generator = FederatedGenerator(self.sites, self.aggregator, exchange=self.exchange, seed=self.seed)
        self.generator.train(name=name, method=method, epsilon=epsilon, delta=delta, column_types=column_types)
        return self.generator.register(con, name)
