"""Rules: relations that hold in every training row, kept in every generated row; and entity keys.

This package sits below ``models`` and ``conditions`` (it imports neither): models apply a
:class:`RuleSet` to their draws, conditions read it to explain and rewrite requests.

``rules="auto"`` (the default) detects rules at fit (genesis_sql.rules.detect) and entity keys
(genesis_sql.rules.entity); ``rules="off"`` detects nothing. Declared ``constraints`` are kept either way
(genesis_sql.rules.declared).
"""
from __future__ import annotations

import dataclasses
import logging

import pyarrow as pa

from genesis_sql.errors import InvalidArgumentError
from genesis_sql.rules.declared import check_declared, parse_constraints
from genesis_sql.rules.detect import detect_rules
from genesis_sql.rules.entity import EntityKey, detect_entity_keys, personal_entity_keys
from genesis_sql.rules.kinds import Bound, DerivedRule, Equal, Expression, Function, Offset, Order, Rule, Sum
from genesis_sql.rules.ruleset import RuleSet
from genesis_sql.schema import ColumnSpec

log = logging.getLogger(__name__)
DETECTION = ("auto", "off")


def check_detection(rules: object) -> str:
    """The ``rules`` option: ``auto`` or ``off``."""
    if rules not in DETECTION:
        raise InvalidArgumentError(f"rules must be 'auto' (detect the data's rules) or 'off'. Got {rules!r}.")
    return str(rules)


def entity_columns(table: pa.Table, columns: list[ColumnSpec], detection: str, overrides: set[str], *,
                   personal: frozenset[str] = frozenset(), consistent: bool = False
                   ) -> tuple[list[ColumnSpec], list[EntityKey]]:
    """Columns with entity keys turned into ``id`` columns (made fresh), and the keys found.

    ``personal`` names the PII columns; with ``consistent`` they keep their repeats (see
    genesis_sql.rules.entity), even when ``detection`` is ``off``: the user asked for it.
    """
    if detection == "off":
        keys = personal_entity_keys(table, columns, personal, []) if consistent else []
    else:
        keys = detect_entity_keys(table, columns, overrides, personal=personal, consistent=consistent)
    names = {k.column for k in keys if not k.fake}
    return [dataclasses.replace(c, kind="id") if c.name in names else c for c in columns], keys


def fit_rules(table: pa.Table, columns: list[ColumnSpec], *, detection: str = "auto",
              constraints: str | None = None, entities: list[EntityKey] | None = None) -> RuleSet:
    """The rules of a training table: declared ones (verified on every row) and, unless ``off``, detected ones.

    Raises:
        FitError: a declared rule is malformed or broken by training rows.
    """
    declared = parse_constraints(constraints, columns) if constraints is not None else []
    check_declared(declared, table)
    detected = detect_rules(table, columns) if detection == "auto" else []
    targets = {r.target for r in declared if isinstance(r, DerivedRule)}
    chosen: list[Rule] = list(declared)
    for rule in detected:
        if isinstance(rule, DerivedRule) and (rule.target in targets
                                              or any(s in targets for s in rule.sources)):
            continue  # declared derivations win; a detected one over the same columns could form a cycle
        if rule.to_sql() not in {r.to_sql() for r in declared}:
            chosen.append(rule)
    ruleset = RuleSet(tuple(chosen), tuple(entities or ()), detection)
    for line in ruleset.describe():
        log.info("rule: %s", line)
    return ruleset


__all__ = ["Bound", "DETECTION", "DerivedRule", "EntityKey", "Equal", "Expression", "Function", "Offset",
           "Order", "Rule", "RuleSet", "Sum", "check_detection", "entity_columns", "fit_rules"]
