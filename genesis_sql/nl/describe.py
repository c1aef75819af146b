"""Model descriptions: what a model's columns hold, the ground truth of every natural-language path.

A :class:`ModelDescription` reads the fitted synthesizer's marginals (ranges, category shares, NULL
shares), the labels and column notes of :mod:`genesis_sql.nl.labels`, and the rules stored with the
model. ``genesis_describe``, ``prompt_context``, ``ask``, the SQL validator and the MCP server all read it.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np

from genesis_sql.generation.plan import cached_synthesizer
from genesis_sql.catalog import resolve_version
from genesis_sql.models._columns import CategoricalCodec, NumericCodec
from genesis_sql.nl.labels import labels_of, notes_of
from genesis_sql.rules import RuleSet
from genesis_sql.schema import ColumnSpec

# Values listed per column; the rest are counted in ``other_values``.
TOP_VALUES = 50
# Integer columns with at most this many distinct values list them too (codes such as a state number).
MAX_LISTED_INTEGERS = 100


@dataclass(frozen=True)
class ValueShare:
    """One value of a column and the share of training rows that had it."""

    value: Any
    share: float


@dataclass(frozen=True)
class ColumnDescription:
    """One column as a person (or an LLM) needs to know it to write a condition on it."""

    name: str
    sql_type: str
    kind: str
    null_share: float | None
    min: Any = None
    max: Any = None
    values: tuple[ValueShare, ...] = ()
    other_values: int = 0
    labels: dict[Any, str] = field(default_factory=dict)
    description: str | None = None
    unit: str | None = None
    rules: tuple[str, ...] = ()
    # The PII style of a personal column (generated as Faker fakes, never copied), else None.
    pii: str | None = None

    @property
    def categories(self) -> list[Any]:
        """The listed values, most frequent first (every value when ``other_values`` is 0)."""
        return [v.value for v in self.values]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form (MCP resources, ``genesis describe``)."""
        return {
            "name": self.name, "sql_type": self.sql_type, "kind": self.kind, "null_share": self.null_share,
            "min": _json(self.min), "max": _json(self.max),
            "values": [{"value": _json(v.value), "share": round(v.share, 4)} for v in self.values],
            "other_values": self.other_values,
            "labels": [{"value": _json(k), "label": v} for k, v in self.labels.items()],
            "description": self.description, "unit": self.unit, "rules": list(self.rules), "pii": self.pii,
        }


@dataclass(frozen=True)
class ModelDescription:
    """A model version and its columns."""

    name: str
    version: int
    method: str
    training_rows: int
    columns: tuple[ColumnDescription, ...]
    rules: tuple[str, ...] = ()
    content_hash: str = ""

    def column(self, name: str) -> ColumnDescription | None:
        """The column called ``name`` (case-insensitive), or None."""
        return self._by_name.get(name.lower())

    @functools.cached_property
    def _by_name(self) -> dict[str, ColumnDescription]:
        return {c.name.lower(): c for c in self.columns}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form."""
        return {"model": self.name, "version": self.version, "method": self.method,
                "training_rows": self.training_rows, "rules": list(self.rules),
                "columns": [c.to_dict() for c in self.columns]}


def _json(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _from_number(value: float, spec: ColumnSpec) -> Any:
    """A codec's number in the column's own units: an int, a float, a date or a timestamp."""
    if spec.kind == "datetime":
        if spec.sql_type.upper() == "DATE":
            return dt.date(1970, 1, 1) + dt.timedelta(days=int(value))
        return dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=int(value))
    if spec.kind == "integer" or float(value).is_integer() and spec.sql_type.upper() in (
            "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"):
        return int(round(value))
    return float(value)


def _top(values: list[Any], shares: np.ndarray) -> tuple[tuple[ValueShare, ...], int]:
    order = np.argsort(-shares, kind="stable")
    listed = tuple(ValueShare(values[i], float(shares[i])) for i in order[:TOP_VALUES])
    return listed, max(0, len(values) - TOP_VALUES)


def _numeric(spec: ColumnSpec, codec: NumericCodec) -> dict[str, Any]:
    found: dict[str, Any] = {"null_share": codec.null_fraction_}
    if codec.values_.size == 0:
        return found
    found["min"] = _from_number(float(codec.values_[0]), spec)
    found["max"] = _from_number(float(codec.values_[-1]), spec)
    if codec.discrete_ and spec.kind == "integer" and codec.values_.size <= MAX_LISTED_INTEGERS:
        shares = np.diff(np.concatenate([[0.0], codec.cdf_])) * (1.0 - codec.null_fraction_)
        found["values"], found["other_values"] = _top([_from_number(float(v), spec) for v in codec.values_], shares)
    return found


def _categorical(codec: CategoricalCodec) -> dict[str, Any]:
    shares = np.asarray(codec.probs_, dtype=np.float64)
    null_share = float(sum(p for c, p in zip(codec.categories_, shares) if c is None))
    kept = [(c, p) for c, p in zip(codec.categories_, shares) if c is not None]
    values, other = _top([c for c, _ in kept], np.array([p for _, p in kept]))
    return {"null_share": null_share, "values": values, "other_values": other}


def describe_model(con: duckdb.DuckDBPyConnection, model: str) -> ModelDescription:
    """The description of a model's latest version (or of ``'m@N'``).

    Example:
        >>> describe_model(con, "workers").column("state").labels                      # doctest: +SKIP
        {93: 'California'}
    """
    name, version, content_hash = resolve_version(con, model)
    method, training_rows, stored_rules, stored_pii = con.execute(
        "SELECT method, training_rows, json_extract(state, '$.rules'), json_extract(state, '$.pii') "
        "FROM genesis.models WHERE name = ? AND version = ?", [name, version]).fetchall()[0]
    ruleset = RuleSet.from_dict(json.loads(stored_rules) if stored_rules else None)
    pii = json.loads(stored_pii) if stored_pii else {}
    synthesizer = cached_synthesizer(con, name, version, content_hash)
    codecs = {c.spec.name: c for c in getattr(synthesizer, "codecs_", [])}
    labels, notes = labels_of(con, name), notes_of(con, name)
    columns = []
    for spec in synthesizer.columns_:
        codec = codecs.get(spec.name)
        if isinstance(codec, NumericCodec):
            found = _numeric(spec, codec)
        elif isinstance(codec, CategoricalCodec):
            found = _categorical(codec)
        else:
            found = {"null_share": None if spec.nullable else 0.0}
        description, unit = notes.get(spec.name, (None, None))
        columns.append(ColumnDescription(
            name=spec.name, sql_type=spec.sql_type, kind=spec.kind, labels=labels.get(spec.name, {}),
            description=description, unit=unit, pii=pii.get(spec.name),
            rules=tuple(ruleset.for_column(spec.name)), **found))
    return ModelDescription(name, version, method, int(training_rows), tuple(columns), tuple(ruleset.describe()),
                            content_hash)


_CACHE: OrderedDict[tuple, ModelDescription] = OrderedDict()
_CACHE_SIZE = 256
_lock = threading.Lock()
# One plain scan per catalog table (no GROUP BY: planning it costs more than these few rows).
_STATE_SQL = """
SELECT 'model', name, CAST(version AS VARCHAR), content_hash, NULL FROM genesis.models
UNION ALL SELECT 'label', model, column_name, value, label FROM genesis.labels
UNION ALL SELECT 'note', model, column_name, description, unit FROM genesis.column_notes"""


def describe_latest(con: duckdb.DuckDBPyConnection, names: Sequence[str] | None = None) -> list[ModelDescription]:
    """Descriptions of every model's latest version (or of ``names``), cached by content, labels and notes.

    One catalog query per call decides what changed, so reading 20 unchanged models costs about as much
    as reading one (``ask`` calls this for every request).
    """
    if names is not None:
        return [describe_model(con, name) for name in names]
    latest: dict[str, tuple[int, str]] = {}
    marks: dict[str, list[tuple]] = {}
    for kind, name, first, second, third in con.execute(_STATE_SQL).fetchall():
        if kind == "model":
            if name not in latest or int(first) > latest[name][0]:
                latest[name] = (int(first), second)
        else:
            marks.setdefault(name, []).append((kind, first, second, third))
    found = []
    for name in sorted(latest):
        version, content_hash = latest[name]
        key = (name, version, content_hash, tuple(sorted(marks.get(name, []), key=repr)))
        with _lock:
            cached = _CACHE.get(key)
        if cached is None:
            cached = describe_model(con, f"{name}@{version}")
            with _lock:
                _CACHE[key] = cached
                while len(_CACHE) > _CACHE_SIZE:
                    _CACHE.popitem(last=False)
        found.append(cached)
    return found
