"""DP audit: a membership-inference attack's empirical epsilon lower bound against the declared epsilon.

    .venv/bin/python bench/privacy_audit.py                 # 5,000 fits of each neighbouring table per row (about 2 minutes)
    .venv/bin/python bench/privacy_audit.py --trials 500    # shorter, looser bounds

Issue 17's criterion: the attack of genesis_sql.privacy.audit (one canary row in or out, many fits of the
DP copula) gives a 95% lower bound on epsilon (one-sided Clopper-Pearson bounds on its false-positive and
false-negative rates) at most the declared epsilon for epsilon in {0.5, 1, 4}; on the mechanism with its
noise switched off (``mechanism.gaussian_sigma`` patched to 0 in this process only) the same attack must
prove at least 2, so that the audit has the power to catch a leak. tests/privacy/test_audit.py runs the
same audit with 150 fits per table; here many more fits tighten the bounds.

Exit code 0 when every check holds.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from unittest import mock

from genesis_sql.privacy import mechanism
from genesis_sql.privacy.audit import CONFIDENCE, AuditResult, audit

EPSILONS = (0.5, 1.0, 4.0)
# The noise-off control runs at this declared epsilon (without noise the declaration is moot).
CONTROL_EPSILON = 1.0
CONTROL_MINIMUM = 2.0


def _row(label: str, result: AuditResult, ok: bool, seconds: float) -> str:
    estimate = "inf" if math.isinf(result.epsilon_estimate) else f"{result.epsilon_estimate:.3f}"
    return (f"{label:<16} {result.trials:>6} {result.false_positives:>6} {result.false_negatives:>6} "
            f"{result.fpr_upper:>9.4f} {result.fnr_upper:>9.4f} {estimate:>9} {result.epsilon_lower_bound:>10.3f} "
            f"{seconds:>7.1f}  {'ok' if ok else 'FAIL'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5000, help="fits of each neighbouring table per row")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; {args.trials:,} fits per table, "
          f"{CONFIDENCE:.0%} one-sided Clopper-Pearson bounds")
    print(f"{'mechanism':<16} {'trials':>6} {'FP':>6} {'FN':>6} {'FPR<=':>9} {'FNR<=':>9} {'eps est':>9} "
          f"{'eps >= LB':>10} {'seconds':>7}  check")
    failed = []
    for epsilon in EPSILONS:
        started = time.perf_counter()
        result = audit(epsilon, args.trials)
        ok = result.epsilon_lower_bound <= epsilon
        print(_row(f"dp eps={epsilon:g}", result, ok, time.perf_counter() - started), flush=True)
        if not ok:
            failed.append(f"eps={epsilon:g}: lower bound {result.epsilon_lower_bound:.3f} > declared")
    started = time.perf_counter()
    with mock.patch.object(mechanism, "gaussian_sigma", lambda sensitivity, rho: 0.0):
        result = audit(CONTROL_EPSILON, args.trials)
    ok = result.epsilon_lower_bound >= CONTROL_MINIMUM
    print(_row("noise off", result, ok, time.perf_counter() - started), flush=True)
    if not ok:
        failed.append(f"noise off: lower bound {result.epsilon_lower_bound:.3f} < {CONTROL_MINIMUM:g} (no power)")
    print(f"checks: lower bound <= declared epsilon for {', '.join(f'{e:g}' for e in EPSILONS)}; "
          f"noise-off lower bound >= {CONTROL_MINIMUM:g}. load average {os.getloadavg()[0]:.2f}")
    print("all checks passed" if not failed else "FAIL " + "; ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
