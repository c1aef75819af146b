"""Attack-based privacy risks of an evaluation, as privacy metrics next to DCR and the copy rates.

Four Anonymeter attacks (:mod:`genesis_sql.quality.attacks`) use the synthetic rows against real rows:

- ``singling_out_univariate_risk`` and ``singling_out_multivariate_risk`` (three columns per query);
- ``linkability_risk``: the columns split in two halves, in the model's order (the first half to one
  of the attacker's datasets, the rest to the other);
- ``inference_risk``, one per secret column (``column_1``): the utility target first, then the other
  numeric, integer, categorical and boolean columns in the model's order, at most
  :data:`~genesis_sql.quality.sampling.INFERENCE_SECRETS` of them; the attacker knows every other column.

Each value is Anonymeter's risk, with its 95% confidence interval in the detail. With a holdout it is
the residual risk over the *holdout baseline* (the same attack on holdout rows, as many as the training
rows attacked, so that both face the same odds); without one it is the attack's success rate, and the
holdout baseline is unavailable (never invented). The detail also keeps the counts and the random
baseline (blind guessing), and a warning when the attack does no better than it.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from genesis_sql.quality._columns import EncodedColumn
from genesis_sql.quality.attacks import (
    CONFIDENCE,
    TOLERANCE,
    AttackOutcome,
    Rate,
    inference,
    linkability,
    singling_out,
)
from genesis_sql.quality.privacy import NO_HOLDOUT
from genesis_sql.quality.results import PRIVACY, MetricResult
from genesis_sql.quality.sampling import ATTACKS, INFERENCE_SECRETS, SINGLING_OUT_ATTEMPTS

RISK_METRICS = ("singling_out_univariate_risk", "singling_out_multivariate_risk", "linkability_risk",
                "inference_risk")
SECRET_KINDS = frozenset({"numeric", "integer", "categorical", "boolean"})
NO_ATTACK_COLUMNS = "no numeric, datetime, categorical or boolean column to attack"
NO_QUERY = {
    "univariate": "no value, extreme or NULL of a column occurs in exactly one synthetic row, so no query singles "
                  "one out",
    "multivariate": f"no query written from {SINGLING_OUT_ATTEMPTS:,} synthetic rows singles out exactly one of them",
}
CONTROL_ALWAYS_SUCCEEDS = "every attack on the holdout rows succeeds, so no excess risk can be measured"


def _interval(rate: Rate | None) -> tuple[float | None, float | None, float | None]:
    if rate is None:
        return None, None, None
    risk = rate.to_risk()
    return risk.value, risk.low, risk.high


def risk_result(metric: str, outcome: AttackOutcome, *, column: str | None = None,
                detail: Mapping[str, Any] | None = None, reason: str = CONTROL_ALWAYS_SUCCEEDS) -> MetricResult:
    """One attack's :class:`MetricResult`: the risk, its interval, the holdout and random baselines and the counts.

    ``reason`` says why the risk is unavailable when it cannot be estimated.
    """
    risk = outcome.risk(CONFIDENCE)
    attack, control, blind = outcome.attack_rate(CONFIDENCE), outcome.control_rate(CONFIDENCE), outcome.random_rate()
    (attack_value, attack_low, attack_high), (control_value, control_low, control_high) = (
        _interval(attack), _interval(control))
    full = {**(detail or {}), "confidence": CONFIDENCE, "risk_low": risk.low, "risk_high": risk.high,
            "relative_to_holdout": control is not None,
            "attacks": outcome.attacks, "successes": outcome.successes, "attack_rate": attack_value,
            "attack_rate_low": attack_low, "attack_rate_high": attack_high,
            "holdout_attacks": outcome.control_attacks, "holdout_successes": outcome.control_successes,
            "holdout_rate": control_value, "holdout_rate_low": control_low, "holdout_rate_high": control_high,
            "random_attacks": outcome.random_attacks, "random_successes": outcome.random_successes,
            "random_rate": blind.to_risk().value}
    if control is None:
        full["holdout_reason"] = NO_HOLDOUT
    if attack.value <= blind.value:  # Anonymeter's sanity check
        full["warning"] = "the attack does no better than random guessing, so the risk cannot be trusted"
    return MetricResult.of(PRIVACY, metric, risk.value, column_1=column, reason=reason, detail=full)


def _secrets(columns: Sequence[EncodedColumn], target: str | None) -> list[int]:
    eligible = [i for i, c in enumerate(columns) if c.kind in SECRET_KINDS]
    first = [i for i in eligible if columns[i].name == target]
    return (first + [i for i in eligible if i not in first])[:INFERENCE_SECRETS]


def risk_metrics(columns: Sequence[EncodedColumn], *, rows: Mapping[str, np.ndarray], target: str | None = None,
                 seed: int = 0) -> list[MetricResult]:
    """Every attack-based risk, from the ``"synthetic"``, ``"train"`` and (when present) ``"holdout"`` sides.

    Args:
        columns: The encoded columns the attacker knows (identifier and free-text columns are not encoded).
        rows: Per side, the row indices the attacks use (the evaluator's privacy rows).
        target: The utility target, attacked first by the inference attack; None for none.
        seed: Seeds the attacks' random draws.

    Returns:
        The risk :class:`MetricResult` rows, unavailable (with the reason) when the columns do not allow
        an attack.
    """
    if not columns:
        return [MetricResult.of(PRIVACY, name, float("nan"), reason=NO_ATTACK_COLUMNS) for name in RISK_METRICS]
    rng = np.random.default_rng(seed)
    synthetic, original, control = ("synthetic", rows["synthetic"]), ("train", rows["train"]), None
    if "holdout" in rows:
        size = min(rows["train"].size, rows["holdout"].size)
        original, control = ("train", rows["train"][:size]), ("holdout", rows["holdout"][:size])
    sides = {"synthetic": synthetic, "original": original, "control": control}
    results = []
    for mode in ("univariate", "multivariate"):
        attack = singling_out(columns, mode=mode, attacks=ATTACKS, max_attempts=SINGLING_OUT_ATTEMPTS, rng=rng,
                              **sides)
        reason = CONTROL_ALWAYS_SUCCEEDS if attack.queries else NO_QUERY[mode]
        results.append(risk_result(f"singling_out_{mode}_risk", attack.outcome, reason=reason,
                                   detail={"queries": attack.queries, "mode": mode}))
    if len(columns) < 2:
        reason = "needs at least two columns, one for each of the attacker's datasets"
        results.append(MetricResult.of(PRIVACY, "linkability_risk", float("nan"), reason=f"linkability {reason}"))
        results.append(MetricResult.of(PRIVACY, "inference_risk", float("nan"),
                                       reason="inference needs a secret column and another column the attacker knows"))
        return results
    half = (len(columns) + 1) // 2
    split = (range(half), range(half, len(columns)))
    outcome = linkability(columns, split=split, attacks=ATTACKS, rng=rng, **sides)
    names = [[columns[i].name for i in part] for part in split]
    results.append(risk_result("linkability_risk", outcome, detail={"columns": names}))
    secrets = _secrets(columns, target)
    if not secrets:
        results.append(MetricResult.of(PRIVACY, "inference_risk", float("nan"),
                                       reason="no numeric, integer, categorical or boolean column to keep secret"))
    for secret in secrets:
        outcome = inference(columns, secret, attacks=ATTACKS, rng=rng, **sides)
        results.append(risk_result("inference_risk", outcome, column=columns[secret].name,
                                   detail={"tolerance": TOLERANCE if columns[secret].is_continuous else None}))
    return results
