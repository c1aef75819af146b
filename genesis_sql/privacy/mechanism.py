"""The DP Gaussian copula (``method="dp"``): marginals and dependence released under zCDP, nothing else read.

Privacy proof sketch (neighbouring tables differ by adding or removing one row; everything below is a
Gaussian mechanism, so each step is zCDP and the steps compose by adding their rho):

1. Budget. The declared ``(epsilon, delta)`` (delta defaults to 1e-6, fixed: 1/n^2 would depend on the
   private row count) is split as ``delta_z + delta_t = delta`` with ``delta_t`` reserved for thresholded
   category lists (step 3b) and ``rho = rho_for(epsilon, delta_z)`` (accounting.py), spent as
   ``rho_n + rho_m + rho_c = rho`` (SHARE_COUNT, SHARE_MARGINALS, SHARE_CORRELATION).
2. Row count: one noisy count, sensitivity 1, rho_n.
3. Marginals: ``rho_m`` is split evenly over the modelled columns (one row is in every column's histogram,
   so the per-column budgets add). Each column's histogram has L2 sensitivity 1 (one row moves one count).
   a. Numbers and dates without declared ``public_bounds``: a histogram over a fixed, data-independent
      grid of logarithmic cells (finite, 2 x CELLS cells) with half the column's rho; the released range
      is read off those noisy counts alone (``released_range``: the cells that pass a threshold, or the
      narrowest run of cells whose noisy sum does, reached out to the tail cells whose noisy sums with the
      cells past them pass one; post-processing, no further budget). Then a histogram of the values clipped into that
      range on ``NUMERIC_BINS`` equal bins (integers: one bin per value when the range is small), plus a
      NULL bin, with the other half. With ``public_bounds: [min, max]`` the whole rho goes to the second.
   b. Categories (text, booleans are fixed to true/false) without declared values: Gaussian counts of the
      values present, kept when above ``1 + sigma * Phi^-1(1 - delta_t / k)`` (k: such columns). This is
      the stability-based histogram: outside the zCDP part, a value only one row has is released with
      probability at most ``delta_t / k``, so the column is (epsilon_j, delta_z_j + delta_t / k)-DP. Integer
      columns declared categorical take 3a's range instead and count every integer in it (no threshold).
      With declared values, Gaussian counts of exactly those and NULL (others are dropped). Declared
      values and NULL are kept when their noisy count passes KEEP_SIGMAS (post-processing).
4. Correlation: each row's normal scores ``z`` under the released marginals (a fixed function of the row
   once the marginals are released: post-processing) are scaled down to ``||z||^2 <= d`` (d: latent
   columns); the upper-triangle sums of ``z_j z_k`` then have L2 sensitivity ``<= ||z||^2 / sqrt(2) <= d /
   sqrt(2)`` and get Gaussian noise for rho_c. Divided by the noisy count, standardised by the released
   marginals' own moments, inverted through their coarsening (models._latent_correlation) and projected to
   the nearest correlation matrix: post-processing.

Total: ``rho``-zCDP for the Gaussian parts, hence ``(epsilon_z, delta_z)``-DP with ``epsilon_z <= epsilon``, plus
``delta_t`` for thresholded category lists: ``(epsilon, delta)``-DP. The model holds only the released
statistics; no rules, entity keys, exact bounds, category lists or copy guards are read from the rows.
Column kinds come from SQL types (or ``column_types``), not from the values. A VARCHAR column named like
personal data (``email``, ``ssn``, ``customer_name`` ...; genesis_sql.models._pii) is generated as Faker
fakes that read nothing, like an id: its values are neither released nor used to find it. The noise comes from OS
entropy (``secrets``), not from the fit's seed, which anyone could replay; floating-point attacks on the
Gaussian sampler (Mironov 2012) are not defended against.
"""
from __future__ import annotations

import math
import secrets
from typing import Any

import numpy as np
import pyarrow as pa
from scipy.special import ndtri

from genesis_sql.errors import InvalidArgumentError
from genesis_sql.models._columns import CategoricalCodec, Codec, IdCodec, NumericCodec, _to_float, arrow_type
from genesis_sql.models._identity import DEFAULT_LOCALE
from genesis_sql.models._pii import PII_STYLES, style_by_name
from genesis_sql.models._latent_correlation import hermite_coefficients, invert_correlation
from genesis_sql.models.copula import GaussianCopula
from genesis_sql.privacy.accounting import check_budget, gaussian_sigma, rho_for
from genesis_sql.schema import ColumnSpec, base_type

SHARE_COUNT = 0.02
SHARE_MARGINALS = 0.48
SHARE_CORRELATION = 0.50
# Share of delta kept for the thresholded category lists (step 3b).
SHARE_DELTA_THRESHOLD = 0.5
NUMERIC_BINS = 32
# Integers spanning at most this many values get one bin per value.
INTEGER_LATTICE = 256
# Logarithmic cells per doubling of |x| + 1, and cells per sign (covering |x| up to 2^(CELLS / CELLS_PER_OCTAVE)).
# Coarse on purpose: the range only needs its ends, and a coarse cell gathers more rows above the noise.
CELLS_PER_OCTAVE = 2
CELLS = 2 * 64
# The range's core: the cells whose noisy count exceeds this many noise standard deviations (an empty cell
# passes with probability 3e-7); when none does, the run of the fewest WINDOWS cells whose largest noisy
# sum exceeds as many of its own noise standard deviations (sqrt(width) sigma).
RANGE_THRESHOLD_SIGMAS = 5.0
WINDOWS = (1, 2, 4, 8)
# The core's ends then reach out over at most RANGE_TAIL_CELLS cells on each side, to the farthest cell
# whose noisy sum with the cells past it exceeds RANGE_TAIL_SIGMAS of its noise: a thin tail spread over
# several cells is kept when its rows add up, not only when one cell holds many of them (8 tests per end
# at Phi(-4) = 3e-5 each when nothing lies beyond the core).
RANGE_TAIL_CELLS = 8
RANGE_TAIL_SIGMAS = 4.0
# A declared value, and the NULLs of a column, are kept when their noisy count exceeds this many noise
# standard deviations (post-processing: a column without NULLs then rarely generates any).
KEEP_SIGMAS = 3.0
# Pseudo-values that stand for a released histogram when the ordinary codecs are fitted to it.
PSEUDO_VALUES = 4000
_CLIP = 1e-12
_NUMBER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
                 "HUGEINT", "FLOAT", "DOUBLE", "REAL", "DECIMAL"}
_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
                  "HUGEINT"}
_DATETIME_TYPES = {"DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIME"}
_KINDS = {"numeric", "integer", "datetime", "categorical", "boolean", "id"}


def personal_by_name(sql_types: dict[str, str], column_types: dict[str, str] | None) -> dict[str, str]:
    """The PII style of each VARCHAR column that its name alone marks as personal and that is not declared
    another kind than ``id`` (the values are never read to find them)."""
    declared = {k.lower(): v for k, v in (column_types or {}).items()}
    styles = {name: style_by_name(name) for name, sql_type in sql_types.items()
              if base_type(sql_type) == "VARCHAR" and declared.get(name.lower(), "id") == "id"}
    return {name: style for name, style in styles.items() if style in PII_STYLES}


def public_schema(sql_types: dict[str, str], column_types: dict[str, str] | None) -> list[ColumnSpec]:
    """Column specs from SQL types, declared kinds and names only (detecting kinds from values would leak them);
    personal columns (:func:`personal_by_name`) are ids, made as fakes that read nothing."""
    declared = {k.lower(): v for k, v in (column_types or {}).items()}
    personal = personal_by_name(sql_types, column_types)
    specs = []
    for name, sql_type in sql_types.items():
        kind = declared.get(name.lower()) or ("id" if name in personal else None)
        if kind is None:
            base = base_type(sql_type)
            kind = ("integer" if base in _INTEGER_TYPES else "numeric" if base in _NUMBER_TYPES
                    else "boolean" if base == "BOOLEAN" else "datetime" if base in _DATETIME_TYPES
                    else "categorical")
        if kind not in _KINDS:
            raise InvalidArgumentError(f"column_types[{name!r}] = {kind!r} is not a kind a DP model supports; "
                                       f"use one of {', '.join(sorted(_KINDS))}.")
        specs.append(ColumnSpec(name, kind, sql_type, True))
    return specs


def _cells(x: np.ndarray) -> np.ndarray:
    """The fixed logarithmic cell of each value: 0..CELLS-1 for x >= 0, CELLS..2*CELLS-1 for x < 0."""
    octave = np.minimum(np.floor(np.log2(np.abs(x) + 1.0) * CELLS_PER_OCTAVE), CELLS - 1).astype(np.int64)
    return np.where(x < 0, CELLS + octave, octave)


def _cell_edges(cell: int) -> tuple[float, float]:
    octave = cell % CELLS
    low, high = 2.0 ** (octave / CELLS_PER_OCTAVE) - 1.0, 2.0 ** ((octave + 1) / CELLS_PER_OCTAVE) - 1.0
    return (-high, -low) if cell >= CELLS else (low, high)


# The cells in order along the real line: negative cells from the most negative up, then the others.
_LINE = np.concatenate([np.arange(2 * CELLS - 1, CELLS - 1, -1), np.arange(CELLS)])


def released_range(noisy: np.ndarray, sigma: float) -> tuple[float, float]:
    """The range read off noisy cell counts (indexed as ``_cells``; each with noise ``sigma``): post-processing.

    The core is the hull of the cells that pass ``RANGE_THRESHOLD_SIGMAS`` (else the narrowest run of cells that
    does, see ``WINDOWS``);
    each end then reaches out to the farthest cell (within ``RANGE_TAIL_CELLS``) up to which the noisy sum
    from the core's edge passes ``RANGE_TAIL_SIGMAS``. Without a core: [0, 1].
    """
    line = noisy[_LINE]
    total = np.concatenate([[0.0], np.cumsum(line)])
    core = np.flatnonzero(line > RANGE_THRESHOLD_SIGMAS * sigma)
    for width in WINDOWS[1:]:
        if core.size:
            break
        sums = total[width:] - total[:-width]
        best = int(np.argmax(sums))
        if sums[best] > RANGE_THRESHOLD_SIGMAS * math.sqrt(width) * sigma:
            core = np.arange(best, best + width)
    if not core.size:
        return 0.0, 1.0
    first, last = int(core[0]), int(core[-1])
    last += _reach(line[last + 1:last + 1 + RANGE_TAIL_CELLS], sigma)
    first -= _reach(line[max(first - RANGE_TAIL_CELLS, 0):first][::-1], sigma)
    edges = [e for position in (first, last) for e in _cell_edges(int(_LINE[position]))]
    return min(edges), max(edges)


def _reach(beyond: np.ndarray, sigma: float) -> int:
    """How many of the noisy cells ``beyond`` a core's edge (nearest first) the range takes: up to the
    farthest cell whose noisy sum with every cell past it (within ``beyond``) passes ``RANGE_TAIL_SIGMAS``."""
    outward = np.cumsum(beyond[::-1])[::-1]
    widths = np.arange(beyond.size, 0, -1)
    passed = np.flatnonzero(outward > RANGE_TAIL_SIGMAS * np.sqrt(widths) * sigma)
    return int(passed[-1]) + 1 if passed.size else 0


class DPCopula(GaussianCopula):
    """Gaussian copula fitted under (epsilon, delta)-differential privacy (``method="dp"``); see the module.

    Args:
        random_state: kept for the interface; the noise never comes from it (see ``fit``), so two DP fits
            of the same rows differ.
        epsilon, delta: the privacy budget (delta None: 1e-6).
        public_bounds: declared domains, ``{column: [min, max]}`` or ``{column: [value, ...]}``; they are
            taken as public and cost no budget.
    """

    method = "dp"

    def __init__(self, *, random_state: int | None = 0, epsilon: float = 1.0, delta: float | None = None,
                 public_bounds: dict[str, list[Any]] | None = None) -> None:
        super().__init__(random_state=random_state)
        self.epsilon, self.delta = check_budget(epsilon, delta)
        if public_bounds is not None and not isinstance(public_bounds, dict):
            raise InvalidArgumentError("public_bounds must map columns to [min, max] or to a list of values, "
                                       f"e.g. {{'age': [18, 99]}}. Got {public_bounds!r}.")
        self.public_bounds = public_bounds

    def get_params(self) -> dict[str, Any]:
        return {"random_state": self.random_state, "epsilon": self.epsilon, "delta": self.delta,
                "public_bounds": self.public_bounds}

    def fit(self, data: pa.Table, columns: list[ColumnSpec]) -> DPCopula:
        self.__dict__.pop("encoding", None)
        self.__dict__.pop("_proposals", None)
        # The noise is drawn from fresh OS entropy, never from the seed: a noise stream a user (or the
        # default seed 0) can replay could be subtracted from the released statistics.
        rng = np.random.default_rng(secrets.randbits(128))
        bounds = {k.lower(): v for k, v in (self.public_bounds or {}).items()}
        unknown = set(bounds) - {c.name.lower() for c in columns}
        if unknown:
            raise InvalidArgumentError(f"public_bounds names columns the query does not return: {sorted(unknown)}.")
        thresholded = [c for c in columns if c.kind == "categorical" and c.name.lower() not in bounds
                       and base_type(c.sql_type) not in _INTEGER_TYPES]
        delta_t = self.delta * SHARE_DELTA_THRESHOLD if thresholded else 0.0
        rho = rho_for(self.epsilon, self.delta - delta_t)
        modelled = [c for c in columns if c.kind != "id"]
        n = max(float(data.num_rows + rng.normal(0.0, gaussian_sigma(1.0, rho * SHARE_COUNT))), 1.0)
        rho_column = rho * SHARE_MARGINALS / max(len(modelled), 1)
        codecs: list[Codec] = []
        specs: list[ColumnSpec] = []
        for spec in columns:
            declared = bounds.get(spec.name.lower())
            column = data.column(spec.name)
            if spec.kind == "id":
                spec, codec = _fresh_ids(spec)
            elif spec.kind in ("categorical", "boolean") and (declared is not None or spec.kind == "boolean"
                                                              or base_type(spec.sql_type) not in _INTEGER_TYPES):
                values = [True, False] if spec.kind == "boolean" and declared is None else declared
                spec, codec = _categorical(spec, column, values, rho_column, delta_t / max(len(thresholded), 1), rng)
            else:
                spec, codec = _numeric(spec, column, declared, rho_column, rng)
            specs.append(spec)
            codecs.append(codec)
        latent = [i for i, c in enumerate(codecs) if c.latent]
        correlation = self._correlation(data, specs, codecs, latent, n, rho * SHARE_CORRELATION, rng)
        fitted = GaussianCopula.assemble(specs, codecs, correlation, random_state=self.random_state)
        self.columns_, self.codecs_, self.latent_ = fitted.columns_, fitted.codecs_, fitted.latent_
        self.correlation_, self.cholesky_ = fitted.correlation_, fitted.cholesky_
        return self

    @staticmethod
    def _correlation(data: pa.Table, specs: list[ColumnSpec], codecs: list[Codec], latent: list[int], n: float,
                     rho: float, rng: np.random.Generator) -> np.ndarray:
        """Step 4: the latent correlation from noisy sums of clipped normal-score products."""
        d = len(latent)
        if d < 2:
            return np.eye(d)
        z = np.column_stack([ndtri(np.clip(codecs[i].scores(data.column(specs[i].name)), _CLIP, 1 - _CLIP))
                             for i in latent])
        upper = np.triu_indices(d, 1)
        sums = clipped_products(z)
        sums = sums + rng.normal(0.0, gaussian_sigma(d / math.sqrt(2.0), rho), sums.size)
        pseudo = np.column_stack([_released_scores(codecs[i]) for i in latent])
        mean, std = pseudo.mean(axis=0), pseudo.std(axis=0)
        cross = np.eye(d)
        with np.errstate(invalid="ignore", divide="ignore"):
            cross[upper] = np.nan_to_num((sums / n - mean[upper[0]] * mean[upper[1]])
                                         / (std[upper[0]] * std[upper[1]]))
        cross = np.clip(cross + np.triu(cross, 1).T, -1.0, 1.0)
        np.fill_diagonal(cross, 1.0)
        coefficients = np.stack([hermite_coefficients(pseudo[:, j]) for j in range(d)])
        return invert_correlation(cross, coefficients)


def clipped_products(z: np.ndarray) -> np.ndarray:
    """Step 4's statistic: the upper-triangle sums of ``z_j z_k`` over rows, each row's ``z`` scaled down to
    ``||z||^2 <= d``; one row changes it by at most ``d / sqrt(2)`` in L2 norm."""
    d = z.shape[1]
    norms = (z ** 2).sum(axis=1)
    z = z * np.sqrt(np.minimum(1.0, d / np.maximum(norms, 1e-300)))[:, None]
    return (z.T @ z)[np.triu_indices(d, 1)]


def _released_scores(codec: Codec) -> np.ndarray:
    """Normal scores of a released marginal's own distribution (no data read)."""
    if isinstance(codec, CategoricalCodec):
        middles = (codec.lower_ + codec.bounds_) / 2.0
        scores = np.repeat(middles, np.maximum(np.round(codec.probs_ * PSEUDO_VALUES), 1).astype(np.int64))
    else:
        scores = codec.scores(pa.chunked_array([pa.array(codec.pseudo_values_, from_pandas=True)]))
    reps = PSEUDO_VALUES
    z = ndtri(np.clip(scores, _CLIP, 1 - _CLIP))
    return np.resize(np.sort(z), reps)


def _bound(value: Any, spec: ColumnSpec) -> float:
    """A declared bound on the column's numeric scale (dates and timestamps as the codecs read them)."""
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        return float(_to_float(pa.chunked_array([pa.array([value]).cast(arrow_type(spec.sql_type))]), spec)[0])
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise InvalidArgumentError(f"public_bounds[{spec.name!r}] has a bound {value!r} that is not a "
                                   f"{spec.sql_type}.") from exc


def _fresh_ids(spec: ColumnSpec) -> tuple[ColumnSpec, Codec]:
    """Ids carry no information: numbered afresh from 1, or Faker fakes of a personal column's style, nothing
    read."""
    integer = base_type(spec.sql_type) in _NUMBER_TYPES
    style = personal_by_name({spec.name: spec.sql_type}, None).get(spec.name)
    spec = ColumnSpec(spec.name, "id", spec.sql_type, False)
    return spec, IdCodec.from_state(spec, {"integer": integer, "start": 1, "style": style, "locale": DEFAULT_LOCALE,
                                           "domains": [], "source": None}, {})


def _categorical(spec: ColumnSpec, column: pa.ChunkedArray, declared: list[Any] | None, rho: float,
                 delta_t: float, rng: np.random.Generator) -> tuple[ColumnSpec, Codec]:
    """Step 3b: noisy counts of declared values, or thresholded noisy counts of the values present."""
    sigma = gaussian_sigma(1.0, rho)
    values = column.to_pylist()
    counts: dict[Any, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    if declared is not None:
        if not isinstance(declared, list) or not declared:
            raise InvalidArgumentError(f"public_bounds[{spec.name!r}] must list the column's values. Got {declared!r}.")
        domain = list(declared) + [None]
        noisy = np.array([counts.get(v, 0) for v in domain], dtype=np.float64) + rng.normal(0.0, sigma, len(domain))
        keep = noisy > KEEP_SIGMAS * sigma
    else:
        domain = sorted(counts, key=lambda v: (v is None, str(v)))
        noisy = np.array([counts[v] for v in domain], dtype=np.float64) + rng.normal(0.0, sigma, len(domain))
        keep = noisy > 1.0 + sigma * float(ndtri(1.0 - delta_t)) if delta_t > 0 else noisy > 0
    kept = [v for v, k in zip(domain, keep) if k]
    weights = noisy[keep]
    if not kept:
        kept, weights = [None], np.ones(1)
    order = np.argsort(-weights, kind="stable")
    spec = ColumnSpec(spec.name, spec.kind if spec.kind != "text" else "categorical", spec.sql_type, None in kept)
    codec = CategoricalCodec.from_state(spec, {"categories": [kept[k] for k in order]},
                                        {"probs": weights[order] / weights.sum(),
                                         "layout": np.arange(len(kept), dtype=np.int64)})
    return spec, codec


def _numeric(spec: ColumnSpec, column: pa.ChunkedArray, declared: list[Any] | None, rho: float,
             rng: np.random.Generator) -> tuple[ColumnSpec, Codec]:
    """Step 3a: a released range (declared or from noisy logarithmic cells) and a noisy histogram in it."""
    x = _to_float(column, spec)
    null = np.isnan(x)
    finite = x[~null]
    if declared is not None:
        if not isinstance(declared, list) or len(declared) != 2:
            raise InvalidArgumentError(f"public_bounds[{spec.name!r}] must be [min, max]. Got {declared!r}.")
        low, high = (_bound(v, spec) for v in declared)
        rho_histogram = rho
    else:
        sigma = gaussian_sigma(1.0, rho / 2.0)
        noisy = np.bincount(_cells(finite), minlength=2 * CELLS) + rng.normal(0.0, sigma, 2 * CELLS)
        low, high = released_range(noisy, sigma)
        rho_histogram = rho / 2.0
    if not low <= high:
        raise InvalidArgumentError(f"public_bounds[{spec.name!r}] must be [min, max] with min <= max.")
    integer = spec.kind in ("integer", "categorical") or base_type(spec.sql_type) in _INTEGER_TYPES
    if integer:
        low, high = math.ceil(low), math.floor(high)
        high = max(high, low)
    lattice = integer and high - low < INTEGER_LATTICE
    bins = int(high - low) + 1 if lattice else NUMERIC_BINS
    clipped = np.clip(finite, low, high)
    index = np.round(clipped - low).astype(np.int64) if lattice else \
        np.minimum(((clipped - low) / max(high - low, 1e-300) * bins).astype(np.int64), bins - 1)
    sigma = gaussian_sigma(1.0, rho_histogram)
    counts = np.append(np.bincount(index, minlength=bins), null.sum()).astype(np.float64)
    counts = np.maximum(counts + rng.normal(0.0, sigma, counts.size), 0.0)
    if counts[-1] <= KEEP_SIGMAS * sigma:
        counts[-1] = 0.0
    if counts.sum() <= 0:
        counts[0] = 1.0
    reps = np.round(counts / counts.sum() * PSEUDO_VALUES).astype(np.int64)
    if lattice:
        pseudo = np.repeat(low + np.arange(bins, dtype=np.float64), reps[:-1])
    else:
        width = (high - low) / bins
        pseudo = np.concatenate([low + width * (b + (np.arange(r) + 0.5) / r) for b, r in enumerate(reps[:-1]) if r]
                                or [np.array([low])])
        if integer:
            pseudo = np.round(pseudo)
    pseudo = np.concatenate([pseudo, np.full(reps[-1], np.nan)])
    kind = "integer" if spec.kind == "categorical" else spec.kind
    spec = ColumnSpec(spec.name, kind, spec.sql_type, bool(reps[-1] > 0))
    codec = NumericCodec(spec).fit(pa.chunked_array([pa.array(pseudo, from_pandas=True)]), rng)
    codec.pseudo_values_ = pseudo
    return spec, codec
