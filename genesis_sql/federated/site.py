"""A data site: its rows stay in its own DuckDB; it answers the aggregator's messages with masked sums.

:meth:`DataSite.handle` is the site's whole interface (the in-process simulator calls it directly, the
Flower ClientApp calls it for each message): ``hello`` (identity key, column metadata, rows fingerprint;
with ``epsilon`` it spends from the site's privacy ledger first), then per round ``advertise``,
``share``, ``update`` (the statistics, masked and signed) and ``reveal`` (genesis_sql.federated.secure).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow.compute as pc
from nacl.signing import SigningKey

from genesis_sql.catalog import apply_migrations
from genesis_sql.errors import FederatedError
from genesis_sql.federated import privacy
from genesis_sql.federated import statistics as st
from genesis_sql.federated._wire import pack_words
from genesis_sql.federated.secure import SecureSumClient, _sign
from genesis_sql.lineage.fingerprint import rows_fingerprint
from genesis_sql.models._columns import MAX_DISCRETE_VALUES
from genesis_sql.schema import detect_schema


@dataclass(frozen=True)
class SiteConfig:
    """How a site takes part.

    Args:
        name: the site's name (``^[A-Za-z0-9_.-]+$``), as the aggregator and the lineage know it.
        weight: kept for the seed's interface; sufficient statistics weight every row equally, so sites
            are weighted by their row counts, never by this.
        privacy_budget: the most epsilon this site spends on federated training in total (its ledger).
        min_samples: the site declines to take part with fewer rows than this.
    """

    name: str
    weight: float = 1.0
    privacy_budget: float = 10.0
    min_samples: int = 1


class DataSite:
    """One site: a DuckDB connection holding its rows, the query selecting them, and its keys.

    Args:
        config: the site's :class:`SiteConfig`.
        con: the site's own DuckDB connection (its privacy ledger lives there too).
        sql: the SELECT giving the site's training rows.
        signing_key: the site's Ed25519 identity key (hex seed or key); a fresh one when omitted.
    """

    def __init__(self, config: SiteConfig, con: duckdb.DuckDBPyConnection, sql: str,
                 signing_key: SigningKey | None = None) -> None:
        self.config = config
        self.name = config.name
        self.con = con
        self.sql = sql
        self.client = SecureSumClient(config.name, signing_key)
        self._rows: st.SiteTable | None = None
        self._session: dict[str, Any] = {}

    @property
    def n_samples(self) -> int:
        """The site's row count (known to the site only; the aggregator sees sums)."""
        return self._table().table.num_rows

    def _table(self) -> st.SiteTable:
        if self._rows is None:
            from genesis_sql.api import _source_relation

            query, _ = _source_relation(self.con, self.sql)
            self._rows = st.SiteTable(self.con.sql(query).to_arrow_table())
        return self._rows

    def initialize(self, method: str = "copula") -> None:
        """Check the site can train ``method`` (the copula is the federated method) and read its rows."""
        if method != "copula":
            raise FederatedError(f"Federated training supports method='copula', not {method!r}: the copula's "
                                 "sufficient statistics are sums, which secure aggregation adds exactly.")
        self._table()

    def train_local(self, request: dict[str, Any], schema: list[dict[str, Any]]) -> dict[str, np.ndarray]:
        """This site's statistics for one round, in the clear (what the masked update carries)."""
        return st.compute(self._table(), request, schema)

    def export_state(self) -> dict[str, Any]:
        """What the site keeps between messages (session, open rounds' secrets, agreed codecs), as JSON."""
        table = self._rows
        return {"session": self._session, "rounds": self.client.export_rounds(),
                "codecs": table.codec_states if table else {}, "layouts": table.layouts if table else {}}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Inverse of :meth:`export_state`."""
        self._session = dict(state.get("session", {}))
        self.client.restore_rounds(state.get("rounds", {}))
        if state.get("codecs"):
            table = self._table()
            table.codec_states, table.layouts = state["codecs"], dict(state.get("layouts", {}))

    def handle(self, phase: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Answer one protocol message (see the module docstring)."""
        handlers = {"hello": self._hello, "advertise": lambda p: self.client.advertise(p["round"]),
                    "share": lambda p: self.client.share(p["round"], p["directory"], p["verify_keys"], p["threshold"]),
                    "update": self._update,
                    "reveal": lambda p: self.client.reveal(p["round"], p["survivors"], p["dropped"])}
        if phase not in handlers:
            raise FederatedError(f"Site {self.name!r} got an unknown message {phase!r}.")
        return handlers[phase](payload)

    def _hello(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.initialize(payload.get("method", "copula"))
        table = self._table().table
        if table.num_rows < self.config.min_samples:
            raise FederatedError(f"Site {self.name!r} has {table.num_rows} rows, fewer than its min_samples "
                                 f"{self.config.min_samples}; it does not take part.")
        from genesis_sql.api import _source_relation

        query, types = _source_relation(self.con, self.sql)
        specs = detect_schema(table, types, payload.get("column_types"))
        epsilon, delta = privacy.check_privacy(payload.get("epsilon"), payload.get("delta"))
        self._session = {"id": payload["session"], "epsilon": epsilon, "delta": delta,
                         "guaranteed": int(payload["sites"]) - int(payload["max_dropouts"]), "noisy_rounds": 0}
        if epsilon is not None:
            apply_migrations(self.con)
            privacy.spend(self.con, site=self.name, model=payload.get("model", ""), epsilon=epsilon, delta=delta,
                          limit=self.config.privacy_budget, session=payload["session"], source=self.sql)
        # Distinct values per column, capped just above the discrete limit: sizes the hash slots of the
        # values agreed exactly (categories, and numbers with few values at every site).
        distinct = {c.name: min(int(pc.count_distinct(table.column(c.name)).as_py()), MAX_DISCRETE_VALUES + 1)
                    for c in specs if c.kind not in ("id", "text")}
        fingerprint = rows_fingerprint(self.con, query)
        return _sign(self.client.signing_key, {
            "site": self.name, "verify_key": self.client.verify_key,
            "columns": [{"name": c.name, "sql_type": c.sql_type, "kind": c.kind} for c in specs],
            "distinct": distinct, "fingerprint": fingerprint.rows_hash, "fingerprint_engine": fingerprint.engine})

    def _update(self, payload: dict[str, Any]) -> dict[str, Any]:
        request, schema = payload["request"], payload["schema"]
        entries = st.layout(request, schema)
        sigma = 0.0
        if self._session.get("epsilon") is not None:
            self._session["noisy_rounds"] += 1
            if self._session["noisy_rounds"] > privacy.NOISY_ROUNDS:
                raise FederatedError(f"Site {self.name!r} has answered the {privacy.NOISY_ROUNDS} noised rounds its "
                                     "epsilon was split over; it answers no more in this session.")
            sigma = privacy.site_sigma(st.round_sensitivity(entries), self._session["epsilon"],
                                       self._session["delta"], self._session["guaranteed"])
        values = self.train_local(request, schema)
        words = st.encode_round(values, entries, sigma, np.random.default_rng())
        if "participants" in payload:
            return self.client.masked_update(payload["round"], words, payload["participants"], payload["shares"])
        return _sign(self.client.signing_key, {"site": self.name, "round": payload["round"], "length": int(words.size),
                                               "vector": pack_words(words)})

