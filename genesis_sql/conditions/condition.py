"""Condition and ConditionSet: a generation condition in one canonical form.

A :class:`ConditionSet` is a conjunction. Conjuncts of the simple shape ``column <op> value`` are
:class:`Condition` atoms (the shape samplers can apply natively); any other conjunct of the grammar
(OR groups, NOT, arithmetic, allow-listed functions) is kept as canonical SQL in ``expressions``. The
canonical text sorts and de-duplicates the conjuncts and normalises literals, so that the same condition
written as SQL or built in Python gives the same text, hence the same stream of rows.
"""
from __future__ import annotations

import datetime as dt
import functools
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from sqlglot import exp

from genesis_sql.errors import ConditionError

OPERATORS = ("=", "!=", "<", "<=", ">", ">=", "between", "in", "not_in", "is_null", "is_not_null",
             "like", "not_like", "ilike", "not_ilike")
_COMPARISONS = {"=": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}


def literal(value: Any) -> exp.Expression:
    """The canonical SQL literal of a Python value (numbers normalised, so 2.0 and 2 read the same)."""
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        # DuckDB reads 1e400 as infinity; written this way it reads back as the same float.
        return exp.cast(exp.Literal.string(str(float(value))), exp.DataType.build("DOUBLE"))
    if isinstance(value, (int, float, Decimal, np.integer, np.floating)):
        number = Decimal(str(value))
        text = str(int(number)) if number == number.to_integral_value() else format(number.normalize(), "f")
        node = exp.Literal.number(text.lstrip("-"))
        return exp.Neg(this=node) if text.startswith("-") else node
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.build("TIMESTAMP"))
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("DATE"))
    return exp.Literal.string(str(value))


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"timestamp": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    return value


def _from_json_value(value: Any) -> Any:
    if isinstance(value, dict) and "timestamp" in value:
        return dt.datetime.fromisoformat(value["timestamp"])
    if isinstance(value, dict) and "date" in value:
        return dt.date.fromisoformat(value["date"])
    if isinstance(value, list):
        return tuple(_from_json_value(v) for v in value)
    return value


@dataclass(frozen=True)
class Condition:
    """One atom ``column <operator> value``.

    ``value`` is a scalar for comparisons and LIKE patterns, a ``(low, high)`` pair for ``between``, a
    tuple for ``in`` / ``not_in`` and None for the NULL tests.
    """

    column: str
    operator: str
    value: Any = None

    def to_expression(self) -> exp.Expression:
        """The atom as a sqlglot expression with a quoted column name."""
        col = exp.column(self.column, quoted=True)
        op = self.operator
        if op in _COMPARISONS:
            return _COMPARISONS[op](this=col, expression=literal(self.value))
        if op == "between":
            return exp.Between(this=col, low=literal(self.value[0]), high=literal(self.value[1]))
        if op in ("in", "not_in"):
            node = exp.In(this=col, expressions=[literal(v) for v in self.value])
            return exp.Not(this=node) if op == "not_in" else node
        if op in ("is_null", "is_not_null"):
            node = exp.Is(this=col, expression=exp.null())
            return exp.Not(this=node) if op == "is_not_null" else node
        if op in ("like", "not_like", "ilike", "not_ilike"):
            cls = exp.ILike if "ilike" in op else exp.Like
            node = cls(this=col, expression=literal(self.value))
            return exp.Not(this=node) if op.startswith("not_") else node
        raise ValueError(f"unknown operator {op!r}")

    def to_sql(self) -> str:
        """Canonical DuckDB SQL of the atom."""
        return self.to_expression().sql(dialect="duckdb")

    def to_dict(self) -> dict[str, Any]:
        """JSON form; :meth:`from_dict` inverts it."""
        return {"column": self.column, "operator": self.operator, "value": _json_value(self.value)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Condition:
        """Inverse of :meth:`to_dict`."""
        return cls(column=data["column"], operator=data["operator"], value=_from_json_value(data.get("value")))


_LOCAL = threading.local()


def evaluator() -> duckdb.DuckDBPyConnection:
    """A private in-memory DuckDB per thread, so conditions are evaluated with DuckDB's own semantics."""
    con = getattr(_LOCAL, "con", None)
    if con is None:
        con = _LOCAL.con = duckdb.connect(":memory:")
    return con


_ARROW_COMPARE = {"=": pc.equal, "!=": pc.not_equal, "<": pc.less, "<=": pc.less_equal, ">": pc.greater,
                  ">=": pc.greater_equal}


def _arrow_mask(atom: Condition, table: pa.Table) -> np.ndarray | None:
    """The atom's truth per row via Arrow kernels (NULL -> False), or None when DuckDB must decide."""
    column = table.column(atom.column)
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    op, value = atom.operator, atom.value
    try:
        if op in _ARROW_COMPARE:
            hit = _ARROW_COMPARE[op](column, pa.scalar(value))
        elif op == "between":
            hit = pc.and_(pc.greater_equal(column, pa.scalar(value[0])), pc.less_equal(column, pa.scalar(value[1])))
        elif op in ("in", "not_in"):
            found = pc.is_in(column, value_set=pa.array(list(value)).cast(column.type))
            hit = pc.and_(pc.invert(found), pc.is_valid(column)) if op == "not_in" else found
        elif op == "is_null":
            hit = pc.is_null(column)
        elif op == "is_not_null":
            hit = pc.is_valid(column)
        elif "\\" not in value:  # LIKE: DuckDB has no default escape character, Arrow's is backslash
            found = pc.match_like(column, value, ignore_case="ilike" in op)
            hit = pc.and_(pc.invert(found), pc.is_valid(column)) if op.startswith("not_") else found
        else:
            return None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    return np.asarray(hit.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


_ARITHMETIC = {exp.Add: pc.add, exp.Sub: pc.subtract, exp.Mul: pc.multiply}
_ORDER = {exp.EQ: pc.equal, exp.NEQ: pc.not_equal, exp.LT: pc.less, exp.LTE: pc.less_equal, exp.GT: pc.greater,
          exp.GTE: pc.greater_equal}


def _is_arithmetic(node: exp.Expression) -> bool:
    """Whether ``node`` is +, -, * and unary minus over columns and number literals (division only by a
    literal other than zero)."""
    if isinstance(node, exp.Paren):
        return _is_arithmetic(node.this)
    if isinstance(node, exp.Column):
        return True
    if isinstance(node, exp.Literal):
        # A literal of up to 15 digits reads as the same double in DuckDB and Python (DuckDB divides its
        # exact decimal digits by a power of ten; both round once); exponent notation is read as a DOUBLE.
        digits = node.this.replace(".", "").lstrip("0")
        return not node.is_string and ("e" in node.this.lower() or len(digits) <= 15)
    if isinstance(node, exp.Neg):
        return _is_arithmetic(node.this)
    if isinstance(node, exp.Div):
        divisor = node.expression
        return (not node.args.get("typed") and isinstance(divisor, exp.Literal) and not divisor.is_string
                and float(divisor.this) != 0 and _is_arithmetic(node.this))
    return type(node) in _ARITHMETIC and _is_arithmetic(node.this) and _is_arithmetic(node.expression)


@functools.lru_cache(maxsize=256)
def _comparison_tree(text: str) -> exp.Expression | None:
    """The parse of a conjunct that compares arithmetic on columns and numbers (``"x" > "y" + 0.3``,
    ``"x" - "y" BETWEEN -1 AND 1``), or None for any other conjunct."""
    tree = sqlglot.parse_one(text, read="duckdb")
    if isinstance(tree, exp.Between):
        parts = [tree.this, tree.args["low"], tree.args["high"]]
    elif type(tree) in _ORDER:
        parts = [tree.this, tree.expression]
    else:
        return None
    named = any(True for _ in tree.find_all(exp.Column))
    return tree if named and all(_is_arithmetic(p) for p in parts) else None


def _arrow_value(node: exp.Expression, table: pa.Table) -> pa.ChunkedArray | pa.Scalar:
    """The value of an arithmetic node over ``table``'s double columns, as DuckDB computes it in DOUBLE."""
    if isinstance(node, exp.Paren):
        return _arrow_value(node.this, table)
    if isinstance(node, exp.Column):
        return table.column(node.name)
    if isinstance(node, exp.Literal):
        return pa.scalar(float(node.this))  # DuckDB casts a number literal to DOUBLE, correctly rounded
    if isinstance(node, exp.Neg):
        return pc.negate(_arrow_value(node.this, table))
    if isinstance(node, exp.Div):
        return pc.divide(_arrow_value(node.this, table), _arrow_value(node.expression, table))
    return _ARITHMETIC[type(node)](_arrow_value(node.this, table), _arrow_value(node.expression, table))


def _comparison_mask(text: str, table: pa.Table) -> np.ndarray | None:
    """A comparison of arithmetic on double columns evaluated with Arrow kernels, or None when DuckDB must
    decide: other conjuncts, columns of other types (integer and decimal arithmetic is exact in DuckDB)
    and columns holding NaN (which DuckDB orders above every number)."""
    tree = _comparison_tree(text)
    if tree is None:
        return None
    names = {c.name for c in tree.find_all(exp.Column)}
    if not names <= set(table.column_names):
        return None
    for name in names:
        column = table.column(name)
        if not pa.types.is_float64(column.type) or pc.any(pc.is_nan(column)).as_py():
            return None
    if isinstance(tree, exp.Between):
        middle = _arrow_value(tree.this, table)
        hit = pc.and_kleene(pc.greater_equal(middle, _arrow_value(tree.args["low"], table)),
                            pc.less_equal(middle, _arrow_value(tree.args["high"], table)))
    else:
        hit = _ORDER[type(tree)](_arrow_value(tree.this, table), _arrow_value(tree.expression, table))
    return np.asarray(hit.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _duckdb_mask(conjuncts: list[str], table: pa.Table) -> np.ndarray:
    con = evaluator()
    con.register("genesis_condition_rows", table)
    where = " AND ".join(f"({c})" for c in conjuncts)
    try:
        result = con.sql(f"SELECT coalesce(({where}), false) FROM genesis_condition_rows").to_arrow_table()
    except duckdb.Error as exc:  # e.g. a division by zero on some generated row, as in a plain WHERE
        raise ConditionError(f"The condition {where[:200]!r} cannot be evaluated on generated rows: "
                             f"{str(exc).splitlines()[0]}") from exc
    finally:
        con.unregister("genesis_condition_rows")
    return np.asarray(result.column(0).to_numpy(zero_copy_only=False), dtype=bool)


@dataclass(frozen=True)
class ConditionSet:
    """A conjunction of atoms and other canonical boolean SQL expressions."""

    conditions: tuple[Condition, ...] = ()
    expressions: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        atoms = tuple(sorted(set(self.conditions), key=lambda c: c.to_sql()))
        object.__setattr__(self, "conditions", atoms)
        object.__setattr__(self, "expressions", tuple(sorted(set(self.expressions))))

    @property
    def is_empty(self) -> bool:
        """Whether the set asks for nothing."""
        return not self.conditions and not self.expressions

    @property
    def columns(self) -> set[str]:
        """Columns the atoms constrain (expressions are not inspected)."""
        return {c.column for c in self.conditions}

    def add(self, condition: Condition | str) -> ConditionSet:
        """A new set with one more atom or canonical SQL conjunct."""
        if isinstance(condition, Condition):
            return ConditionSet(self.conditions + (condition,), self.expressions)
        return ConditionSet(self.conditions, self.expressions + (condition,))

    def conjuncts(self) -> list[str]:
        """Every conjunct as canonical SQL, sorted."""
        return sorted({c.to_sql() for c in self.conditions} | set(self.expressions))

    def to_sql(self) -> str:
        """The canonical condition text ('' when empty); it seeds the row stream."""
        parts = self.conjuncts()
        if len(parts) == 1:
            return parts[0]
        return " AND ".join(f"({p})" for p in parts)

    def mask(self, table: pa.Table) -> np.ndarray:
        """Which rows of ``table`` satisfy the set (NULL counts as not satisfied, as in WHERE).

        Atoms, and comparisons of arithmetic on double columns, are evaluated with Arrow compute kernels
        (with SQL's NULL semantics and DuckDB's DOUBLE arithmetic); other conjuncts, and atoms Arrow cannot
        evaluate the way DuckDB does, are evaluated by DuckDB itself.
        """
        result = np.ones(table.num_rows, dtype=bool)
        by_duckdb = []
        for text in self.expressions:
            hit = _comparison_mask(text, table)
            if hit is None:
                by_duckdb.append(text)
            else:
                result &= hit
        for atom in self.conditions:
            hit = _arrow_mask(atom, table)
            if hit is None:
                by_duckdb.append(atom.to_sql())
            else:
                result &= hit
        if by_duckdb and result.any():
            result &= _duckdb_mask(by_duckdb, table)
        return result

    def apply(self, table: pa.Table) -> pa.Table:
        """The rows of ``table`` that satisfy the set."""
        return table.filter(pa.array(self.mask(table)))

    def to_dict(self) -> dict[str, Any]:
        """JSON form; :meth:`from_dict` inverts it."""
        return {"conditions": [c.to_dict() for c in self.conditions], "expressions": list(self.expressions)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConditionSet:
        """Inverse of :meth:`to_dict`."""
        return cls(tuple(Condition.from_dict(c) for c in data.get("conditions", [])),
                   tuple(data.get("expressions", [])))
