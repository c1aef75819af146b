"""A model's rules together: derive the dependent columns, check the rest, repair what retries left.

:meth:`RuleSet.apply` is what generation calls on every batch of candidate rows: derived rules compute
their target columns (in dependency order), then the checked rules say which rows keep everything. A row
that does not is drawn again by the caller (its next try); :meth:`RuleSet.repair` is the last resort for
rows that many tries did not fix, so that every returned row keeps every rule.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from genesis_sql.rules.entity import EntityKey
from genesis_sql.rules.kinds import Bound, DerivedRule, Function, Order, Rule, rule_from_dict
from genesis_sql.rules.values import Frame, numbers, replace


def derivation_order(rules: list[DerivedRule]) -> list[DerivedRule]:
    """Derived rules sorted so that every rule comes after the rules computing its sources."""
    by_target = {r.target: r for r in rules}
    ordered: list[DerivedRule] = []
    seen: set[str] = set()

    def visit(rule: DerivedRule, path: tuple[str, ...]) -> None:
        if rule.target in seen:
            return
        if rule.target in path:
            raise ValueError(f"rules derive {rule.target!r} from itself")
        for source in rule.sources:
            if source in by_target:
                visit(by_target[source], path + (rule.target,))
        seen.add(rule.target)
        ordered.append(rule)

    for rule in rules:
        visit(rule, ())
    return ordered


@dataclass(frozen=True)
class RuleSet:
    """The rules and entity keys of one model version."""

    rules: tuple[Rule, ...] = ()
    entities: tuple[EntityKey, ...] = ()
    detection: str = "auto"
    derived: tuple[DerivedRule, ...] = field(init=False, repr=False, compare=False)
    checked: tuple[Rule, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "derived", tuple(derivation_order([r for r in self.rules
                                                                    if isinstance(r, DerivedRule)])))
        object.__setattr__(self, "checked", tuple(r for r in self.rules if not isinstance(r, DerivedRule)))

    @property
    def is_empty(self) -> bool:
        """Whether generation has nothing to keep."""
        return not self.rules and not self.entities

    def derive(self, table: pa.Table) -> pa.Table:
        """``table`` with every derived column computed from its sources."""
        for rule in self.derived:
            table = replace(table, rule.target, rule.derive(table))
        return table

    def check(self, table: pa.Table) -> np.ndarray:
        """Per row: whether every rule holds (after :meth:`derive`)."""
        kept = np.ones(table.num_rows, dtype=bool)
        frame = Frame(table)
        for rule in self.checked:
            if kept.any():
                kept &= rule.holds(frame)
        for rule in self.derived:
            if isinstance(rule, Function) and kept.any():
                kept &= rule.known(frame)
        return kept

    def apply(self, table: pa.Table) -> tuple[pa.Table, np.ndarray]:
        """Derived columns computed, and which rows keep every rule."""
        if not self.rules:
            return table, np.ones(table.num_rows, dtype=bool)
        table = self.derive(table)
        return table, self.check(table)

    def repair(self, table: pa.Table) -> pa.Table:
        """Rows moved onto the rules they break (the last resort after several tries): the two sides of a
        broken order swapped (both values stay ones the model drew), sides still broken raised in order
        (lowest columns first), values clipped to their bounds, derived columns recomputed."""
        orders = _low_first([r for r in self.checked if isinstance(r, Order)])
        for rule in orders:
            broken = ~rule.holds(table)
            if broken.any() and rule.offset == 0 and table.schema.field(rule.low).type == table.schema.field(rule.high).type:
                low, high = numbers(table.column(rule.low)), numbers(table.column(rule.high))
                table = replace(table, rule.low, np.where(broken, high, low))
                table = replace(table, rule.high, np.where(broken, low, high))
        for rule in self.checked:
            if isinstance(rule, Bound):
                x = numbers(table.column(rule.column))
                table = replace(table, rule.column, np.clip(x, rule.low if rule.low is not None else -np.inf,
                                                            rule.high if rule.high is not None else np.inf))
        for rule in orders:
            broken = ~rule.holds(table)
            if broken.any():
                low = numbers(table.column(rule.low)) + rule.offset
                step = 0.0
                if rule.strict:
                    step = 1.0 if _whole(table, rule.high) else np.maximum(np.abs(low) * 1e-12, 1e-9)
                table = replace(table, rule.high, np.where(broken, low + step, numbers(table.column(rule.high))))
        return self.derive(table)

    def describe(self) -> list[str]:
        """One line per rule and entity key, as users read them (``genesis_describe``, the fit log)."""
        lines = [f"{r.to_sql()} ({r.origin})" for r in self.rules]
        lines += [e.describe() for e in self.entities]
        return lines

    def for_column(self, name: str) -> list[str]:
        """The lines of :meth:`describe` that concern one column."""
        lines = [f"{r.to_sql()} ({r.origin})" for r in self.rules if name in r.columns]
        lines += [e.describe() for e in self.entities if name == e.column or name in e.constant]
        return lines

    def to_dict(self) -> dict[str, Any]:
        """JSON form stored in the model's state."""
        return {"detection": self.detection, "rules": [r.to_dict() for r in self.rules],
                "entities": [e.to_dict() for e in self.entities], "described": self.describe()}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> RuleSet:
        """Inverse of :meth:`to_dict`; None (a model stored before rules existed) gives no rules."""
        if not data:
            return cls()
        return cls(tuple(rule_from_dict(r) for r in data.get("rules", [])),
                   tuple(EntityKey.from_dict(e) for e in data.get("entities", [])),
                   data.get("detection", "auto"))


def _whole(table: pa.Table, name: str) -> bool:
    kind = table.schema.field(name).type
    kind = kind.value_type if pa.types.is_dictionary(kind) else kind
    return pa.types.is_integer(kind) or pa.types.is_date32(kind) or pa.types.is_timestamp(kind)


def _low_first(orders: list[Order]) -> list[Order]:
    """Orders sorted so that a column is raised only after the orders below it were repaired."""
    depth: dict[str, int] = {}
    for _ in range(len(orders) + 1):
        changed = False
        for rule in orders:
            level = depth.get(rule.low, 0) + 1
            if depth.get(rule.high, 0) < level <= len(orders) + 1:
                depth[rule.high] = level
                changed = True
        if not changed:
            break
    return sorted(orders, key=lambda r: depth.get(r.low, 0))
