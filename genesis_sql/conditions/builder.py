"""ConditionBuilder: a fluent way to build the same ConditionSet that condition SQL would give."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from genesis_sql.conditions.condition import Condition, ConditionSet
from genesis_sql.errors import ConditionError


class ConditionBuilder:
    """Builds a :class:`ConditionSet` one atom at a time.

    Example:
        >>> ConditionBuilder().where("age").gte(50).where("state").isin(["CA", "NY"]).build().to_sql()
        '("age" >= 50) AND ("state" IN (\\'CA\\', \\'NY\\'))'
    """

    def __init__(self) -> None:
        self._conditions: list[Condition] = []
        self._current_column: str | None = None
        self._expressions: list[str] = []

    def where(self, column: str) -> ConditionBuilder:
        """Start constraining ``column``."""
        self._current_column = column
        return self

    def _add(self, operator: str, value: Any = None) -> ConditionBuilder:
        if self._current_column is None:
            raise ConditionError("Call .where(column) before adding a comparison.")
        self._conditions.append(Condition(self._current_column, operator, value))
        return self

    def eq(self, value: Any) -> ConditionBuilder:
        """column = value"""
        return self._add("=", value)

    def ne(self, value: Any) -> ConditionBuilder:
        """column != value"""
        return self._add("!=", value)

    def gt(self, value: Any) -> ConditionBuilder:
        """column > value"""
        return self._add(">", value)

    def gte(self, value: Any) -> ConditionBuilder:
        """column >= value"""
        return self._add(">=", value)

    def lt(self, value: Any) -> ConditionBuilder:
        """column < value"""
        return self._add("<", value)

    def lte(self, value: Any) -> ConditionBuilder:
        """column <= value"""
        return self._add("<=", value)

    def between(self, low: Any, high: Any) -> ConditionBuilder:
        """low <= column <= high"""
        return self._add("between", (low, high))

    def isin(self, values: Iterable[Any]) -> ConditionBuilder:
        """column IN (values)"""
        return self._add("in", tuple(values))

    def notin(self, values: Iterable[Any]) -> ConditionBuilder:
        """column NOT IN (values)"""
        return self._add("not_in", tuple(values))

    def is_null(self) -> ConditionBuilder:
        """column IS NULL"""
        return self._add("is_null")

    def is_not_null(self) -> ConditionBuilder:
        """column IS NOT NULL"""
        return self._add("is_not_null")

    def like(self, pattern: str) -> ConditionBuilder:
        """column LIKE pattern"""
        return self._add("like", pattern)

    def ilike(self, pattern: str) -> ConditionBuilder:
        """column ILIKE pattern"""
        return self._add("ilike", pattern)

    def sql(self, expression: str) -> ConditionBuilder:
        """Any other conjunct of the condition grammar, as SQL (checked when the set is bound to a model)."""
        self._expressions.append(expression)
        return self

    def build(self) -> ConditionSet:
        """The finished set."""
        return ConditionSet(tuple(self._conditions), tuple(self._expressions))
