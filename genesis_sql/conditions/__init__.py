"""Conditional generation: conditions in one canonical form, their grammar, support checks and samplers."""
from __future__ import annotations

from genesis_sql.conditions.builder import ConditionBuilder
from genesis_sql.conditions.condition import Condition, ConditionSet
from genesis_sql.conditions.grammar import ALLOWED_FUNCTIONS, bind, parse_condition

__all__ = ["ALLOWED_FUNCTIONS", "Condition", "ConditionBuilder", "ConditionSet", "bind", "parse_condition"]
