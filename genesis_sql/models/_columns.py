"""Per-column codecs shared by the synthesizers: each maps a column to a uniform score and back.

A codec turns training values into mid-rank scores in (0, 1) (with NULL as a mass at the bottom, so
NULL-ness takes part in the dependence structure) and turns uniforms back into values of the column's
own type, keeping bounds, integrality, precision, categories and NULL rates. Codecs are stored as data:
``to_state`` gives JSON plus numeric arrays, ``from_state`` rebuilds them.
"""
from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.special import ndtr, ndtri

from genesis_sql.errors import FitError
from genesis_sql.models._calibration import sorted_quantiles
from genesis_sql.models._identity import (
    DEFAULT_LOCALE,
    NAME_STYLES,
    IdentityText,
    check_stored_style,
    detect_locale,
    email_domains,
    numbered,
    require_faker,
)
from genesis_sql.models._pii import NUMBERED_STYLES, PII_STYLES, STYLES, column_style, national_id_locale
from genesis_sql.models._kernels import GOLDEN
from genesis_sql.models._random import _mix, derive_key, row_states, uniforms
from genesis_sql.schema import ColumnSpec, base_type, decimals_of, output_type

# Columns with at most this many distinct numbers are sampled as a step function over those numbers.
MAX_DISCRETE_VALUES = 256
# Continuous marginals keep this many quantile knots evenly spaced in probability (the min and max among
# them), plus TAIL_KNOTS evenly spaced in normal space out to the data's extreme ranks, so that the tails
# follow the data point by point instead of stretching one straight line to the extreme value.
QUANTILE_KNOTS = 2049
TAIL_KNOTS = 1025
# Continuous marginals are read in normal space from a grid of this many points over [-Z_LIMIT, Z_LIMIT].
Z_LIMIT = 7.0
Z_GRID = 16385
_DAY_US = 86_400_000_000
# Distinct dates needed before a weekday that never occurs is read as a grid (business days).
MIN_WEEKDAY_DATES = 70
_DATETIME_STEPS_US = (_DAY_US, 3_600_000_000, 60_000_000, 1_000_000, 1_000, 1)


def arrow_type(sql_type: str) -> pa.DataType:
    """The Arrow type genesis emits for a DuckDB output type."""
    base = base_type(sql_type)
    simple = {
        "TINYINT": pa.int8(), "SMALLINT": pa.int16(), "INTEGER": pa.int32(), "BIGINT": pa.int64(),
        "UTINYINT": pa.uint8(), "USMALLINT": pa.uint16(), "UINTEGER": pa.uint32(), "UBIGINT": pa.uint64(),
        "HUGEINT": pa.float64(), "FLOAT": pa.float32(), "REAL": pa.float32(), "DOUBLE": pa.float64(),
        "DECIMAL": pa.float64(), "VARCHAR": pa.string(), "UUID": pa.string(), "BOOLEAN": pa.bool_(),
        "DATE": pa.date32(),
    }
    if base in simple:
        return simple[base]
    if "TIME ZONE" in sql_type.upper() or base == "TIMESTAMPTZ":
        return pa.timestamp("us", tz="UTC")
    if base.startswith("TIMESTAMP"):
        return pa.timestamp("us")
    raise ValueError(f"no Arrow type for {sql_type}")


def _to_float(values: pa.ChunkedArray | pa.Array, spec: ColumnSpec) -> np.ndarray:
    """Numbers (NaN for NULL); dates as days and timestamps as microseconds since the epoch."""
    typ = values.type
    if pa.types.is_date32(typ):
        values = values.cast(pa.int32())
    elif pa.types.is_timestamp(typ):
        values = values.cast(pa.timestamp("us", tz=typ.tz)).cast(pa.int64())
    elif pa.types.is_decimal(typ):
        values = values.cast(pa.float64())
    return np.asarray(values.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


def on_calendar_grid(values: np.ndarray, microseconds_per_unit: float) -> bool:
    """Whether sorted distinct dates (or midnight timestamps) lie on a calendar grid coarser than days:
    every k > 1 days (weekly data), one day of every month, the last or the same date (monthly,
    quarterly, yearly data), or some days of the week only (business days), seen over at least
    ``MIN_WEEKDAY_DATES`` dates, where any-day dates would miss a weekday once in several thousand.

    Such columns are sampled from their values, like numbers with few values: interpolating between
    quantiles would make dates off the grid (a mid-month date in a month-end series), which no real row has.
    """
    days = values * (microseconds_per_unit / _DAY_US)
    if values.size < 3 or not np.array_equal(days, np.round(days)):
        return False
    days = days.astype(np.int64)
    if np.gcd.reduce(np.diff(days)) > 1:
        return True
    dates = days.astype("datetime64[D]")
    months = dates.astype("datetime64[M]")
    day_of_month = (dates - months.astype("datetime64[D]")).astype(np.int64)
    last_of_month = ((months + 1).astype("datetime64[D]") - dates).astype(np.int64) == 1
    if last_of_month.all() or (day_of_month == day_of_month[0]).all():
        return True
    weekdays = np.unique((days + 3) % 7)  # 1970-01-01, day 0, was a Thursday
    return bool(days.size >= MIN_WEEKDAY_DATES and weekdays.size < 7)


def _knot_levels(count: int) -> np.ndarray:
    """Probability levels of the quantile knots of a continuous marginal of ``count`` values."""
    if count <= QUANTILE_KNOTS:
        return np.linspace(0.0, 1.0, count)
    reach = -ndtri(1.0 / count)
    tails = ndtr(np.linspace(-reach, reach, TAIL_KNOTS))
    return np.unique(np.concatenate([np.linspace(0.0, 1.0, QUANTILE_KNOTS), tails]))


class Codec:
    """One column's transform between values and uniform scores."""

    kind: ClassVar[str]
    latent: ClassVar[bool] = True  # whether the column takes part in the dependence model

    def __init__(self, spec: ColumnSpec) -> None:
        self.spec = spec
        self.target_type = arrow_type(output_type(spec.sql_type))

    def fit(self, values: pa.ChunkedArray, rng: np.random.Generator) -> Codec:
        raise NotImplementedError

    def scores(self, values: pa.ChunkedArray) -> np.ndarray:
        """Mid-rank uniform scores of training values (only for latent codecs)."""
        raise NotImplementedError

    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        raise NotImplementedError

    @classmethod
    def from_state(cls, spec: ColumnSpec, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Codec:
        raise NotImplementedError


def _refuse_infinity(x: np.ndarray, spec: ColumnSpec) -> None:
    """Refuse +-Infinity in training numbers, naming the column and the count.

    A decision (issue 11): infinities are not modelled. A marginal between finite quantiles cannot hold
    them, and every method would learn a broken range (the copula made 0.0 for every row, the forest stored
    a model that could not generate). Refusing points at the data; the message says how to keep the rest
    of the column (map them to NULL, which every method models, or to a bound).
    """
    infinite = np.isinf(x)
    if infinite.any():
        count, positive = int(infinite.sum()), int(np.count_nonzero(x == np.inf))
        raise FitError(
            f"Column {spec.name!r} has {count} infinite value{'s' if count != 1 else ''} ({positive} +inf, "
            f"{count - positive} -inf); genesis models finite numbers and NULL. Map them in the training query, "
            f"e.g. SELECT * REPLACE (CASE WHEN isinf({spec.name}) THEN NULL ELSE {spec.name} END AS {spec.name}).")


class NumericCodec(Codec):
    """numeric, integer and datetime columns: empirical marginal, NULL mass at the bottom. Infinite numbers
    are refused at fit (see :func:`_refuse_infinity`)."""

    kind = "numeric"

    def fit(self, values: pa.ChunkedArray, rng: np.random.Generator) -> NumericCodec:
        x = _to_float(values, self.spec)
        _refuse_infinity(x, self.spec)
        finite = np.sort(x[~np.isnan(x)])
        n = x.size
        self.null_fraction_ = float((n - finite.size) / n) if n else 0.0
        distinct = np.unique(finite)
        if finite.size == 0:
            self.discrete_, self.values_, self.cdf_ = True, np.zeros(0), np.zeros(0)
        elif distinct.size <= MAX_DISCRETE_VALUES or (
                self.spec.kind == "datetime" and on_calendar_grid(distinct, self._microseconds_per_unit())):
            counts = np.searchsorted(finite, distinct, side="right") - np.searchsorted(finite, distinct, side="left")
            self.discrete_, self.values_ = True, distinct
            self.cdf_ = np.cumsum(counts) / finite.size
        else:
            self.discrete_ = False
            self.cdf_ = _knot_levels(finite.size)
            self.values_ = sorted_quantiles(finite, self.cdf_)
        self.step_, self.decimals_ = self._precision(finite)
        return self

    def _microseconds_per_unit(self) -> float:
        """Microseconds in one of the column's numeric units (a day for dates, else one)."""
        return float(_DAY_US) if pa.types.is_date32(arrow_type(self.spec.sql_type)) else 1.0

    def _precision(self, finite: np.ndarray) -> tuple[float, int | None]:
        """Granularity to round generated values to: (step for integers/datetimes, decimals for floats)."""
        if self.spec.kind == "datetime" and pa.types.is_timestamp(arrow_type(self.spec.sql_type)):
            for step in _DATETIME_STEPS_US:
                if finite.size == 0 or np.all(np.mod(finite, step) == 0):
                    return float(step), None
        if self.spec.kind in ("integer", "datetime") or base_type(self.spec.sql_type) in (
                "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"):
            return 1.0, None
        return 0.0, decimals_of(finite)

    def scores(self, values: pa.ChunkedArray) -> np.ndarray:
        x = _to_float(values, self.spec)
        null = np.isnan(x)
        out = np.empty(x.size)
        q = self.null_fraction_
        out[null] = q / 2.0
        if self.values_.size:
            out[~null] = q + (1.0 - q) * self.cdf_mid(x[~null])
        return out

    def cdf_mid(self, x: np.ndarray) -> np.ndarray:
        """The marginal's mid-point CDF at ``x`` (ties, such as point masses, get their middle)."""
        lo = np.searchsorted(self.values_, x, side="left")
        hi = np.searchsorted(self.values_, x, side="right")
        if self.discrete_:
            upper = self.cdf_[np.minimum(lo, self.values_.size - 1)]
            lower = np.where(lo > 0, self.cdf_[np.maximum(lo - 1, 0)], 0.0)
            inside = hi > lo
            return np.where(inside, (upper + lower) / 2.0, lower)
        tied = hi > lo
        mid = np.interp(x, self.values_, self.cdf_)
        mid[tied] = (self.cdf_[lo[tied]] + self.cdf_[hi[tied] - 1]) / 2.0
        return mid

    def numbers(self, u: np.ndarray) -> np.ndarray:
        """Values (NaN = NULL) for uniforms ``u``, as float64 in the column's numeric units."""
        q = self.null_fraction_
        out = np.full(u.size, np.nan)
        keep = u >= q
        if self.values_.size == 0 or not keep.any():
            return out
        v = np.clip((u[keep] - q) / (1.0 - q), 0.0, 1.0)
        if self.discrete_:
            idx = np.minimum(np.searchsorted(self.cdf_, v, side="right"), self.values_.size - 1)
            out[keep] = self.values_[idx]
            return out
        left = np.clip(np.searchsorted(self.cdf_, v, side="right") - 1, 0, self.values_.size - 2)
        fraction = (v - self.cdf_[left]) / (self.cdf_[left + 1] - self.cdf_[left])
        x = self.values_[left] + fraction * (self.values_[left + 1] - self.values_[left])
        if self.step_:
            x = np.round(x / self.step_) * self.step_
        elif self.decimals_ is not None:
            x = np.round(x, self.decimals_)
        out[keep] = np.clip(x, self.values_[0], self.values_[-1])
        return out

    @functools.cached_property
    def _normal_lookup(self) -> tuple[np.ndarray, np.ndarray]:
        """Precomputed normal-space form: (z upper bounds, values) when discrete, else (grid values, [z of NULL])."""
        q = self.null_fraction_
        if self.discrete_ or self.values_.size == 0:
            upper = np.concatenate([[q] if q > 0 else [], q + (1.0 - q) * self.cdf_])
            values = np.concatenate([[np.nan] if q > 0 else [], self.values_])
            return ndtri(np.clip(upper, 0.0, 1.0)), values
        grid = np.linspace(-Z_LIMIT, Z_LIMIT, Z_GRID)
        table = self.numbers(ndtr(grid))
        valid = ~np.isnan(table)
        table[~valid] = table[valid][0] if valid.any() else 0.0
        return table, np.array([ndtri(q) if q > 0 else -np.inf])

    def numbers_from_normal(self, z: np.ndarray) -> np.ndarray:
        """Values (NaN = NULL) for standard-normal scores ``z``: the marginal read in normal space.

        Discrete marginals are exact (category bounds mapped to z once); continuous ones read a fine
        grid of the marginal over z, which spares a normal CDF evaluation per value.
        """
        first, second = self._normal_lookup
        if self.discrete_ or self.values_.size == 0:
            if second.size == 0:
                return np.full(z.size, np.nan)
            return second[np.minimum(np.searchsorted(first, z, side="right"), second.size - 1)]
        position = (np.clip(z, -Z_LIMIT, Z_LIMIT) + Z_LIMIT) * ((Z_GRID - 1) / (2 * Z_LIMIT))
        left = np.minimum(position.astype(np.int64), Z_GRID - 2)
        low = first[left]
        x = low + (position - left) * (first[left + 1] - low)
        if self.step_:
            x = np.round(x / self.step_) * self.step_
        elif self.decimals_ is not None:
            x = np.round(x, self.decimals_)
        if self.null_fraction_ > 0:
            x[z < second[0]] = np.nan
        return x

    def sample(self, z: np.ndarray) -> pa.Array:
        """Column values for standard-normal scores ``z``."""
        return self.to_arrow(self.numbers_from_normal(z))

    def to_arrow(self, x: np.ndarray) -> pa.Array:
        """Float numbers (NaN = NULL) as an Arrow array of the column's output type."""
        target = self.target_type
        mask = np.isnan(x) if self.null_fraction_ > 0 or self.values_.size == 0 else None
        if pa.types.is_floating(target):
            array = pa.array(x, mask=mask, type=pa.float64())
            return array if target == pa.float64() else array.cast(target)
        ints = (np.where(mask, 0, x) if mask is not None else x).astype(np.int64)
        if pa.types.is_date32(target):
            return pa.array(ints.astype(np.int32), mask=mask, type=pa.int32()).cast(target)
        array = pa.array(ints, mask=mask, type=pa.int64())
        return array if target == pa.int64() else array.cast(target)

    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        meta = {"null_fraction": self.null_fraction_, "discrete": self.discrete_, "step": self.step_,
                "decimals": self.decimals_}
        return meta, {"values": self.values_, "cdf": self.cdf_}

    @classmethod
    def from_state(cls, spec: ColumnSpec, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> NumericCodec:
        codec = cls(spec)
        codec.null_fraction_, codec.discrete_ = meta["null_fraction"], meta["discrete"]
        codec.step_, codec.decimals_ = meta["step"], meta["decimals"]
        codec.values_, codec.cdf_ = arrays["values"], arrays["cdf"]
        return codec


class CategoricalCodec(Codec):
    """categorical and boolean columns: each category (NULL included) owns an interval of (0, 1)."""

    kind = "categorical"

    def fit(self, values: pa.ChunkedArray, rng: np.random.Generator) -> CategoricalCodec:
        counts = pc.value_counts(values)
        cats = counts.field("values").to_pylist()
        freq = np.asarray(counts.field("counts").to_numpy(), dtype=np.float64)
        order = np.argsort(-freq, kind="stable")
        self.categories_ = [self._json_value(cats[i]) for i in order]
        self.probs_ = freq[order] / freq.sum()
        self.set_layout(np.arange(len(self.categories_)))
        return self

    @staticmethod
    def _json_value(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return value

    def set_layout(self, layout: np.ndarray) -> None:
        """Order in which categories occupy (0, 1); the copula orders them to follow the dependence."""
        self.layout_ = np.asarray(layout, dtype=np.int64)
        upper = np.cumsum(self.probs_[self.layout_])
        upper[-1] = 1.0
        self.bounds_ = np.empty(len(self.categories_))
        self.bounds_[self.layout_] = upper
        self.lower_ = self.bounds_ - self.probs_
        self._normal_upper = ndtri(np.clip(self.bounds_[self.layout_], 0.0, 1.0))

    @property
    def category_array(self) -> pa.Array:
        """The categories as an Arrow array of the output type (built once)."""
        cached = getattr(self, "_category_array", None)
        if cached is None:
            cached = self._category_array = pa.array(self.categories_, type=self.target_type)
        return cached

    def codes(self, values: pa.ChunkedArray | pa.Array) -> np.ndarray:
        """Category index of each value (-1 for values never seen in training)."""
        value_set = pa.array(self.categories_, type=values.type)
        idx = pc.index_in(values, value_set=value_set, skip_nulls=False)
        return np.asarray(idx.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)

    def scores(self, values: pa.ChunkedArray) -> np.ndarray:
        codes = self.codes(values)
        return (self.lower_[codes] + self.bounds_[codes]) / 2.0

    def category_index(self, z: np.ndarray) -> np.ndarray:
        """Category of each standard-normal score."""
        pos = np.minimum(np.searchsorted(self._normal_upper, z, side="right"), len(self.layout_) - 1)
        return self.layout_[pos]

    def sample(self, z: np.ndarray) -> pa.Array:
        """Column values for standard-normal scores ``z``."""
        return self.category_array.take(pa.array(self.category_index(z)))

    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {"categories": self.categories_}, {"probs": self.probs_, "layout": self.layout_}

    @classmethod
    def from_state(cls, spec: ColumnSpec, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> CategoricalCodec:
        codec = cls(spec)
        codec.categories_, codec.probs_ = meta["categories"], arrays["probs"]
        codec.set_layout(arrays["layout"])
        return codec


class IdCodec(Codec):
    """Identifier columns: fresh unique values per output row, never a training value.

    Integer ids continue above the training maximum. Text ids shaped like emails, phone numbers, card
    numbers, national identity numbers or IP addresses, and integers named and shaped like card, phone or
    national identity numbers, are made with Faker and made unique with the row number
    (:func:`genesis_sql.models._identity.numbered`); other text ids are ``g<stream tag>-<row>``.
    Nothing of the training values is kept beyond the style, locale and common email domains. A model
    that reads no values (``method="dp"``) may give an id any PII style (names too, then not unique).
    """

    kind = "id"
    latent = False

    def fit(self, values: pa.ChunkedArray, rng: np.random.Generator) -> IdCodec:
        target = arrow_type(self.spec.sql_type)
        self.integer_ = pa.types.is_integer(target)
        style = column_style(self.spec.name, values)
        self.style_ = style if style in NUMBERED_STYLES else None
        if self.style_ is not None:
            require_faker(self.spec.name, self.style_)
        # A personal integer (a card number) is made as numbered fakes, never counted on from a real one.
        self.start_ = int(pc.max(values).as_py()) + 1 if self.integer_ and len(values) and not self.style_ else 0
        texts = [str(v) for v in values.to_pylist() if v is not None] if self.style_ is not None else []
        self.locale_ = national_id_locale(texts) if self.style_ == "national_id" else DEFAULT_LOCALE
        self.domains_ = email_domains(texts) if self.style_ == "email" else []
        self.source_: str | None = None
        return self

    def sample_ids(self, rows: np.ndarray, tag: str, names: list[str | None] | None = None) -> pa.Array:
        """Ids for output rows ``rows``: integers above the training maximum, styled or tagged strings.

        ``names`` (one per row) are the generated names an email id is derived from, when it has one.
        """
        target = arrow_type(self.spec.sql_type)
        if self.integer_ and self.style_ is None:
            return pa.array(self.start_ + rows.astype(np.int64), type=pa.int64()).cast(target)
        if self.style_ is None:
            numbers = pc.utf8_lpad(pa.array(rows.astype(np.int64)).cast(pa.string()), 9, "0")
            return pc.binary_join_element_wise(f"g{tag}-", numbers, "").cast(target)
        u = uniforms(row_states(derive_key(tag, self.spec.name), rows), IdentityText.DIMS)
        values = IdentityText(self.style_, self.locale_, self.domains_).generate(u, names)
        if self.integer_:
            values = [v.split("x")[0] for v in values]  # a phone number's extension has no place in an integer
        if self.style_ in NUMBERED_STYLES:
            values = [numbered(value, int(row), self.style_) for value, row in zip(values, rows)]
        return _digits_as(values, target) if self.integer_ else pa.array(values, pa.string()).cast(target)

    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        meta = {"integer": self.integer_, "start": self.start_, "style": self.style_, "locale": self.locale_,
                "domains": self.domains_, "source": self.source_}
        return meta, {}

    @classmethod
    def from_state(cls, spec: ColumnSpec, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> IdCodec:
        codec = cls(spec)
        codec.integer_, codec.start_ = meta["integer"], meta["start"]
        codec.style_, codec.locale_ = meta.get("style"), meta.get("locale", DEFAULT_LOCALE)
        check_stored_style(codec.style_, codec.locale_, (None, *PII_STYLES))
        codec.domains_, codec.source_ = meta.get("domains", []), meta.get("source")
        return codec


def _digits_as(values: list[str], target: pa.DataType) -> pa.Array:
    """The digits of each value as an integer of type ``target``; a number too long for it keeps its last
    digits (a 10-digit phone number in a 32-bit column keeps 9)."""
    limit = (1 << (target.bit_width - (0 if pa.types.is_unsigned_integer(target) else 1))) - 1
    numbers = []
    for value in values:
        digits = "".join(c for c in value if c.isdigit())
        number = int(digits)
        numbers.append(number if number <= limit else int(digits[-(len(str(limit)) - 1):]))
    return pa.array(numbers, pa.uint64() if limit > 2**63 else pa.int64()).cast(target)


MAX_WORDS = 48
MIN_WORD_COUNT = 2


def _value_hashes(values: list[str], salt: bytes) -> np.ndarray:
    """Salted 64-bit digests of normalised strings, to recognise training values without storing them."""
    out = np.empty(len(values), dtype=np.uint64)
    for i, value in enumerate(values):
        digest = hashlib.blake2b(value.strip().lower().encode(), digest_size=8, key=salt).digest()
        out[i] = int.from_bytes(digest, "little")
    return out


# Generated free text never contains this many consecutive words of one training value.
SPAN_WORDS = 8
# Tries per generated text value before the fallback.
TEXT_RETRIES = 16


def _span_hashes(words: np.ndarray, salt: int) -> np.ndarray:
    """Salted 64-bit hashes of every SPAN_WORDS-word window of ``words`` (rows x length, -1 = no word).

    Returns (rows x windows); a window holding a missing word hashes to 0.
    """
    if words.shape[1] < SPAN_WORDS:
        return np.zeros((words.shape[0], 0), dtype=np.uint64)
    windows = np.lib.stride_tricks.sliding_window_view(words, SPAN_WORDS, axis=1)
    h = np.full(windows.shape[:2], np.uint64(salt), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(SPAN_WORDS):
            h = _mix(h ^ (windows[:, :, k].astype(np.uint64) + np.uint64(1)) * GOLDEN)
    h[(windows < 0).any(axis=2)] = 0
    return h


class TextCodec(Codec):
    """Text: the word count (with NULLs) is the latent score; the words depend on the column's style.

    Identifier-like text (names, emails, phone numbers, addresses, card numbers ...; detected by
    genesis_sql.models._pii) is made fresh with Faker in the column's locale, and nothing of its training
    values is kept, not even a digest: a fake equals a training value only as often as an independent
    Faker draw would (see genesis_sql.models._identity). Free text comes from a word bigram chain over
    words seen at least twice; a salted digest set of its training values rejects a generated value equal
    to one of them, and a value containing SPAN_WORDS consecutive words of a training value (salted
    digests of every such span are kept, never the words themselves).
    """

    kind = "text"

    def fit(self, values: pa.ChunkedArray, rng: np.random.Generator) -> TextCodec:
        texts = [v for v in values.to_pylist() if v is not None]
        self.salt_ = rng.integers(0, 2**63, size=2, dtype=np.int64)
        lengths = pa.array([len(t.split()) if t is not None else None for t in values.to_pylist()], type=pa.int64())
        self.length_ = NumericCodec(ColumnSpec(self.spec.name, "integer", "BIGINT", self.spec.nullable))
        self.length_.fit(pa.chunked_array([lengths]), rng)
        self.style_ = column_style(self.spec.name, values) or "free"
        if self.style_ != "free":
            require_faker(self.spec.name, self.style_)
        free = self.style_ == "free"
        self.guard_ = np.unique(_value_hashes(texts, self.salt_.tobytes())) if free else np.zeros(0, np.uint64)
        self.locale_ = (detect_locale(texts) if self.style_ in NAME_STYLES else
                        national_id_locale(texts) if self.style_ == "national_id" else DEFAULT_LOCALE)
        self.domains_ = email_domains(texts) if self.style_ == "email" else []
        self.source_: str | None = None
        self._fit_words([t.split() for t in texts] if self.style_ == "free" else [])
        return self

    def _fit_words(self, token_lists: list[list[str]]) -> None:
        """The bigram chain and the span guard of free text (empty for identifier styles)."""
        counts: dict[str, int] = {}
        for tokens in token_lists:
            for w in tokens:
                counts[w] = counts.get(w, 0) + 1
        vocab = sorted(w for w, c in counts.items() if c >= MIN_WORD_COUNT)
        index = {w: i for i, w in enumerate(vocab)}
        pairs: dict[tuple[int, int], int] = {}
        starts = np.zeros(len(vocab))
        sequence: list[int] = []
        for tokens in token_lists:
            ids = [index.get(w, -1) for w in tokens]
            if ids and ids[0] >= 0:
                starts[ids[0]] += 1
            for a, b in zip(ids, ids[1:]):
                if a >= 0 and b >= 0:
                    pairs[(a, b)] = pairs.get((a, b), 0) + 1
            sequence.extend(ids + [-1])
        self.vocab_ = vocab
        keys = sorted(pairs)
        self.pair_from_ = np.array([k[0] for k in keys], dtype=np.int64)
        self.pair_to_ = np.array([k[1] for k in keys], dtype=np.int64)
        self.pair_cum_ = np.cumsum([pairs[k] for k in keys]).astype(np.float64)
        self.start_cum_ = np.cumsum(starts if starts.sum() else np.ones(len(vocab)))
        spans = _span_hashes(np.array([sequence], dtype=np.int64), int(self.salt_[1]))[0]
        self.spans_ = np.unique(spans[spans != 0])

    def scores(self, values: pa.ChunkedArray) -> np.ndarray:
        lengths = pa.array([len(t.split()) if t is not None else None for t in values.to_pylist()], type=pa.int64())
        return self.length_.scores(pa.chunked_array([lengths]))

    def _next_words(self, prev: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Vectorised bigram step: for each previous word, draw a successor (a start word if it has none)."""
        lo = np.searchsorted(self.pair_from_, prev, side="left")
        hi = np.searchsorted(self.pair_from_, prev, side="right")
        out = np.searchsorted(self.start_cum_, u * self.start_cum_[-1], side="right")
        has = hi > lo
        if has.any():
            base = np.where(lo > 0, self.pair_cum_[np.maximum(lo - 1, 0)], 0.0)[has]
            total = self.pair_cum_[hi[has] - 1] - base
            pos = np.searchsorted(self.pair_cum_, base + u[has] * total, side="right")
            out[has] = self.pair_to_[np.minimum(pos, self.pair_to_.size - 1)]
        return np.minimum(out, len(self.vocab_) - 1)

    def _copied(self, texts: list[str]) -> np.ndarray:
        return np.isin(_value_hashes(texts, self.salt_.tobytes()), self.guard_)

    def sample_text(self, z: np.ndarray, word_uniforms: Callable[[int], np.ndarray],
                    names: list[str | None] | None = None) -> pa.Array:
        """Text for standard-normal scores ``z``; ``word_uniforms(retry)`` gives (rows, MAX_WORDS) uniforms.

        ``names`` (one per row) are the generated names an email column is derived from, when it has one.
        """
        lengths = self.length_.numbers_from_normal(z)
        null = np.isnan(lengths)
        result = np.empty(z.size, dtype=object)
        pending = np.flatnonzero(~null)
        if self.style_ != "free":
            fakes = self._identity.generate(word_uniforms(0)[pending],
                                            [names[i] for i in pending] if names is not None else None)
            for i, fake in zip(pending, fakes):
                result[i] = fake
            return pa.array(result.tolist(), type=pa.string())
        if not self.vocab_:
            return pa.nulls(z.size, pa.string())
        for retry in range(TEXT_RETRIES):
            if pending.size == 0:
                break
            counts = np.clip(lengths[pending], 1, MAX_WORDS).astype(np.int64) + retry // 4
            texts, copied = self._free_text(word_uniforms(retry)[pending], counts)
            for i in np.flatnonzero(~copied):
                result[pending[i]] = texts[i]
            pending = pending[copied]
        if pending.size:
            result[pending] = self._fallback(word_uniforms(TEXT_RETRIES)[pending],
                                             np.clip(lengths[pending], 1, MAX_WORDS).astype(np.int64))
        return pa.array(result.tolist(), type=pa.string())

    @functools.cached_property
    def _identity(self) -> IdentityText:
        return IdentityText(self.style_, self.locale_, self.domains_)

    def _words(self, u: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Word ids (rows x longest, -1 past each row's count) of bigram chains drawn from ``u``."""
        words = np.full((u.shape[0], int(counts.max())), -1, dtype=np.int64)
        words[:, 0] = np.minimum(np.searchsorted(self.start_cum_, u[:, 0] * self.start_cum_[-1], side="right"),
                                 len(self.vocab_) - 1)
        for j in range(1, words.shape[1]):
            words[:, j] = self._next_words(words[:, j - 1], u[:, j % MAX_WORDS])
        words[np.arange(words.shape[1])[None, :] >= counts[:, None]] = -1
        return words

    def _join(self, words: np.ndarray) -> list[str]:
        vocab = pa.array(self.vocab_, type=pa.string())
        counts = (words >= 0).sum(axis=1)
        offsets = np.concatenate([[0], np.cumsum(counts)])
        lists = pa.ListArray.from_arrays(pa.array(offsets, type=pa.int32()), vocab.take(pa.array(words[words >= 0])))
        return pc.binary_join(lists, " ").to_pylist()

    def _free_text(self, u: np.ndarray, counts: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Candidate texts and whether each copies a training value or one of its word spans."""
        words = self._words(u, counts)
        texts = self._join(words)
        spans = _span_hashes(words, int(self.salt_[1]))
        copied = self._copied(texts) | np.isin(spans, self.spans_).any(axis=1)
        return texts, copied

    def _fallback(self, u: np.ndarray, counts: np.ndarray) -> list[str | None]:
        """Free text for rows whose every try copied, cut below SPAN_WORDS words; a value that still equals
        a training value becomes NULL."""
        texts = self._join(self._words(u, np.minimum(counts, SPAN_WORDS - 1)))
        return [None if c else t for t, c in zip(texts, self._copied(texts))]

    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        lmeta, larrays = self.length_.to_state()
        arrays = {"pair_from": self.pair_from_, "pair_to": self.pair_to_, "pair_cum": self.pair_cum_,
                  "start_cum": self.start_cum_, "salt": self.salt_, "guard": self.guard_, "spans": self.spans_}
        arrays.update({f"length.{k}": v for k, v in larrays.items()})
        meta = {"vocab": self.vocab_, "length": lmeta, "style": self.style_, "locale": self.locale_,
                "domains": self.domains_, "source": self.source_}
        return meta, arrays

    @classmethod
    def from_state(cls, spec: ColumnSpec, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> TextCodec:
        codec = cls(spec)
        codec.vocab_ = meta["vocab"]
        codec.pair_from_, codec.pair_to_ = arrays["pair_from"], arrays["pair_to"]
        codec.pair_cum_, codec.start_cum_ = arrays["pair_cum"], arrays["start_cum"]
        codec.salt_, codec.guard_ = arrays["salt"], arrays["guard"]
        codec.spans_ = arrays.get("spans", np.zeros(0, dtype=np.uint64))
        codec.style_, codec.locale_ = meta.get("style", "free"), meta.get("locale", DEFAULT_LOCALE)
        check_stored_style(codec.style_, codec.locale_, ("free", *STYLES))
        codec.domains_, codec.source_ = meta.get("domains", []), meta.get("source")
        lspec = ColumnSpec(spec.name, "integer", "BIGINT", spec.nullable)
        codec.length_ = NumericCodec.from_state(
            lspec, meta["length"], {k.split(".", 1)[1]: v for k, v in arrays.items() if k.startswith("length.")})
        return codec


CODECS: dict[str, type[Codec]] = {
    "numeric": NumericCodec, "integer": NumericCodec, "datetime": NumericCodec,
    "categorical": CategoricalCodec, "boolean": CategoricalCodec, "id": IdCodec, "text": TextCodec,
}


def codec_for(spec: ColumnSpec) -> Codec:
    """A fresh codec for a column spec."""
    return CODECS[spec.kind](spec)
