"""smartnoise-synth's MST on one training table at several epsilons; run by bench/privacy.py in its own venv.

smartnoise-synth 1.0.8 pins opacus<0.15 while the `bench` extra has opacus 1.6, so it lives in
.venv-smartnoise (``make .venv-smartnoise/.stamp``) and bench/privacy.py calls this script there:

    .venv-smartnoise/bin/python bench/dp_baselines/smartnoise_mst.py TRAIN.csv OUT_DIR \
        --categorical a,b --continuous c,d --delta 1e-6 --epsilon 0.5 1 4

For each epsilon it fits MST (delta as given; a tenth of epsilon goes to the bounds of the continuous
columns, smartnoise's DP preprocessing, the rest to MST itself), samples as many rows as it trained on
into OUT_DIR/mst-<epsilon>.csv and prints one JSON line ``{"epsilon", "seconds", "path"}``, or
``{"epsilon", "error"}`` when smartnoise gives up (at small epsilons its DP bounds search finds none).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd
from snsynth import Synthesizer

PREPROCESSOR_SHARE = 0.1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--categorical", default="")
    parser.add_argument("--continuous", default="")
    parser.add_argument("--delta", type=float, required=True)
    parser.add_argument("--epsilon", type=float, nargs="+", required=True)
    args = parser.parse_args()
    categorical = [c for c in args.categorical.split(",") if c]
    continuous = [c for c in args.continuous.split(",") if c]
    train = pd.read_csv(args.train, dtype={c: str for c in categorical}, keep_default_na=False)
    for epsilon in args.epsilon:
        started = time.perf_counter()
        synthesizer = Synthesizer.create("mst", epsilon=epsilon, delta=args.delta, verbose=False)
        try:
            synth = synthesizer.fit_sample(train, categorical_columns=categorical, continuous_columns=continuous,
                                           preprocessor_eps=PREPROCESSOR_SHARE * epsilon, nullable=False)
        except ValueError as exc:
            print(json.dumps({"epsilon": epsilon, "error": str(exc)}), flush=True)
            continue
        path = args.out_dir / f"mst-{epsilon:g}.csv"
        synth.to_csv(path, index=False)
        print(json.dumps({"epsilon": epsilon, "seconds": time.perf_counter() - started, "path": str(path)}),
              flush=True)


if __name__ == "__main__":
    main()
