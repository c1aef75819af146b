"""Entity keys: an identifier that repeats over rows (a person over years, a customer over orders).

Such a column names an entity, so its values are who someone is: they are never copied. Generated keys
are fresh (the first row of each generated entity names it, above the training maximum for integers, a
``g<tag>-<row>`` text otherwise). What the key carried is kept: the number of rows per key follows the
training distribution, and the columns that are constant within every training key are constant within
every generated key.

Rows are grouped into entities per block of ``BLOCK_ROWS`` output rows: rows that agree on the
low-cardinality constant columns are cut into entities of sizes drawn from the training distribution, so
each row keeps the model's own joint distribution; other constant columns take the value of the entity's
first row. Everything is a function of the block's rows and the stream key, so output stays
deterministic and prefix-stable (a block is always generated whole).

Personal columns (PII, detected by the models and made with Faker) are never turned into ``g<tag>-<row>``
keys. When a fit asks for consistent PII (``pii_consistent``), they take part instead: a PII column constant
within a key is constant within each generated entity, and a PII column whose values repeat is a key of
its own whose generated value is the fake its entity's first row drew (``EntityKey.fake``). So the same
person keeps one fake over their rows, without any mapping from real values: the model knows how many rows
a value had and what stayed constant with it, never the value.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from genesis_sql.rules.values import objects, plain, to_arrow
from genesis_sql.schema import ColumnSpec

BLOCK_ROWS = 16_384
# A column named like one of these (alone or after an underscore) names something.
ID_NAME = re.compile(r"(^|_)(id|uuid|guid|key|nr|no|num|number|ident)$", re.IGNORECASE)
# Text identifiers without such a name: no spaces, letters and digits mixed (``p13``, ``C00123``).
_CODE_SHAPE = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_\-.:/#]{2,64}$")
MIN_KEYS = 20
# Constant columns used to group rows into entities: at most this many value combinations in training.
MAX_GROUPS = 256
_KINDS = ("categorical", "integer", "text", "id")


@dataclass(frozen=True)
class EntityKey:
    """A repeated identifier and what it carries (see the module docstring)."""

    column: str
    sizes: tuple[int, ...]
    counts: tuple[int, ...]
    constant: tuple[str, ...]
    group: tuple[str, ...]
    integer: bool
    start: int = 0
    # Whether the key is a PII column whose generated values are the Faker fakes of its entities' first rows.
    fake: bool = False

    def describe(self) -> str:
        """One line for ``genesis_describe`` and the fit log."""
        mean = float(np.dot(self.sizes, self.counts) / max(sum(self.counts), 1))
        kept = f"; constant per key: {', '.join(self.constant)}" if self.constant else ""
        what = "a personal entity key, one fake per entity" if self.fake else "an entity key"
        return f"{self.column!r} is {what} ({sum(self.counts):,} keys, {mean:.1f} rows each){kept}"

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"column": self.column, "sizes": list(self.sizes), "counts": list(self.counts),
                "constant": list(self.constant), "group": list(self.group), "integer": self.integer,
                "start": self.start, "fake": self.fake}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EntityKey:
        """Inverse of :meth:`to_dict`."""
        return cls(data["column"], tuple(data["sizes"]), tuple(data["counts"]), tuple(data["constant"]),
                   tuple(data["group"]), bool(data["integer"]), int(data.get("start", 0)), bool(data.get("fake")))

    def _draw_sizes(self, rng: np.random.Generator, rows: int) -> np.ndarray:
        share = np.asarray(self.counts, dtype=np.float64)
        picks = rng.choice(np.asarray(self.sizes, dtype=np.int64), size=rows + 1, p=share / share.sum())
        return np.maximum(picks, 1)

    def assign(self, table: pa.Table, first_row: int, key: int) -> pa.Table:
        """The block of output rows ``first_row ...`` (``table``, in order) grouped into fresh entities."""
        n = table.num_rows
        if n == 0:
            return table
        if self.group:
            frame = pd.DataFrame({c: objects(table.column(c)) for c in self.group})
            groups = frame.groupby(list(self.group), dropna=False, sort=False).ngroup().to_numpy()
        else:
            groups = np.zeros(n, dtype=np.int64)
        rng = np.random.default_rng([key & (2**63 - 1), first_row, 0xE7717])
        sizes = self._draw_sizes(rng, n)
        order = np.lexsort((np.arange(n), groups))
        sorted_groups = groups[order]
        leader = np.empty(n, dtype=np.int64)
        next_size, position = 0, 0
        while position < n:
            group = sorted_groups[position]
            end = position + int(sizes[next_size])
            next_size += 1
            stop = min(end, int(np.searchsorted(sorted_groups, group, side="right")))
            leader[order[position:stop]] = order[position]
            position = stop
        if self.fake:
            table = _set(table, self.column, plain(table.column(self.column)).take(pa.array(leader)))
        else:
            table = _set(table, self.column, self._keys(first_row + leader, key))
        for name in self.constant:
            if name not in self.group:
                column = plain(table.column(name))
                table = _set(table, name, column.take(pa.array(leader)))
        return table

    def _keys(self, leaders: np.ndarray, key: int) -> pa.Array:
        if self.integer:
            return pa.array(self.start + leaders, type=pa.int64())
        numbers = pc.utf8_lpad(pa.array(leaders).cast(pa.string()), 9, "0")
        return pc.binary_join_element_wise(f"g{key & 0xFFFFFF:06x}-", numbers, "")


def _set(table: pa.Table, name: str, values: pa.Array | pa.ChunkedArray) -> pa.Table:
    index = table.schema.get_field_index(name)
    target = table.schema.field(index).type
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if values.type != target:
        values = values.cast(target) if not pa.types.is_dictionary(target) else to_arrow(objects(values), target)
    return table.set_column(index, table.schema.field(index), values)


def looks_like_entity_key(name: str, values: pa.ChunkedArray) -> bool:
    """A column that repeats and names something: an identifier name, or text shaped like codes."""
    values = plain(values)
    if not (pa.types.is_integer(values.type) or pa.types.is_string(values.type)) or not _repeats(values):
        return False
    if ID_NAME.search(name):
        return True
    if pa.types.is_string(values.type):
        sample = [v for v in values.slice(0, 5000).to_pylist()]
        return sum(bool(_CODE_SHAPE.match(v)) for v in sample) >= 0.95 * len(sample)
    return False


def detect_entity_keys(table: pa.Table, columns: list[ColumnSpec], overrides: set[str], *,
                       personal: frozenset[str] = frozenset(), consistent: bool = False) -> list[EntityKey]:
    """Entity keys of a training table (columns whose kind the user set are left alone).

    Args:
        personal: the PII columns; never keys here (their values are made with Faker, not numbered).
        consistent: whether PII columns constant within a key stay constant within each generated entity,
            and a repeating PII column is a key of its own (made by :func:`personal_entity_keys`).
    """
    keys = []
    kept = personal if consistent else frozenset()
    for spec in columns:
        if spec.name.lower() in overrides or spec.kind not in _KINDS or spec.name in personal:
            continue
        values = table.column(spec.name)
        if not looks_like_entity_key(spec.name, values):
            continue
        keys.append(_entity(table, columns, spec, values, kept))
    if consistent:
        keys += personal_entity_keys(table, columns, personal, keys)
    return keys


def personal_entity_keys(table: pa.Table, columns: list[ColumnSpec], personal: frozenset[str],
                         keys: list[EntityKey]) -> list[EntityKey]:
    """Keys for the PII columns whose values repeat and that no key in ``keys`` (nor a more specific PII
    column) already holds constant; the most specific (most distinct values) first."""
    candidates = []
    for spec in columns:
        values = table.column(spec.name)
        if spec.name in personal and _repeats(values):
            candidates.append((-pc.count_distinct(values).as_py(), spec, values))
    found: list[EntityKey] = []
    for _, spec, values in sorted(candidates, key=lambda c: c[0]):
        if any(spec.name in k.constant for k in keys + found):
            continue
        found.append(dataclasses.replace(_entity(table, columns, spec, values, personal), fake=True))
    return found


def _repeats(values: pa.ChunkedArray | pa.Array) -> bool:
    """Whether a column's values repeat the way an entity key's do: no NULLs, at least MIN_KEYS distinct
    values (and a hundredth of the rows), fewer than the rows."""
    values = plain(values)
    if values.null_count or len(values) < 2 * MIN_KEYS:
        return False
    distinct = pc.count_distinct(values).as_py()
    return MIN_KEYS <= distinct < len(values) and distinct >= 0.01 * len(values)


def _entity(table: pa.Table, columns: list[ColumnSpec], spec: ColumnSpec, values: pa.ChunkedArray,
            personal: frozenset[str]) -> EntityKey:
    """The key ``spec``: its rows-per-key distribution and the columns constant within its keys (``personal``
    columns among them when constant; never used to group rows, their generated values being fresh per row)."""
    ids = pd.Series(objects(values))
    sizes = ids.value_counts().value_counts().sort_index()
    others = [c for c in columns if c.name != spec.name and (c.kind not in ("id", "text") or c.name in personal)]
    frame = pd.DataFrame({c.name: objects(table.column(c.name)) for c in others})
    frame["__key"] = ids.to_numpy()
    distinct = frame.groupby("__key", sort=False).nunique(dropna=False)
    overall = frame.drop(columns="__key").nunique(dropna=False)
    constant = [c.name for c in others if (distinct[c.name] <= 1).all() and overall[c.name] > 1]
    group: list[str] = []
    for name in sorted((c for c in constant if c not in personal), key=lambda c: overall[c]):
        trial = group + [name]
        if frame[trial].drop_duplicates().shape[0] <= MAX_GROUPS:
            group = trial
    integer = pa.types.is_integer(plain(values).type)
    start = int(pc.max(values).as_py()) + 1 if integer else 0
    return EntityKey(spec.name, tuple(int(s) for s in sizes.index), tuple(int(c) for c in sizes.to_numpy()),
                     tuple(constant), tuple(group), integer, start)
