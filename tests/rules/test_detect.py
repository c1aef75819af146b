"""Rule detection on tables built here (one per rule kind) and on shared data."""
from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from genesis_sql.errors import FitError
from genesis_sql.rules import Bound, Equal, Expression, Function, Offset, Order, RuleSet, Sum, fit_rules
from genesis_sql.rules.declared import parse_constraints
from genesis_sql.rules.detect import detect_rules
from genesis_sql.schema import detect_schema


def _columns(table: pa.Table):
    con = duckdb.connect()
    con.register("t", table)
    types = {n: str(t) for n, t in zip(con.sql("SELECT * FROM t").columns, con.sql("SELECT * FROM t").types)}
    return detect_schema(table, types)


def planted(n: int = 400, seed: int = 0) -> pa.Table:
    """One relation of every kind, holding in every row."""
    rng = np.random.default_rng(seed)
    a = rng.normal(50, 10, n).round(2)
    b = rng.normal(20, 5, n).round(2)
    code = rng.choice(["A1", "B2", "C3", "D4"], n)
    labels = {"A1": "alpha", "B2": "beta", "C3": "gamma", "D4": "delta"}
    diag = rng.integers(0, 3000, n)
    return pa.table({
        "a": a, "a_copy": a, "b": b, "total": a + b, "shifted": a + 7.5,
        "code": code, "label": [labels[c] for c in code],
        "diag": diag, "death": diag + rng.integers(0, 900, n),
    })


def test_every_kind_is_detected_on_a_planted_table():
    table = planted()
    sqls = {r.to_sql() for r in detect_rules(table, _columns(table))}
    assert '"a_copy" = "a"' in sqls
    assert '"shifted" = "a" + 7.5' in sqls
    assert '"total" = "a" + "b"' in sqls
    assert any(s.startswith('"label" is a function of "code"') for s in sqls)
    assert {'"diag" <= "death"', '"diag" < "death"'} & sqls
    assert any(s.startswith('"a" BETWEEN') for s in sqls)


def test_relations_that_do_not_hold_everywhere_are_not_rules():
    table = planted()
    death = table.column("death").to_numpy().copy()
    death[0] = table.column("diag")[0].as_py() - 1  # one row breaks diag <= death
    table = table.set_column(table.schema.get_field_index("death"), "death", pa.array(death))
    sqls = {r.to_sql() for r in detect_rules(table, _columns(table))}
    assert not {'"diag" <= "death"', '"diag" < "death"'} & sqls


def test_a_function_needs_twenty_rows_per_determining_value():
    rng = np.random.default_rng(1)
    code = np.repeat(np.arange(30), 10)  # 10 rows per code: too few
    table = pa.table({"code": code.astype(str), "label": (code * 3).astype(str), "x": rng.normal(size=300)})
    assert not any(isinstance(r, Function) for r in detect_rules(table, _columns(table)))


def test_orders_with_nulls_hold_where_both_are_present():
    rng = np.random.default_rng(2)
    low = rng.uniform(0, 10, 300)
    high = low + rng.uniform(0, 3, 300)
    high_with_nulls = pa.array(high, mask=rng.uniform(size=300) < 0.2)
    table = pa.table({"low": low, "high": high_with_nulls})
    rules = detect_rules(table, _columns(table))
    assert Order("low", "high", strict=True) in rules or Order("low", "high") in rules


def test_implied_orders_are_left_out():
    x = np.linspace(0, 10, 200)
    table = pa.table({"a": x, "b": x + np.sin(x) + 2, "c": x + np.sin(x) + 4 + np.cos(x)})
    orders = [r for r in detect_rules(table, _columns(table)) if isinstance(r, Order)]
    assert {(o.low, o.high) for o in orders} == {("a", "b"), ("b", "c")}


def test_declared_constraints_parse_to_the_specific_kinds():
    table = planted()
    rules = parse_constraints("death >= diag AND a_copy = a AND total = a + b AND shifted = a + 7.5 "
                              "AND a BETWEEN 0 AND 100 AND (a > 0 OR b > 0)", _columns(table))
    kinds = [type(r) for r in rules]
    assert kinds == [Order, Equal, Sum, Offset, Bound, Expression]
    assert all(r.origin == "declared" for r in rules)


def test_a_declared_rule_broken_by_training_rows_is_a_fit_error_naming_the_count():
    table = planted()
    with pytest.raises(FitError, match=r"broken by \d+ of 400 training rows"):
        fit_rules(table, _columns(table), constraints="a < b")


def test_a_declared_rule_over_an_unknown_column_is_a_fit_error():
    table = planted()
    with pytest.raises(FitError, match="nope"):
        fit_rules(table, _columns(table), constraints="nope > a")


def test_rules_off_detects_nothing_but_keeps_declared_rules():
    table = planted()
    ruleset = fit_rules(table, _columns(table), detection="off", constraints="diag <= death")
    assert [r.to_sql() for r in ruleset.rules] == ['"diag" <= "death"']


def test_rulesets_round_trip_through_json():
    import json

    table = planted()
    ruleset = fit_rules(table, _columns(table), constraints="(a > 0 OR b > 0)")
    again = RuleSet.from_dict(json.loads(json.dumps(ruleset.to_dict())))
    assert [r.to_sql() for r in again.rules] == [r.to_sql() for r in ruleset.rules]
    assert RuleSet.from_dict(None).is_empty  # a model stored before rules existed


def test_derived_columns_are_recomputed_and_checks_flag_broken_rows():
    table = planted()
    ruleset = fit_rules(table, _columns(table))
    noisy = table.set_column(table.schema.get_field_index("a_copy"), "a_copy", pa.array(np.zeros(400)))
    derived, kept = ruleset.apply(noisy)
    assert derived.column("a_copy").equals(table.column("a"))
    assert kept.all()
