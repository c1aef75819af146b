"""The aggregator's half of a federated copula fit: requests out, summed statistics in, a copula at the end.

The result is the same Gaussian copula ``genesis_sql.fit(..., method="copula")`` builds on the pooled
rows, computed from sums only: the schema is agreed from the sites' column metadata; the marginals come
from the summed histograms (exact on lattices, where the pooled values are known exactly; within a
quantile bin otherwise), to which the ordinary codecs are fitted; the category layout follows the
principal axis of the summed score cross-products, twice, as the centralised fit does; the latent
correlation inverts the pooled Pearson correlation through each marginal's coarsening
(genesis_sql.models._latent_correlation).
"""
from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pyarrow as pa
from scipy.special import ndtri

from genesis_sql.errors import FederatedError
from genesis_sql.federated import statistics as st
from genesis_sql.federated._wire import pack_array
from genesis_sql.models._columns import (
    _DATETIME_STEPS_US,
    MAX_DISCRETE_VALUES,
    CategoricalCodec,
    Codec,
    IdCodec,
    NumericCodec,
    arrow_type,
)
from genesis_sql.models._identity import DEFAULT_LOCALE
from genesis_sql.models._latent_correlation import hermite_coefficients, invert_correlation
from genesis_sql.models.copula import GaussianCopula
from genesis_sql.schema import MAX_CATEGORICAL_NUMBERS, ColumnSpec, base_type

_NUMBER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
                 "HUGEINT", "FLOAT", "DOUBLE", "REAL", "DECIMAL")
_INTEGER_TYPES = _NUMBER_TYPES[:9]
# Quantile bins of a column whose values are not on a small lattice, and fine bins over each extreme.
QUANTILE_BINS = 2048
EXTREME_BINS = 64
# The copula's category layout is refined this many times (genesis_sql.models.copula._LAYOUT_ROUNDS).
LAYOUT_ROUNDS = 2
# Pooled marginals are rebuilt as at most this many pseudo-values per column (scaled counts beyond).
PSEUDO_LIMIT = 2_000_000
# Slots per categorical value (the expected number of values sharing a slot is about 1 / (2 x this)).
SLOTS_PER_VALUE = 64
MAX_SLOTS = 2**16
# A quantile bin whose values spread less than this (in units of the bin's width, as a uniform's range)
# holds one repeated value.
POINT_MASS_SPREAD = 1e-4
# Mixed quantile bins (several distinct values) refined in a third round, per column, and parts per bin.
REFINE_BINS = 256
REFINE_PARTS = 64
# Under DP, integer ids start here (the largest id is not released).
PRIVATE_ID_BITS = 62
# Retries of a categorical domain whose values collided in a slot (each with a new salt).
DOMAIN_RETRIES = 4


def resolve_schema(schemas: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One column schema from each site's (name, DuckDB type, locally detected kind) list.

    Names and types must agree. A kind detected alike everywhere is kept; where sites disagree, the
    pooled data decides as ``detect_schema`` would: a number column that is categorical at some sites
    and numeric at others is numeric (pooled, it has more distinct values), an identifier at only some
    sites is not one.
    """
    sites = sorted(schemas)
    first = schemas[sites[0]]
    for site in sites[1:]:
        theirs = [(c["name"], c["sql_type"]) for c in schemas[site]]
        ours = [(c["name"], c["sql_type"]) for c in first]
        if theirs != ours:
            raise FederatedError(f"Sites disagree on the columns: {sites[0]} has {ours}, {site} has {theirs}. Every "
                                 "site must run a query with the same column names and types.")
    resolved = []
    for position, column in enumerate(first):
        kinds = {schemas[s][position]["kind"] for s in sites}
        base = base_type(column["sql_type"])
        if len(kinds) == 1:
            kind = kinds.pop()
        elif "text" in kinds:
            kind = "text"
        elif base in _NUMBER_TYPES:
            kind = "numeric" if "numeric" in kinds or base not in _INTEGER_TYPES else "integer"
        else:
            kind = "categorical"
        resolved.append({"name": column["name"], "kind": kind, "sql_type": column["sql_type"], "nullable": False})
    texts = [c["name"] for c in resolved if c["kind"] == "text"]
    if texts:
        raise FederatedError(
            f"Columns {texts} are free text, whose words federated training does not share. Leave them out of the "
            "sites' query, or declare them categorical with column_types if their values are few.")
    return resolved


def _python_value(text: str, spec: ColumnSpec) -> Any:
    value = json.loads(text)
    if value is not None and base_type(spec.sql_type) in _INTEGER_TYPES and isinstance(value, float):
        value = int(value)
    return value


class CopulaAggregation:
    """Drives the rounds of one federated copula fit from the aggregator's side.

    Args:
        schemas: each site's column metadata, from its hello.
        distinct: each site's count of distinct values per categorical column (sizes the hash slots).
        seed: the fit's seed (the copula's ``random_state``).
        clip: per-row L2 clip of the normal scores under DP (None: no DP).
        threshold: noisy count below which a slot or bin is taken as empty (0.5 without DP).
    """

    def __init__(self, schemas: dict[str, list[dict[str, Any]]], distinct: dict[str, dict[str, int]], *,
                 seed: int = 0, clip: float | None = None, threshold: float = 0.5) -> None:
        self.schema = resolve_schema(schemas)
        self.seed = seed
        self.clip = clip
        self.threshold = threshold
        self.private = False
        self.rows = 0.0
        self.sites = max(len(distinct), 1)
        self.salts: dict[int, str] = {}
        self.slots: dict[int, int] = {}
        self.domains: dict[int, dict[str, Any]] = {}
        self.hist_plans: dict[int, dict[str, Any]] = {}
        self.categories: dict[int, tuple[list[str], np.ndarray]] = {}
        self.discrete: dict[int, tuple[list[str], np.ndarray]] = {}
        self.known: dict[int, dict[str, float]] = {}
        self.numbers: dict[int, np.ndarray] = {}
        self.codecs: dict[int, Codec] = {}
        self.specs: list[ColumnSpec] = []
        self.refine_plans: dict[int, dict[str, Any]] = {}
        self.refined: dict[int, dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
        self._layout_round = 0
        for i, column in enumerate(self.schema):
            local = [d.get(column["name"], MAX_DISCRETE_VALUES + 1) for d in distinct.values()]
            # A number column with few values at every site may have few pooled: its values are agreed
            # exactly like categories, and the histogram is the fallback when there turn out to be many.
            if self._mode(i) == "slots" or (self._mode(i) == "numeric" and max(local) <= MAX_DISCRETE_VALUES):
                total = sum(local)
                self.slots[i] = int(min(MAX_SLOTS, 2 ** math.ceil(math.log2(max(64, SLOTS_PER_VALUE * total)))))
                self.salts[i] = f"{seed}:{i}:0"

    # ---- the rounds ----

    def _mode(self, i: int) -> str:
        kind = self.schema[i]["kind"]
        return {"boolean": "fixed", "categorical": "slots", "id": "id"}.get(kind, "numeric")

    def domain_request(self, columns: list[int] | None = None) -> dict[str, Any]:
        """The first round (or a retry for ``columns`` whose categorical values collided)."""
        plans = []
        for i in (columns if columns is not None else range(len(self.schema))):
            mode = "slots" if columns is not None else self._mode(i)
            plan: dict[str, Any] = {"index": i, "mode": mode}
            if i in self.slots:
                plan.update(slots=self.slots[i], salt=self.salts[i], exclude=sorted(self.known.get(i, {})))
            elif mode == "fixed":
                plan["values"] = ["false", "true", "null"]
            elif mode == "id":
                plan["integer"] = base_type(self.schema[i]["sql_type"]) in _INTEGER_TYPES
            plans.append(plan)
        return {"kind": "domain", "columns": plans}

    def read_domain(self, totals: dict[str, np.ndarray], request: dict[str, Any]) -> None:
        """Take in the domain round's sums: row count, occupied slots, grids, precisions."""
        self.rows = max(float(totals["rows"][0]), 1.0)
        for plan in request["columns"]:
            i, mode = plan["index"], plan["mode"]
            if "slots" in plan:
                counts = totals[f"{i}.slots"]
                occupied = np.flatnonzero(counts > self.threshold)
                chunks = np.flatnonzero(totals[f"{i}.chunks"] > self.threshold)
                # Under DP the per-site one-hots drown in the noise: the longest values are assumed.
                longest = st.MAX_CHUNKS if self.private else int(chunks.max()) if chunks.size else 1
                self.domains[i] = {"slots": occupied.tolist(), "counts": counts[occupied], "chunks": longest}
            if mode == "fixed":
                counts = totals[f"{i}.counts"]
                keep = counts > self.threshold
                self.categories[i] = ([v for v, k in zip(plan["values"], keep) if k], counts[keep])
            elif mode == "numeric":
                self.hist_plans[i] = self._histogram_plan(i, totals[f"{i}.grid"], totals[f"{i}.precision"])
                self.hist_plans[i]["nulls"] = max(0.0, float(totals[f"{i}.nulls"][0]))
            elif mode == "id":
                bits = np.flatnonzero(totals[f"{i}.bits"] > self.threshold)
                top = PRIVATE_ID_BITS if self.private else int(bits.max()) if bits.size else 0
                self.domains[i] = {"start": 2**top if plan["integer"] else 0,
                                   "integer": plan["integer"]}

    def _histogram_plan(self, i: int, grid: np.ndarray, precision: np.ndarray) -> dict[str, Any]:
        spec = self.schema[i]
        occupied = np.flatnonzero(grid > self.threshold)
        plan: dict[str, Any] = {"index": i, "mode": "hist"}
        seen = np.flatnonzero(precision > self.threshold)
        finest = st.PRECISION_SLOTS - 1 if self.private else int(seen.max()) if seen.size else 0
        step: float | None
        if spec["kind"] == "datetime" and pa.types.is_timestamp(arrow_type(spec["sql_type"])):
            step = float(_DATETIME_STEPS_US[min(finest, len(_DATETIME_STEPS_US) - 1)])
            plan.update(step_=step, decimals_=None)
        elif spec["kind"] in ("integer", "datetime") or base_type(spec["sql_type"]) in _INTEGER_TYPES:
            step = 1.0
            plan.update(step_=1.0, decimals_=None)
        else:
            decimals = None if finest >= st.PRECISION_SLOTS - 1 else finest
            step = 10.0 ** -decimals if decimals is not None else None
            plan.update(step_=0.0, decimals_=decimals)
        if occupied.size == 0:
            plan.update(lo=0.0, step=1.0, size=1)
            return plan
        low = st.grid_bounds(int(occupied[0]))[0]
        high = st.grid_bounds(int(occupied[-1]))[1]
        low, high = max(low, -10.0**st.HIGH_DECADE), min(high, 10.0**st.HIGH_DECADE)
        if step is not None:
            first, last = math.floor(low / step), math.ceil(high / step)
            if last - first + 1 <= st.LATTICE_LIMIT:
                plan.update(lo=first * step, step=step, size=int(last - first + 1))
                return plan
        counts = grid[occupied]
        bounds = np.array([st.grid_bounds(int(k)) for k in occupied])
        bounds = np.clip(bounds, -10.0**st.HIGH_DECADE, 10.0**st.HIGH_DECADE)
        points = np.concatenate([[bounds[0, 0]], bounds[:, 1]])
        cumulative = np.concatenate([[0.0], np.cumsum(counts)])
        quantiles = np.interp(np.linspace(0.0, cumulative[-1], QUANTILE_BINS + 1), cumulative, points)
        edges = [quantiles, np.linspace(bounds[0, 0], bounds[0, 1], EXTREME_BINS + 1),
                 np.linspace(bounds[-1, 0], bounds[-1, 1], EXTREME_BINS + 1)]
        if st.SIDE_BINS in occupied:
            edges.append(np.array([0.0, np.nextafter(0.0, 1.0)]))
        plan["edges"] = np.unique(np.concatenate(edges)).tolist()
        return plan

    def marginal_request(self) -> dict[str, Any]:
        """The second round: the values behind occupied slots, and every numeric column's histogram."""
        plans = []
        for i, domain in self.domains.items():
            if "slots" in domain and i not in self.categories and i not in self.discrete:
                plans.append({"index": i, "mode": "labels", "slots": domain["slots"], "slots_total": self.slots[i],
                              "salt": self.salts[i], "chunks": max(domain["chunks"], 1),
                              "exclude": sorted(self.known.get(i, {}))})
        for i, plan in self.hist_plans.items():
            if i not in self.numbers:
                plans.append({k: v for k, v in plan.items() if k in ("index", "mode", "lo", "step", "size", "edges")})
        return {"kind": "marginals", "columns": plans}

    def read_marginals(self, totals: dict[str, np.ndarray], request: dict[str, Any], *, retry: bool) -> list[int]:
        """Take in values and histograms; returns the categorical columns to run again: values that
        decoded cleanly are kept, those that shared a slot go again with a new salt (``exclude`` keeps the
        known ones out). A number column whose values collide takes its histogram instead."""
        collided = []
        for plan in request["columns"]:
            i = plan["index"]
            if plan["mode"] != "labels":
                self.numbers[i] = self._pseudo_values(i, totals)
                self.plan_refinement(i, totals)
                continue
            values, counts, lost = self._labels(i, plan, totals)
            if self._mode(i) == "numeric":
                self.discrete[i] = (values, counts) if not lost else ([], np.zeros(0))
                continue
            known = self.known.setdefault(i, {})
            known.update(zip(values, counts))
            if lost and retry:
                collided.append(i)
                self.salts[i] = f"{self.seed}:{i}:{int(self.salts[i].rsplit(':', 1)[1]) + 1}"
                self.slots[i] = int(min(MAX_SLOTS, 2 ** math.ceil(math.log2(max(64, SLOTS_PER_VALUE * 2 * lost)))))
                continue
            self.categories[i] = (list(known), np.asarray(list(known.values()), dtype=np.float64))
        return collided

    def _labels(self, i: int, plan: dict[str, Any],
                totals: dict[str, np.ndarray]) -> tuple[list[str], np.ndarray, int]:
        """The values decoded cleanly, their counts, and how many occupied slots held several values."""
        present = np.round(totals[f"{i}.present"]).astype(np.int64)
        chunks = plan["chunks"]
        labels = np.round(totals[f"{i}.label"]).astype(np.int64).reshape(-1, chunks) if present.size else \
            np.zeros((0, chunks), dtype=np.int64)
        checks = np.round(totals[f"{i}.check"]).astype(np.int64)
        multi = totals[f"{i}.multi"]
        counts = self.domains[i]["counts"]
        values, kept, lost = [], [], 0
        for k, slot in enumerate(plan["slots"]):
            holders = int(present[k])
            if holders <= 0:
                continue
            text = None
            if not (multi[k] > 0 or np.any(labels[k] % holders) or checks[k] % holders):
                try:
                    text = st.text_of(labels[k] // holders)
                except (UnicodeDecodeError, OverflowError, ValueError):
                    text = None
            if text is None or st.checksum_of(text, plan["salt"]) != checks[k] // holders or \
                    st.slot_of(text, plan["salt"], plan["slots_total"]) != slot:
                lost += 1
                continue
            values.append(text)
            kept.append(counts[k])
        return values, np.asarray(kept, dtype=np.float64), lost

    def _pseudo_values(self, i: int, totals: dict[str, np.ndarray]) -> np.ndarray:
        """The pooled column rebuilt from its histogram: lattice points repeated by their counts (exact);
        in a quantile bin (or a refined part of one), its count at the bin's mean when the values' spread
        is nil (a repeated value), else spread evenly with the bin's mean and variance; NULLs as NaN."""
        plan = self.hist_plans[i]
        hist = totals[f"{i}.hist"]
        counts = np.maximum(np.round(hist), 0).astype(np.int64)
        nulls = int(round(plan["nulls"]))
        scale = min(1.0, PSEUDO_LIMIT / max(counts.sum() + nulls, 1))
        if "size" in plan:
            points = plan["lo"] + np.arange(plan["size"]) * plan["step"]
            values = np.repeat(points, np.round(counts * scale).astype(np.int64))
            if plan["step"] < 1:
                values = np.round(values, plan.get("decimals_") or 0)
            return np.concatenate([values, np.full(int(round(nulls * scale)), np.nan)])
        edges = np.asarray(plan["edges"])
        refined = self.refined.get(i, {})
        decimals = plan.get("decimals_")
        parts = []
        for b in np.flatnonzero(counts):
            width = edges[b + 1] - edges[b]
            if b in refined:
                sub_counts, sub_s1, sub_s2 = refined[b]
                step = width / sub_counts.size
                for k in np.flatnonzero(np.round(sub_counts) > 0):
                    parts.append(_bin_values(edges[b] + k * step, step, sub_counts[k], sub_s1[k], sub_s2[k], scale,
                                             decimals, self.sites))
                continue
            parts.append(_bin_values(edges[b], width, hist[b], totals[f"{i}.offset"][b], totals[f"{i}.offset2"][b],
                                     scale, decimals, self.sites))
        values = np.concatenate(parts) if parts else np.zeros(0)
        return np.concatenate([values, np.full(int(round(nulls * scale)), np.nan)])

    def plan_refinement(self, i: int, totals: dict[str, np.ndarray]) -> None:
        """Pick the quantile bins of column ``i`` that hold several distinct values, to split them finer."""
        plan = self.hist_plans[i]
        if "edges" not in plan:
            return
        edges = np.asarray(plan["edges"])
        hist, s1, s2 = totals[f"{i}.hist"], totals[f"{i}.offset"], totals[f"{i}.offset2"]
        raw = np.maximum(hist, 1e-12)
        mean = s1 / raw
        spread = np.sqrt(np.maximum(s2 / raw - mean**2, 0.0) * 12.0)
        mixed = np.flatnonzero((hist >= max(2.0, 2 * self.threshold)) & (spread >= POINT_MASS_SPREAD)
                               & (np.diff(edges) > 1e-200))
        chosen = mixed[np.argsort(-hist[mixed], kind="stable")][:REFINE_BINS]
        if chosen.size:
            self.refine_plans[i] = {"index": i, "mode": "refine", "edges": plan["edges"],
                                    "bins": sorted(int(b) for b in chosen), "parts": REFINE_PARTS}

    def refine_request(self) -> dict[str, Any] | None:
        """The refinement round (finer parts of mixed quantile bins), or None when no bin needs it."""
        if not self.refine_plans:
            return None
        return {"kind": "marginals", "columns": list(self.refine_plans.values())}

    def read_refinement(self, totals: dict[str, np.ndarray], request: dict[str, Any],
                        earlier: dict[str, np.ndarray]) -> None:
        """Take in the refined parts and rebuild those columns."""
        for plan in request["columns"]:
            i, parts = plan["index"], plan["parts"]
            shape = (len(plan["bins"]), parts)
            counts = totals[f"{i}.hist"].reshape(shape)
            s1, s2 = totals[f"{i}.offset"].reshape(shape), totals[f"{i}.offset2"].reshape(shape)
            self.refined[i] = {b: (counts[k], s1[k], s2[k]) for k, b in enumerate(plan["bins"])}
            self.numbers[i] = self._pseudo_values(i, earlier)

    # ---- codecs ----

    def build_codecs(self) -> None:
        """The pooled marginals as the copula's own codecs (each fitted as the centralised fit does)."""
        rng = np.random.default_rng(self.seed)
        self.specs = []
        for i, column in enumerate(self.schema):
            spec = ColumnSpec(column["name"], column["kind"], column["sql_type"], False)
            mode = self._mode(i)
            if mode == "id":
                domain = self.domains[i]
                self.specs.append(spec)
                self.codecs[i] = IdCodec.from_state(spec, {"integer": domain["integer"], "start": domain["start"],
                                                           "style": None, "locale": DEFAULT_LOCALE, "domains": [],
                                                           "source": None}, {})
                continue
            if mode in ("slots", "fixed"):
                texts, counts = self.categories[i]
                values = [_python_value(t, spec) for t in texts]
                numeric = base_type(spec.sql_type) in _NUMBER_TYPES and spec.kind == "categorical"
                if numeric and len(values) > MAX_CATEGORICAL_NUMBERS and None not in values:
                    # Categorical at every site, but too many values pooled: a number, as detect_schema says.
                    spec = ColumnSpec(spec.name, "integer" if base_type(spec.sql_type) in _INTEGER_TYPES else "numeric",
                                      spec.sql_type, False)
                    self.numbers[i] = np.repeat(np.asarray(values, dtype=np.float64),
                                                np.maximum(np.round(counts), 0).astype(np.int64))
                    self.hist_plans[i] = {"step_": None, "decimals_": None}
                else:
                    spec = ColumnSpec(spec.name, spec.kind, spec.sql_type, None in values)
                    self.specs.append(spec)
                    self.codecs[i] = _categorical_codec(spec, values, counts)
                    continue
            texts, counts = self.discrete.get(i, ([], np.zeros(0)))
            if 0 < len(texts) <= MAX_DISCRETE_VALUES + 1:
                # Few pooled values, known exactly: the pooled column itself, as the centralised fit sees it.
                values = [_python_value(t, spec) for t in texts]
                self.numbers[i] = np.repeat(np.array([np.nan if v is None else v for v in values], dtype=np.float64),
                                            np.maximum(np.round(counts), 0).astype(np.int64))
                self.hist_plans[i] = {"step_": None, "decimals_": None}
            x = self.numbers[i]
            spec = ColumnSpec(spec.name, spec.kind, spec.sql_type, bool(np.isnan(x).any()))
            codec = NumericCodec(spec).fit(pa.chunked_array([pa.array(x, from_pandas=True)]), rng)
            plan = self.hist_plans[i]
            if plan.get("step_") is not None:
                codec.step_, codec.decimals_ = plan["step_"], plan["decimals_"]
            self.specs.append(spec)
            self.codecs[i] = codec
        self.latent = [i for i in range(len(self.schema)) if self.codecs[i].latent]

    def codec_states(self) -> dict[str, Any]:
        """The latent codecs as JSON (meta plus packed arrays), sent to the sites for the score rounds."""
        out = {}
        for i in self.latent:
            meta, arrays = self.codecs[i].to_state()
            out[str(i)] = {"meta": meta, "arrays": {k: pack_array(v) for k, v in arrays.items()}}
        return out

    def scores_request(self) -> dict[str, Any]:
        """A score round: codecs in the first, the refreshed category layouts after."""
        categories = {str(j): len(self.codecs[i].categories_) for j, i in enumerate(self.latent)
                      if isinstance(self.codecs[i], CategoricalCodec) and len(self.codecs[i].categories_) >= 3
                      and self._layout_round < LAYOUT_ROUNDS}
        request: dict[str, Any] = {"kind": "scores", "latent": self.latent, "categories": categories, "clip": self.clip}
        if self._layout_round == 0:
            request["codecs"] = self.codec_states()
        else:
            request["layouts"] = {str(i): self.codecs[i].layout_.tolist() for i in self.latent
                                  if isinstance(self.codecs[i], CategoricalCodec)}
        return request

    @property
    def layouts_done(self) -> bool:
        """Whether the category layout rounds are over (the next score round is the final one)."""
        return self._layout_round >= LAYOUT_ROUNDS

    def _moments(self, totals: dict[str, np.ndarray]) -> tuple[float, np.ndarray, np.ndarray]:
        d = len(self.latent)
        n = max(float(totals["n"][0]), 1.0)
        cross = np.zeros((d, d))
        cross[np.triu_indices(d)] = totals["cross"]
        cross = cross + np.triu(cross, 1).T
        mean = totals["sum"] / n
        return n, mean, cross / n - np.outer(mean, mean)

    @staticmethod
    def _correlation(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        std = np.sqrt(np.maximum(np.diag(cov), 0.0))
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.nan_to_num(cov / np.outer(std, std))
        np.fill_diagonal(corr, np.where(std > 0, 1.0, 0.0))
        return np.clip(corr, -1.0, 1.0), std

    def read_layout(self, totals: dict[str, np.ndarray], request: dict[str, Any]) -> None:
        """Lay categories out along the principal axis of the pooled scores (the copula's _order_categories)."""
        self._layout_round += 1
        if len(self.latent) < 2:
            return
        _, mean, cov = self._moments(totals)
        corr, std = self._correlation(cov)
        axis = np.linalg.eigh(corr)[1][:, -1]
        scale = np.where(std > 0, std, 1.0)
        for key in request["categories"]:
            j = int(key)
            sums = totals[f"cat{j}.sum"].reshape(-1, len(self.latent))
            counts = np.maximum(np.round(totals[f"cat{j}.n"]), 0)
            projection = ((sums - counts[:, None] * mean) / scale) @ axis
            means = projection / np.maximum(counts, 1)
            self.codecs[self.latent[j]].set_layout(np.argsort(means, kind="stable"))

    def finish(self, totals: dict[str, np.ndarray]) -> GaussianCopula:
        """The copula: latent correlation from the pooled Pearson correlation and each marginal's coarsening."""
        if not self.latent:
            return GaussianCopula.assemble(self.specs, [self.codecs[i] for i in range(len(self.schema))],
                                           np.zeros((0, 0)), random_state=self.seed)
        _, _, cov = self._moments(totals)
        observed, _ = self._correlation(cov)
        coefficients = np.stack([hermite_coefficients(self._pooled_scores(i)) for i in self.latent])
        correlation = invert_correlation(observed, coefficients)
        return GaussianCopula.assemble(self.specs, [self.codecs[i] for i in range(len(self.schema))], correlation,
                                       random_state=self.seed)

    def _pooled_scores(self, i: int) -> np.ndarray:
        """Normal scores of the pooled marginal of column ``i`` (its distribution is all the coefficients need)."""
        codec = self.codecs[i]
        if isinstance(codec, CategoricalCodec):
            middles = (codec.lower_ + codec.bounds_) / 2.0
            reps = np.maximum(np.round(codec.probs_ * 100_000), 1).astype(np.int64)
            scores = np.repeat(middles, reps)
        else:
            scores = codec.scores(pa.chunked_array([pa.array(self.numbers[i], from_pandas=True)]))
        return ndtri(np.clip(scores, 1e-12, 1 - 1e-12))


def _categorical_codec(spec: ColumnSpec, values: list[Any], counts: np.ndarray) -> CategoricalCodec:
    """A categorical codec from pooled counts: categories by falling frequency, as the centralised fit orders them."""
    counts = np.maximum(np.asarray(counts, dtype=np.float64), 0.0)
    if not values or counts.sum() <= 0:
        values, counts = [None], np.ones(1)
    order = np.argsort(-counts, kind="stable")
    probs = counts[order] / counts.sum()
    return CategoricalCodec.from_state(spec, {"categories": [values[k] for k in order]},
                                       {"probs": probs, "layout": np.arange(len(values), dtype=np.int64)})


def _bin_values(low: float, width: float, count: float, s1: float, s2: float, scale: float,
                decimals: int | None, sites: int) -> np.ndarray:
    """Pseudo-values of one bin from its count and the sums of its values' positions (0..1) and squares,
    summed over ``sites`` sites."""
    c = int(round(max(count, 0.0) * scale))
    if c == 0:
        return np.zeros(0)
    if width < 1e-200:
        return np.full(c, low)
    raw = max(count, 1e-12)
    mean = min(max(s1 / raw, 0.0), 1.0)
    spread = math.sqrt(max(s2 / raw - mean * mean, 0.0) * 12.0)
    if spread < POINT_MASS_SPREAD:
        point = low + mean * width
        if decimals is not None:
            return np.full(c, round(point, decimals))
        return np.full(c, _exact_point(point, low, width, _point_error(low, width, raw, sites)))
    u = np.clip(mean + spread * ((np.arange(c) + 0.5) / c - 0.5), 0.0, 1.0)
    return low + u * width


def _point_error(low: float, width: float, count: float, sites: int) -> float:
    """How far a repeated value rebuilt from its bin's position sum can lie from the value itself.

    Each site holding rows of the bin rounds its position sum to ``2**-SCORE_BITS`` (half that at most),
    so the mean position is off by ``min(sites, count) * 2**-(SCORE_BITS + 1) / count`` bin widths at
    most; float rounding (the site's subtraction and division, its sum over ``count`` rows, the
    aggregator's product and sum) adds a few units in the last place.
    """
    fixed = min(sites, count) * 2.0 ** -(st.SCORE_BITS + 1) / count
    eps = float(np.finfo(np.float64).eps)
    return width * (fixed + (count + 4) * eps) + 2 * eps * (abs(low) + width)


def _exact_point(point: float, low: float, width: float, error: float) -> float:
    """The repeated value itself: the shortest decimal within ``error`` of ``point`` and inside the bin.

    The real values are doubles read from decimal text, whose shortest decimal is the value; the
    rebuilt one is within ``error`` of it, so the shortest decimal in that reach is the value (or, for a
    value of more digits than the reach resolves, a number no farther from it than ``point`` was).

    Example:
        >>> _exact_point(0.5185185000000035, 0.51851827986, 6.77e-07, 1e-14)
        0.5185185
    """
    for places in range(18):
        candidate = round(point, places)
        if abs(candidate - point) <= error and low <= candidate <= low + width:
            return candidate
    return point
