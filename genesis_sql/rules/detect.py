"""Finding the rules that hold in every training row.

Candidates are screened on the first rows and verified on all of them. Found, in this order (a column
is derived by at most one rule, and derivations never form a cycle):

- equality ``a = b`` (NULL in the same rows), over any kinds;
- fixed offsets ``b = a + k`` (k != 0) and sums ``c = a + b`` / ``c = a - b`` over number and date columns;
- functions ``label = f(code)``: each code value seen on at least ``MIN_SUPPORT`` rows, so a column that
  is nearly unique never forces copies;
- orders ``a <= b`` (``<`` when strict everywhere) where both ranges overlap (otherwise the bounds already
  imply it), without the ones implied by two others;
- bounds: every number and date column within its training range.
"""
from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa

from genesis_sql.rules.kinds import Bound, DerivedRule, Equal, Function, Offset, Order, Rule, Sum
from genesis_sql.rules.values import ORDERED_KINDS, numbers, objects, plain
from genesis_sql.schema import ColumnSpec

# Rows per determining value a function needs (the support floor).
MIN_SUPPORT = 20
# Rows (with both columns non-NULL) a relation needs before it is believed.
MIN_ROWS = 20
SCREEN_ROWS = 256
# Columns beyond these are not searched for pairwise / three-way relations (cost grows with the square / cube).
MAX_PAIR_COLUMNS = 80
MAX_SUM_COLUMNS = 40
_FUNCTION_SOURCES = ("categorical", "boolean", "integer")
_SKIPPED = ("id", "text")


def _close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a - b) <= 1e-9 * np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))


def _family(spec: ColumnSpec) -> str:
    """Columns compare by order / arithmetic only within a family (numbers; dates; timestamps)."""
    if spec.kind == "datetime":
        return "date" if spec.sql_type.upper() == "DATE" else "timestamp"
    return "number"


class _Graph:
    """Derivations so far: each target once, never a cycle."""

    def __init__(self) -> None:
        self.sources: dict[str, tuple[str, ...]] = {}

    def _depends(self, column: str, on: str) -> bool:
        stack, seen = [column], set()
        while stack:
            current = stack.pop()
            if current == on:
                return True
            if current in seen:
                continue
            seen.add(current)
            stack.extend(self.sources.get(current, ()))
        return False

    def add(self, rule: DerivedRule) -> bool:
        if rule.target in self.sources or any(self._depends(s, rule.target) for s in rule.sources):
            return False
        self.sources[rule.target] = rule.sources
        return True


def detect_rules(table: pa.Table, columns: list[ColumnSpec]) -> list[Rule]:
    """Every rule of the module docstring that holds in all rows of ``table``."""
    specs = [c for c in columns if c.kind not in _SKIPPED]
    if table.num_rows < MIN_ROWS or not specs:
        return []
    graph = _Graph()
    rules: list[Rule] = []
    ordered = [c for c in specs if c.kind in ORDERED_KINDS][:MAX_PAIR_COLUMNS]
    values = {c.name: numbers(table.column(c.name)) for c in ordered}
    rules += _equalities(table, specs[:MAX_PAIR_COLUMNS], values, graph)
    rules += _offsets(ordered, values, graph)
    rules += _sums(ordered[:MAX_SUM_COLUMNS], values, graph)
    rules += _functions(table, specs, graph)
    rules += _orders(ordered, values, _implied_pairs(rules))
    rules += [Bound(c.name, float(np.nanmin(values[c.name])), float(np.nanmax(values[c.name])))
              for c in ordered if c.name not in graph.sources and not np.isnan(values[c.name]).all()]
    return rules


def _equal_columns(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype == object or b.dtype == object:
        return bool(np.all([x == y or (x is None and y is None) for x, y in zip(a, b)]))
    na, nb = np.isnan(a), np.isnan(b)
    return bool(np.array_equal(na, nb) and np.all(a[~na] == b[~nb]))


def _equalities(table: pa.Table, specs: list[ColumnSpec], values: dict[str, np.ndarray], graph: _Graph) -> list[Rule]:
    rules: list[Rule] = []
    cache: dict[str, np.ndarray] = {}

    def column(spec: ColumnSpec) -> np.ndarray:
        if spec.name not in cache:
            cache[spec.name] = values[spec.name] if spec.name in values else objects(table.column(spec.name))
        return cache[spec.name]

    for first, second in itertools.combinations(specs, 2):
        if (first.name in values) != (second.name in values) or _family(first) != _family(second):
            continue
        a, b = column(first), column(second)
        if not _equal_columns(a[:SCREEN_ROWS], b[:SCREEN_ROWS]) or not _equal_columns(a, b):
            continue
        if _non_null(a) < MIN_ROWS:
            continue
        rule = Equal(second.name, first.name)
        if graph.add(rule):
            rules.append(rule)
    return rules


def _non_null(a: np.ndarray) -> int:
    return int(np.sum([x is not None for x in a])) if a.dtype == object else int(np.sum(~np.isnan(a)))


def _offsets(specs: list[ColumnSpec], values: dict[str, np.ndarray], graph: _Graph) -> list[Rule]:
    rules: list[Rule] = []
    for first, second in itertools.combinations(specs, 2):
        if _family(first) != _family(second):
            continue
        a, b = values[first.name], values[second.name]
        na = np.isnan(a)
        if not np.array_equal(na, np.isnan(b)) or int((~na).sum()) < MIN_ROWS:
            continue
        diff = b[~na] - a[~na]
        head = diff[:SCREEN_ROWS]
        if not np.all(_close(head, head[0])):
            continue
        delta = float(np.median(diff))
        if delta == 0 or not np.all(_close(b[~na], a[~na] + delta)):
            continue
        rule = Offset(second.name, first.name, delta)
        if graph.add(rule):
            rules.append(rule)
    return rules


def _sums(specs: list[ColumnSpec], values: dict[str, np.ndarray], graph: _Graph) -> list[Rule]:
    numbers_only = [c for c in specs if _family(c) == "number"]
    if len(numbers_only) < 3:
        return []
    matrix = np.column_stack([values[c.name] for c in numbers_only])
    complete = matrix[~np.isnan(matrix).any(axis=1)][:SCREEN_ROWS]
    if complete.shape[0] < MIN_ROWS:
        return []
    nonzero = np.any(complete != 0, axis=0)
    rules: list[Rule] = []
    p = len(numbers_only)
    for i, j in itertools.combinations(range(p), 2):
        if not (nonzero[i] and nonzero[j]):
            continue
        for sign in (1, -1):
            candidate = complete[:, i] + sign * complete[:, j]
            hits = np.flatnonzero(np.all(_close(complete, candidate[:, None]), axis=0))
            for k in hits:
                if k in (i, j):
                    continue
                rule = _verified_sum(numbers_only, values, k, i, j, sign)
                if rule is not None and graph.add(rule):
                    rules.append(rule)
    return rules


def _verified_sum(specs: list[ColumnSpec], values: dict[str, np.ndarray], k: int, i: int, j: int,
                  sign: int) -> Sum | None:
    total, first, second = (values[specs[x].name] for x in (k, i, j))
    computed = first + sign * second
    missing = np.isnan(total)
    if not np.array_equal(missing, np.isnan(computed)) or int((~missing).sum()) < MIN_ROWS:
        return None
    if not np.all(_close(total[~missing], computed[~missing])):
        return None
    return Sum(specs[k].name, specs[i].name, specs[j].name, sign)


def _functions(table: pa.Table, specs: list[ColumnSpec], graph: _Graph) -> list[Rule]:
    if table.num_rows < 2 * MIN_SUPPORT:
        return []
    # Every column as integer codes (NULL a code of its own), made once: a function is then a count of
    # distinct (source, target) code pairs equal to the count of distinct source codes.
    codes: dict[str, np.ndarray] = {}
    sizes: dict[str, int] = {}
    for spec in specs:
        encoded = plain(table.column(spec.name)).combine_chunks().dictionary_encode(null_encoding="encode")
        codes[spec.name] = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        sizes[spec.name] = len(encoded.dictionary)
    rules: list[Rule] = []
    for source in specs:
        x = codes[source.name]
        if source.kind not in _FUNCTION_SOURCES or sizes[source.name] < 2:
            continue
        if np.bincount(x, minlength=sizes[source.name]).min() < MIN_SUPPORT:
            continue
        for target in specs:
            if target.name == source.name or sizes[target.name] < 2 or target.kind == "datetime":
                continue
            y = codes[target.name]
            pairs = x.astype(np.int64) * (sizes[target.name] + 1) + y
            if np.unique(pairs[:SCREEN_ROWS * 8]).size != np.unique(x[:SCREEN_ROWS * 8]).size:
                continue
            if np.unique(pairs).size != sizes[source.name]:
                continue
            first = np.unique(x, return_index=True)[1]
            src, dst = objects(table.column(source.name)), objects(table.column(target.name))
            rule = Function(target.name, source.name, tuple(_plain(src[i]) for i in first),
                            tuple(_plain(dst[i]) for i in first))
            if graph.add(rule):
                rules.append(rule)
    return rules


def _plain(value: object) -> object:
    """A JSON-able Python scalar (numpy scalars unwrapped, NaN as None)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def _implied_pairs(rules: list[Rule]) -> set[frozenset[str]]:
    """Column pairs whose order the derivations already fix: a sum and its terms, and columns that are
    copies or fixed offsets of the same column."""
    pairs: set[frozenset[str]] = set()
    root: dict[str, str] = {}
    for rule in rules:
        if isinstance(rule, (Equal, Offset)):
            root[rule.target] = root.get(rule.sources[0], rule.sources[0])
        elif isinstance(rule, DerivedRule):
            pairs |= {frozenset(p) for p in itertools.combinations((rule.target, *rule.sources), 2)}
    groups: dict[str, list[str]] = {}
    for column, origin in root.items():
        groups.setdefault(origin, [origin]).append(column)
    for members in groups.values():
        pairs |= {frozenset(p) for p in itertools.combinations(members, 2)}
    return pairs


def _orders(specs: list[ColumnSpec], values: dict[str, np.ndarray], related: set[frozenset[str]]) -> list[Rule]:
    found: list[Order] = []
    for first, second in itertools.permutations(specs, 2):
        if _family(first) != _family(second) or frozenset((first.name, second.name)) in related:
            continue
        a, b = values[first.name], values[second.name]
        both = ~(np.isnan(a) | np.isnan(b))
        if int(both.sum()) < MIN_ROWS:
            continue
        head = both[:SCREEN_ROWS]
        if np.any(a[:SCREEN_ROWS][head] > b[:SCREEN_ROWS][head]):
            continue
        x, y = a[both], b[both]
        if np.any(x > y) or np.all(x == y):
            continue
        if np.nanmax(a) <= np.nanmin(b):
            continue  # the ranges do not overlap: the bounds imply the order
        found.append(Order(first.name, second.name, strict=bool(np.all(x < y))))
    return _reduced(found)


def _reduced(orders: list[Order]) -> list[Rule]:
    """Orders without the ones two others imply (a <= b and b <= c give a <= c)."""
    edges = {(o.low, o.high): o for o in orders}
    kept: list[Rule] = []
    for order in orders:
        implied = any((order.low, middle) in edges and (middle, order.high) in edges
                      and (not order.strict or edges[(order.low, middle)].strict or edges[(middle, order.high)].strict)
                      for middle in {h for _, h in edges})
        if not implied:
            kept.append(order)
    return kept
