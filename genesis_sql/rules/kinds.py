"""The kinds of rules a model keeps: relations that hold in every training row.

Two families, by how generation keeps them:

- derived (:class:`Equal`, :class:`Offset`, :class:`Sum`, :class:`Function`): the ``target`` column is
  computed from its sources, so the rule holds by construction and costs one vectorised expression;
- checked (:class:`Order`, :class:`Bound`, :class:`Expression`): a row that breaks one is drawn again.

Every rule is data (``to_dict`` / :func:`rule_from_dict`) and renders as condition-grammar SQL. NULLs
follow SQL's CHECK constraints: a rule whose columns are NULL in a row does not bind that row.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import duckdb
import numpy as np
import pyarrow as pa

from genesis_sql.rules.values import Frame, as_frame


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Equal up to float rounding (values computed by a DuckDB expression may differ in the last bits)."""
    return np.abs(a - b) <= 1e-9 * np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))


@dataclass(frozen=True)
class Rule:
    """A relation every generated row keeps; ``origin`` is ``detected`` or ``declared``."""

    kind: ClassVar[str] = ""
    origin: str = field(default="detected", kw_only=True)

    @property
    def target(self) -> str | None:
        """The column computed from the others (derived rules), None for checked rules."""
        return None

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the rule reads."""
        raise NotImplementedError

    def to_sql(self) -> str:
        """The rule in the condition grammar."""
        raise NotImplementedError

    def holds(self, table: pa.Table | Frame) -> np.ndarray:
        """Per row: whether the rule holds (rows with a NULL in its columns hold)."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """JSON form (:func:`rule_from_dict` inverts it)."""
        return {"kind": self.kind, **asdict(self)}


@dataclass(frozen=True)
class DerivedRule(Rule):
    """A rule kept by computing ``target`` from ``sources``."""

    @property
    def sources(self) -> tuple[str, ...]:
        """The columns ``target`` is computed from."""
        raise NotImplementedError

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.target, *self.sources)

    def derive(self, table: pa.Table | Frame) -> np.ndarray:
        """The target's values computed from the sources (numbers, or objects for :class:`Function`)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Equal(DerivedRule):
    """``left = right``: ``left`` is a copy of ``right`` (NULL in the same rows)."""

    kind: ClassVar[str] = "equal"
    left: str
    right: str

    @property
    def target(self) -> str:
        return self.left

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.right,)

    def to_sql(self) -> str:
        return f"{_q(self.left)} = {_q(self.right)}"

    def holds(self, table: pa.Table | Frame) -> np.ndarray:
        a, b = as_frame(table).objects(self.left), as_frame(table).objects(self.right)
        return np.array([x is None or y is None or x == y for x, y in zip(a, b)], dtype=bool)

    def derive(self, table: pa.Table | Frame) -> np.ndarray:
        frame = as_frame(table)
        try:
            return frame.numbers(self.right)
        except TypeError:
            return frame.objects(self.right)


@dataclass(frozen=True)
class Offset(DerivedRule):
    """``left = right + delta`` with a constant ``delta`` (days for dates, microseconds for timestamps)."""

    kind: ClassVar[str] = "offset"
    left: str
    right: str
    delta: float

    @property
    def target(self) -> str:
        return self.left

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.right,)

    def to_sql(self) -> str:
        sign = "+" if self.delta >= 0 else "-"
        return f"{_q(self.left)} = {_q(self.right)} {sign} {_number(abs(self.delta))}"

    def holds(self, table: pa.Table | Frame) -> np.ndarray:
        a, b = as_frame(table).numbers(self.left), as_frame(table).numbers(self.right)
        return np.isnan(a) | np.isnan(b) | _close(a, b + self.delta)

    def derive(self, table: pa.Table | Frame) -> np.ndarray:
        return as_frame(table).numbers(self.right) + self.delta


@dataclass(frozen=True)
class Sum(DerivedRule):
    """``total = first + second`` (``sign`` -1: ``total = first - second``)."""

    kind: ClassVar[str] = "sum"
    total: str
    first: str
    second: str
    sign: int = 1

    @property
    def target(self) -> str:
        return self.total

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.first, self.second)

    def to_sql(self) -> str:
        return f"{_q(self.total)} = {_q(self.first)} {'+' if self.sign > 0 else '-'} {_q(self.second)}"

    def holds(self, table: pa.Table | Frame) -> np.ndarray:
        t = as_frame(table).numbers(self.total)
        computed = self.derive(table)
        return np.isnan(t) | np.isnan(computed) | _close(t, computed)

    def derive(self, table: pa.Table | Frame) -> np.ndarray:
        return as_frame(table).numbers(self.first) + self.sign * as_frame(table).numbers(self.second)


@dataclass(frozen=True)
class Function(DerivedRule):
    """``target`` is a function of ``source`` (a code and its label): ``keys[i]`` maps to ``values[i]``."""

    kind: ClassVar[str] = "function"
    column: str
    source: str
    keys: tuple[Any, ...]
    values: tuple[Any, ...]

    @property
    def target(self) -> str:
        return self.column

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.source,)

    def to_sql(self) -> str:
        return f"{_q(self.column)} is a function of {_q(self.source)} ({len(self.keys)} values)"

    def mapping(self) -> dict[Any, Any]:
        """source value -> target value."""
        return dict(zip(self.keys, self.values))

    def holds(self, table: pa.Table | Frame) -> np.ndarray:
        mapping = self.mapping()
        src, dst = as_frame(table).objects(self.source), as_frame(table).objects(self.column)
        return np.array([s in mapping and mapping[s] == d for s, d in zip(src, dst)], dtype=bool)

    def known(self, table: pa.Table | Frame) -> np.ndarray:
        """Rows whose source value was seen in training (others cannot be derived and are drawn again)."""
        mapping = self.mapping()
        return np.array([s in mapping for s in as_frame(table).objects(self.source)], dtype=bool)

    def derive(self, table: pa.Table | Frame) -> np.ndarray:
        mapping = self.mapping()
        out = np.empty(table.num_rows, dtype=object)
        out[:] = [mapping.get(s) for s in as_frame(table).objects(self.source)]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "origin": self.origin, "column": self.column, "source": self.source,
                "keys": list(self.keys), "values": list(self.values)}


@dataclass(frozen=True)
class Order(Rule):
    """``low + offset <= high`` (``<`` when ``strict``)."""

    kind: ClassVar[str] = "order"
    low: str
    high: str
    strict: bool = False
    offset: float = 0.0

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.low, self.high)

    def to_sql(self) -> str:
        shifted = _q(self.low) + (f" + {_number(self.offset)}" if self.offset > 0 else
                                  f" - {_number(-self.offset)}" if self.offset < 0 else "")
        return f"{shifted} {'<' if self.strict else '<='} {_q(self.high)}"

    def holds(self, table: pa.Table | Frame) -> np.ndarray:
        low, high = as_frame(table).numbers(self.low) + self.offset, as_frame(table).numbers(self.high)
        kept = low < high if self.strict else low <= high
        return np.isnan(low) | np.isnan(high) | kept


@dataclass(frozen=True)
class Bound(Rule):
    """``low <= column <= high`` (either side may be open: None)."""

    kind: ClassVar[str] = "bound"
    column: str
    low: float | None = None
    high: float | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    def to_sql(self) -> str:
        if self.low is not None and self.high is not None:
            return f"{_q(self.column)} BETWEEN {_number(self.low)} AND {_number(self.high)}"
        if self.low is not None:
            return f"{_q(self.column)} >= {_number(self.low)}"
        return f"{_q(self.column)} <= {_number(self.high)}"

    def holds(self, table: pa.Table | Frame) -> np.ndarray:
        x = as_frame(table).numbers(self.column)
        kept = np.ones(x.size, dtype=bool)
        with np.errstate(invalid="ignore"):
            if self.low is not None:
                kept &= ~(x < self.low)
            if self.high is not None:
                kept &= ~(x > self.high)
        return kept


@dataclass(frozen=True)
class Expression(Rule):
    """A declared rule of any other shape in the condition grammar, checked by DuckDB."""

    kind: ClassVar[str] = "expression"
    sql: str
    names: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.names

    def to_sql(self) -> str:
        return self.sql

    def holds(self, table: pa.Table | Frame) -> np.ndarray:
        con = duckdb.connect(":memory:")
        try:
            rows = as_frame(table).table
            con.register("genesis_rule_rows", rows.select(list(self.names)) if self.names else rows)
            result = con.sql(f"SELECT coalesce(({self.sql}), true) FROM genesis_rule_rows").to_arrow_table()
        finally:
            con.close()
        return np.asarray(result.column(0).to_numpy(zero_copy_only=False), dtype=bool)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "origin": self.origin, "sql": self.sql, "names": list(self.names)}


KINDS: dict[str, type[Rule]] = {cls.kind: cls for cls in (Equal, Offset, Sum, Function, Order, Bound, Expression)}


def rule_from_dict(data: dict[str, Any]) -> Rule:
    """Inverse of :meth:`Rule.to_dict`."""
    fields = {k: v for k, v in data.items() if k != "kind"}
    for name in ("keys", "values", "names"):
        if name in fields:
            fields[name] = tuple(fields[name])
    return KINDS[data["kind"]](**fields)
