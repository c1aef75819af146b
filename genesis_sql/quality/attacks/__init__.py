"""Attack-based privacy risks, after Anonymeter (Giomi et al. 2022): singling out, linkability, inference.

Each attack uses the synthetic rows against real rows: the training rows (the attack), real rows the
model never saw (the control, here the holdout: the baseline the attack must beat) and blind guessing
(the random baseline). :class:`AttackOutcome` turns the counts into a risk with a confidence interval.
The attacks work on the encoded columns of an evaluation (:mod:`genesis_sql.quality._columns`) and
agree with the ``anonymeter`` package on shared data (tests/quality/test_anonymeter_agreement.py).
"""
from __future__ import annotations

from genesis_sql.quality.attacks.inference import TOLERANCE, inference
from genesis_sql.quality.attacks.linkability import linkability
from genesis_sql.quality.attacks.outcome import CONFIDENCE, AttackOutcome, Rate, Risk
from genesis_sql.quality.attacks.singling_out import SinglingOut, singling_out

__all__ = ["CONFIDENCE", "TOLERANCE", "AttackOutcome", "Rate", "Risk", "SinglingOut", "inference", "linkability",
           "singling_out"]
