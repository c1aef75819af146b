"""Attack-based risks as privacy metrics: the holdout baseline or its absence, reasons, secrets, scores."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from genesis_sql.quality import QualityEvaluator, risks
from genesis_sql.quality._columns import encode_columns
from genesis_sql.quality.privacy import NO_HOLDOUT
from genesis_sql.quality.risks import RISK_METRICS, risk_metrics

COLUMNS = [{"name": "x", "kind": "numeric"}, {"name": "when", "kind": "datetime"}, {"name": "c", "kind": "categorical"},
           {"name": "y", "kind": "integer"}]


def tables(rows: int = 300, seed: int = 0) -> dict[str, pa.Table]:
    rng = np.random.default_rng(seed)

    def table() -> pa.Table:
        return pa.table({"x": rng.normal(size=rows), "when": pa.array(rng.integers(0, 10**6, rows), pa.timestamp("s")),
                         "c": rng.choice(list("pqr"), rows), "y": rng.integers(0, 50, rows)})

    return {"train": table(), "holdout": table(), "synthetic": table()}


def metrics(sides: dict[str, pa.Table], columns=COLUMNS, **options) -> list:
    encoded = encode_columns(sides, columns)
    return risk_metrics(encoded, rows={side: np.arange(t.num_rows) for side, t in sides.items()}, **options)


def test_with_a_holdout_each_risk_has_its_interval_and_holdout_baseline():
    results = metrics(tables(), target="y")
    assert [m.metric for m in results] == list(RISK_METRICS[:3]) + ["inference_risk"] * 3
    # The utility target is attacked first; the datetime column only helps the attacker.
    assert [m.column_1 for m in results[3:]] == ["y", "x", "c"]
    for m in results:
        d = m.detail
        assert m.available and d["relative_to_holdout"] and d["holdout_attacks"] == d["attacks"]
        assert d["risk_low"] <= m.value <= d["risk_high"]
        assert d["holdout_rate_low"] <= d["holdout_rate"] <= d["holdout_rate_high"]
    assert results[2].detail["columns"] == [["x", "when"], ["c", "y"]]


def test_without_a_holdout_the_baseline_is_unavailable_and_the_risk_is_the_attack_rate():
    sides = tables()
    del sides["holdout"]
    for m in metrics(sides):
        assert m.available and not m.detail["relative_to_holdout"]
        assert m.detail["holdout_rate"] is None and m.detail["holdout_successes"] is None
        assert m.detail["holdout_reason"] == NO_HOLDOUT
        assert m.value == pytest.approx(m.detail["attack_rate"])


def test_the_training_rows_attacked_are_as_many_as_the_holdout_rows():
    sides = tables()
    sides["holdout"] = sides["holdout"].slice(0, 120)
    # Linkability and inference attack rows (singling out counts queries written from synthetic rows).
    for m in metrics(sides)[2:]:
        assert m.detail["attacks"] == m.detail["holdout_attacks"] == 120


def test_too_few_columns_are_named_as_the_reason():
    one = metrics(tables(), columns=[COLUMNS[0]])
    reasons = {m.metric: m.detail.get("reason") for m in one}
    assert one[0].available and "two columns" in reasons["linkability_risk"] and "secret" in reasons["inference_risk"]
    none = risk_metrics([], rows={})
    assert [m.metric for m in none] == list(RISK_METRICS) and not any(m.available for m in none)
    assert none[0].detail["reason"] == risks.NO_ATTACK_COLUMNS


def test_the_number_of_secret_columns_is_capped(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(risks, "INFERENCE_SECRETS", 2)
    assert [m.column_1 for m in metrics(tables(), target="c") if m.metric == "inference_risk"] == ["c", "x"]


def test_same_seed_same_risks_and_the_evaluator_reports_the_riskiest_secret():
    sides = tables(seed=3)
    assert metrics(sides, seed=5) == metrics(sides, seed=5)
    real, synthetic = sides["train"], pa.concat_tables([sides["synthetic"].slice(100), sides["train"].slice(0, 100)])
    report = QualityEvaluator(COLUMNS, seed=0).evaluate(real, synthetic, holdout=sides["holdout"])
    inference = report.select("privacy", "inference_risk")
    worst = max(inference, key=lambda m: m.value)
    assert report.scores["inference_risk"] == worst.value and report.scores["inference_risk_column"] == worst.column_1
    for name in RISK_METRICS[:3]:
        assert report.scores[name] == report.value("privacy", name)
    # A third of the synthetic rows copy training rows: linking and inferring them beats the holdout.
    assert report.scores["linkability_risk"] > 0.1 and worst.value > 0.1
