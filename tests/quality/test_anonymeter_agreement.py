"""The attack-based risks agree with the ``anonymeter`` package (1.1) within its confidence interval.

Both sides attack the same diamonds rows (../shared/data) with the same attack counts: 500 training rows,
500 holdout rows (the control) and 1,000 synthetic rows, either a genesis model's or real rows with 150
exact copies of training rows (a leak every attack should find). Linkability and inference attack every
row on both sides, so both pick the same targets; multivariate singling out draws Anonymeter's random
numbers from the same seed, so both write the same queries; univariate singling out asks every candidate
query on both sides. ``make test`` installs anonymeter with --no-deps (its metadata pins numpy<1.27 and
pyarrow<22, which it does not need).
"""
from __future__ import annotations

import warnings

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from anonymeter.evaluators import InferenceEvaluator, LinkabilityEvaluator, SinglingOutEvaluator

import genesis_sql
from genesis_sql.quality._columns import encode_columns
from genesis_sql.quality.attacks import AttackOutcome, inference, linkability, singling_out
from genesis_sql.quality.attacks.queries import attack_matrix, first_distinct
from genesis_sql.quality.attacks.singling_out import univariate_queries

ROWS = 500
SYNTHETIC_ROWS = 1000
COPIES = 150
SEED = 0


@pytest.fixture(scope="module", params=["copies", "genesis"])
def shared(request, data_dir) -> dict:
    """Training, holdout and synthetic rows as pandas frames (for anonymeter) and encoded columns (for genesis)."""
    rows = pd.read_csv(data_dir / "diamonds.csv").drop_duplicates().sample(3 * ROWS + SYNTHETIC_ROWS,
                                                                           random_state=SEED)
    train, control = rows.iloc[:ROWS].reset_index(drop=True), rows.iloc[ROWS:2 * ROWS].reset_index(drop=True)
    if request.param == "copies":
        fresh = rows.iloc[2 * ROWS:2 * ROWS + SYNTHETIC_ROWS - COPIES]
        synthetic = pd.concat([fresh, train.iloc[:COPIES]]).reset_index(drop=True)
    else:
        with duckdb.connect() as con:
            genesis_sql.install(con)
            con.register("train_rows", train)
            genesis_sql.fit(con, "m", "SELECT * FROM train_rows", seed=SEED)
            synthetic = genesis_sql.generate(con, "m", SYNTHETIC_ROWS, seed=SEED).to_pandas()
    kinds = [{"name": c, "kind": "categorical" if train[c].dtype == object else "numeric"} for c in train.columns]
    tables = {"train": train, "holdout": control, "synthetic": synthetic}
    encoded = encode_columns({side: pa.Table.from_pandas(t, preserve_index=False) for side, t in tables.items()}, kinds)
    sides = {"synthetic": ("synthetic", np.arange(len(synthetic))), "original": ("train", np.arange(ROWS)),
             "control": ("holdout", np.arange(ROWS))}
    return {"frames": tables, "columns": encoded, "sides": sides, "kinds": kinds}


def assert_agrees(ours: AttackOutcome, evaluator, what: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # anonymeter warns when an attack does no better than its baseline
        theirs = evaluator.risk()
    low, high = (float(v) for v in theirs.ci)
    risk = ours.risk()
    assert low - 1e-9 <= risk.value <= high + 1e-9, (
        f"{what}: genesis risk {risk.value:.4f} ({ours.successes}/{ours.attacks}, holdout "
        f"{ours.control_successes}/{ours.control_attacks}) outside anonymeter's {float(theirs.value):.4f} "
        f"[{low:.4f}, {high:.4f}] ({evaluator.results().n_success}, holdout {evaluator.results().n_control})")


def test_multivariate_singling_out_agrees(shared):
    frames = shared["frames"]
    theirs = SinglingOutEvaluator(frames["train"], frames["synthetic"], n_attacks=ROWS, control=frames["holdout"],
                                  seed=SEED).evaluate(mode="multivariate")
    ours = singling_out(shared["columns"], mode="multivariate", attacks=ROWS, max_attempts=10_000_000,
                        rng=np.random.default_rng(SEED), **shared["sides"])
    assert ours.queries == ROWS
    assert_agrees(ours.outcome, theirs, "singling out (multivariate)")
    # Same seed, same queries: the same rows are singled out on both sides.
    assert (ours.outcome.successes, ours.outcome.control_successes) == (theirs.results().n_success,
                                                                        theirs.results().n_control)


def test_univariate_singling_out_agrees(shared):
    # Univariate queries are a random pick among the same candidates, in an order anonymeter's polars
    # hashing changes from run to run; asking for every candidate makes both sides ask the same queries.
    synthetic = attack_matrix(shared["columns"], *shared["sides"]["synthetic"])
    continuous = np.array([c.is_continuous for c in shared["columns"]])
    candidates = len(univariate_queries(synthetic[first_distinct(synthetic)], continuous, 10 ** 9,
                                        np.random.default_rng(SEED)))
    assert candidates > ROWS
    frames = shared["frames"]
    theirs = SinglingOutEvaluator(frames["train"], frames["synthetic"], n_attacks=candidates,
                                  control=frames["holdout"], seed=SEED).evaluate(mode="univariate")
    ours = singling_out(shared["columns"], mode="univariate", attacks=candidates, max_attempts=1,
                        rng=np.random.default_rng(SEED), **shared["sides"])
    assert_agrees(ours.outcome, theirs, "singling out (univariate)")
    assert (ours.outcome.successes, ours.outcome.control_successes) == (theirs.results().n_success,
                                                                        theirs.results().n_control)


def test_linkability_agrees(shared):
    frames, names = shared["frames"], [c["name"] for c in shared["kinds"]]
    split = (range(5), range(5, len(names)))
    theirs = LinkabilityEvaluator(frames["train"], frames["synthetic"], n_attacks=ROWS, control=frames["holdout"],
                                  aux_cols=tuple([names[i] for i in part] for part in split)).evaluate(n_jobs=1)
    ours = linkability(shared["columns"], split=split, attacks=ROWS, rng=np.random.default_rng(SEED), **shared["sides"])
    assert_agrees(ours, theirs, "linkability")
    # Every row is attacked on both sides; only exact ties between synthetic rows may be broken differently.
    assert abs(ours.successes - theirs.results().n_success) <= 3
    assert abs(ours.control_successes - theirs.results().n_control) <= 3


def test_inference_agrees_for_every_secret_column(shared):
    frames, kinds = shared["frames"], shared["kinds"]
    for secret, spec in enumerate(kinds):
        name = spec["name"]
        theirs = InferenceEvaluator(frames["train"], frames["synthetic"], n_attacks=ROWS, control=frames["holdout"],
                                    aux_cols=[k["name"] for k in kinds if k["name"] != name], secret=name,
                                    regression=spec["kind"] == "numeric").evaluate(n_jobs=1)
        ours = inference(shared["columns"], secret, attacks=ROWS, rng=np.random.default_rng(SEED), **shared["sides"])
        assert_agrees(ours, theirs, f"inference of {name}")
        assert abs(ours.successes - theirs.results().n_success) <= 3
        assert abs(ours.control_successes - theirs.results().n_control) <= 3
