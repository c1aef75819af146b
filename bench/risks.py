"""Benchmark: what the attack-based risks add to ``evaluate``, and their speed against the anonymeter package.

    .venv/bin/python bench/risks.py [--repeat 2] [--no-anonymeter]

1. ``evaluate`` of a model fitted on diamonds (53,940 rows, 20% holdout) against its training query, with
   the attacks and, as the baseline in the same process, with ``risk_metrics`` replaced by one that
   attacks nothing: the difference is what the risks cost a quality run (best of ``--repeat`` runs each).
2. The four attacks at the evaluator's sizes (5,000 synthetic, training and holdout rows; 500 attacks;
   10,000 rows tried for multivariate singling out; every column as an inference secret) on the same
   rows, genesis against anonymeter 1.1 (``n_jobs=1``, as genesis uses one core).

Exit code 0 when the attacks add at most ``LIMIT_SECONDS`` to an evaluation.
"""
from __future__ import annotations

import argparse
import logging
import os
import time
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

import genesis_sql
from genesis_sql.quality import evaluate, evaluator
from genesis_sql.quality._columns import encode_columns
from genesis_sql.quality.risks import risk_metrics
from genesis_sql.quality.sampling import ATTACKS, PRIVACY_ROWS, SINGLING_OUT_ATTEMPTS

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LIMIT_SECONDS = 5.0


def best_evaluation(con: duckdb.DuckDBPyConnection, repeat: int, *, attacks: bool) -> float:
    """The fastest of ``repeat`` evaluations, with or without the attacks."""
    original = evaluator.risk_metrics
    if not attacks:
        evaluator.risk_metrics = lambda *args, **kwargs: []
    try:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            evaluate(con, "diamonds", "SELECT * FROM diamonds", target="price")
            times.append(time.perf_counter() - started)
    finally:
        evaluator.risk_metrics = original
    return min(times)


def against_anonymeter(con: duckdb.DuckDBPyConnection) -> None:
    """Time genesis's attacks and anonymeter's on the same 5,000-row sides."""
    rows = con.sql(f"SELECT * FROM diamonds USING SAMPLE {2 * PRIVACY_ROWS} ROWS (reservoir, 1)").to_arrow_table()
    sides = {"train": rows.slice(0, PRIVACY_ROWS), "holdout": rows.slice(PRIVACY_ROWS),
             "synthetic": genesis_sql.generate(con, "diamonds", PRIVACY_ROWS, seed=1)}
    kinds = [{"name": f.name, "kind": "categorical" if pa.types.is_string(f.type) else "numeric"}
             for f in rows.schema]
    started = time.perf_counter()
    encoded = encode_columns(sides, kinds)
    ours = risk_metrics(encoded, rows={side: np.arange(t.num_rows) for side, t in sides.items()}, seed=0)
    genesis_seconds = time.perf_counter() - started
    try:
        from anonymeter.evaluators import InferenceEvaluator, LinkabilityEvaluator, SinglingOutEvaluator
    except ImportError:
        print(f"genesis attacks: {genesis_seconds:6.2f} s (anonymeter not installed: no comparison)")
        return
    logging.getLogger("anonymeter").setLevel(logging.ERROR)  # its "fewer queries than asked" notices
    frames = {side: t.to_pandas() for side, t in sides.items()}
    names = [k["name"] for k in kinds]
    half = (len(names) + 1) // 2
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = {}
        for mode in ("univariate", "multivariate"):
            attack = SinglingOutEvaluator(frames["train"], frames["synthetic"], n_attacks=ATTACKS,
                                          control=frames["holdout"], max_attempts=SINGLING_OUT_ATTEMPTS, seed=0)
            theirs[f"singling_out_{mode}_risk"] = attack.evaluate(mode=mode).risk().value
        theirs["linkability_risk"] = LinkabilityEvaluator(
            frames["train"], frames["synthetic"], aux_cols=(names[:half], names[half:]), n_attacks=ATTACKS,
            control=frames["holdout"]).evaluate(n_jobs=1).risk().value
        for kind in kinds:
            attack = InferenceEvaluator(frames["train"], frames["synthetic"], secret=kind["name"], n_attacks=ATTACKS,
                                        aux_cols=[n for n in names if n != kind["name"]], control=frames["holdout"],
                                        regression=kind["kind"] == "numeric")
            theirs[f"inference_risk {kind['name']}"] = attack.evaluate(n_jobs=1).risk().value
    anonymeter_seconds = time.perf_counter() - started
    print(f"attacks on 5,000-row sides: genesis {genesis_seconds:6.2f} s, anonymeter {anonymeter_seconds:6.2f} s "
          f"({anonymeter_seconds / genesis_seconds:.0f}x genesis)")
    for m in ours:
        key = m.metric + (f" {m.column_1}" if m.column_1 else "")
        print(f"  {key:<34} genesis {m.value:.3f} [{m.detail['risk_low']:.3f}, {m.detail['risk_high']:.3f}]"
              f"   anonymeter {float(theirs[key]):.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="evaluations timed each way (default 2)")
    parser.add_argument("--no-anonymeter", action="store_true", help="skip the comparison with anonymeter")
    args = parser.parse_args()
    con = duckdb.connect()
    genesis_sql.install(con)
    con.execute(f"CREATE TABLE diamonds AS SELECT * FROM read_csv('{DATA / 'diamonds.csv'}')")
    genesis_sql.fit(con, "diamonds", "SELECT * FROM diamonds", holdout=0.2, seed=0)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    without = best_evaluation(con, args.repeat, attacks=False)
    with_attacks = best_evaluation(con, args.repeat, attacks=True)
    added = with_attacks - without
    print(f"evaluate diamonds (53,940 rows, holdout 0.2): {without:6.2f} s without the attacks (baseline), "
          f"{with_attacks:6.2f} s with them: +{added:.2f} s ({with_attacks / without:.2f}x)")
    if not args.no_anonymeter:
        against_anonymeter(con)
    verdict = "ok" if added <= LIMIT_SECONDS else "TOO SLOW"
    print(f"{verdict}: the attacks may add at most {LIMIT_SECONDS:.0f} s")
    return 0 if added <= LIMIT_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
