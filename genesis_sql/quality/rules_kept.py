"""Rules kept: for every relation between columns that holds in all real rows, the share of synthetic rows
that keep it.

Averages hide broken rules (a survey table scored 0.943 overall while 4% of synthetic rows kept an
equality every real row keeps), so each rule is a metric of its own and the score is the worst share.
The relations are those genesis_sql.rules detects at fit (orders, equalities, offsets, sums, functions of
a code), found again on the real rows given here; ranges of single columns are the column shapes' part.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from genesis_sql.quality.results import MetricResult
from genesis_sql.rules import Bound
from genesis_sql.rules.detect import detect_rules
from genesis_sql.schema import ColumnSpec

RULES = "rules"


def rules_kept_metrics(real: pa.Table, synthetic: pa.Table, columns: Sequence[dict[str, Any]]) -> list[MetricResult]:
    """One metric per relation holding in every real row: the share of synthetic rows keeping it."""
    specs = [ColumnSpec(c["name"], c["kind"], c.get("sql_type", ""), c.get("nullable", True)) for c in columns]
    names = [s.name for s in specs]
    try:
        found = detect_rules(real.select(names), specs)
    except (TypeError, ValueError):
        return []
    results = []
    for rule in found:
        if isinstance(rule, Bound):
            continue
        kept = float(np.mean(rule.holds(synthetic.select(names)))) if synthetic.num_rows else float("nan")
        results.append(MetricResult.of(RULES, "rule_kept", kept, reason="no synthetic rows",
                                       column_1=rule.to_sql(), column_2=rule.kind,
                                       detail={"columns": list(rule.columns)}))
    return results


def rules_kept_score(metrics: Sequence[MetricResult]) -> float | None:
    """The lowest share over the rules (None when the real rows have no such relation)."""
    shares = [m.value for m in metrics if m.category == RULES and m.available]
    return float(min(shares)) if shares else None
