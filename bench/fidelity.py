"""Fidelity, privacy, utility and speed of genesis synthesizers against SDV, in one process.

Run from the project root (``make bench`` runs every bench/*.py):

    .venv/bin/python bench/fidelity.py               # everything; SDV figures come from bench/.cache when present
    .venv/bin/python bench/fidelity.py --sdv-only    # only fill the SDV cache (slow: CTGAN/TVAE at 300 epochs)
    .venv/bin/python bench/fidelity.py --refresh     # re-run SDV instead of reading its cached figures

Protocol (the foundation's criterion and issue 5's acceptance):

- diamonds, MedExp and Benefits from ../shared/data, split as ../shared/checks/contract.py does: every
  fifth row (by file order) is held out, the other rows train every synthesizer;
- every synthesizer makes as many rows as it trained on;
- one explicit metadata scores them all: numbers with more than 10 distinct values are numerical,
  everything else categorical (contract.py's ``quality()``); SDV is given the same metadata (which also
  keeps SDV 2.0 from reading Benefits' ``state`` as an address and crashing);
- SDV's CTGAN and TVAE (default 300 epochs) and PARSynthesizer (default 128 epochs) take minutes each on
  a CPU, so their score and fit+sample seconds are cached per table in bench/.cache/ (keyed by the
  training rows' digest and the SDV version), and the output says when a figure is cached; SDV's
  GaussianCopula takes seconds and always runs in this process, so that the time bounds against it
  compare runs under the same load;
- Males (sequence_key="nr", sequence_index="year") and a variable-length version of it (a seeded random
  tail of each person's years dropped) measure sequences, with PAR's figures from the same run.

Exit code 0 when every acceptance check holds; the failing ones are listed.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CACHE = ROOT / "bench" / ".cache"
TABLES = ("diamonds", "MedExp", "Benefits")
SDV_SYNTHESIZERS = ("GaussianCopula", "CTGAN", "TVAE")
# SDV synthesizers fast enough to run every time, never read from the cache.
LIVE_SDV = ("GaussianCopula",)
SEQUENCE_KEY, SEQUENCE_INDEX = "nr", "year"

results: list[tuple[bool, str, str]] = []


def check(label: str, ok: bool, detail: str = "") -> bool:
    """Record and print one acceptance check."""
    results.append((ok, label, detail))
    print(f"{'ok  ' if ok else 'FAIL'} {label}" + (f": {detail}" if detail else ""), flush=True)
    return ok


def info(label: str, detail: str) -> None:
    """Print a figure that is reported but not checked."""
    print(f"     {label}: {detail}", flush=True)


# --- data ---------------------------------------------------------------------------------------------

def read_sql(name: str) -> str:
    return f"SELECT * FROM read_csv('{DATA / (name + '.csv')}', header = true)"


def load_split(con: duckdb.DuckDBPyConnection, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training rows, holdout rows) as contract.py makes them, also stored as tables ``<name>_real/_holdout``."""
    low = name.lower()
    con.execute(f"CREATE OR REPLACE TABLE {low}_all AS SELECT *, row_number() OVER () AS _row FROM ({read_sql(name)})")
    con.execute(f"CREATE OR REPLACE TABLE {low}_real AS SELECT * EXCLUDE (_row) FROM {low}_all WHERE _row % 5 <> 0 ORDER BY _row")
    con.execute(f"CREATE OR REPLACE TABLE {low}_holdout AS SELECT * EXCLUDE (_row) FROM {low}_all WHERE _row % 5 = 0 ORDER BY _row")
    return con.sql(f"SELECT * FROM {low}_real").df(), con.sql(f"SELECT * FROM {low}_holdout").df()


def variable_length_males(con: duckdb.DuckDBPyConnection) -> None:
    """Tables ``males`` (the panel) and ``males_var`` (each person's years cut after a seeded random length)."""
    con.execute(f"CREATE OR REPLACE TABLE males AS {read_sql('Males')}")
    con.execute(
        "CREATE OR REPLACE TABLE males_var AS SELECT m.* FROM males AS m JOIN "
        "(SELECT nr, 2 + hash(nr, 7) % 7 AS keep FROM (SELECT DISTINCT nr FROM males)) AS k USING (nr) "
        "WHERE m.year < 1980 + k.keep ORDER BY nr, year")


def digest(df: pd.DataFrame) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(df, index=False).values.tobytes()).hexdigest()[:16]


# --- scoring (the same functions as ../shared/checks/contract.py) -------------------------------------

def sdtypes(real: pd.DataFrame) -> dict[str, str]:
    """The one explicit metadata: numbers with more than 10 distinct values numerical, the rest categorical."""
    return {c: "numerical" if real[c].dtype.kind in "iuf" and real[c].nunique() > 10 else "categorical"
            for c in real.columns}


def quality(real: pd.DataFrame, synth: pd.DataFrame) -> float:
    """SDMetrics QualityReport overall score under :func:`sdtypes`."""
    from sdmetrics.reports.single_table import QualityReport

    types = sdtypes(real)
    real, synth = real.copy(), synth[list(real.columns)].copy()
    for c, kind in types.items():
        if kind == "categorical":
            real[c], synth[c] = real[c].astype(str), synth[c].astype(str)
    report = QualityReport()
    report.generate(real, synth, {"columns": {c: {"sdtype": k} for c, k in types.items()}}, verbose=False)
    return float(report.get_score())


def _norm(df: pd.DataFrame) -> pd.DataFrame:
    df = df.astype(object)
    return df.where(df.notna(), "").astype(str)


def copy_rate(train: pd.DataFrame, other: pd.DataFrame) -> float:
    """Fraction of rows of ``other`` equal to some training row."""
    seen = set(_norm(train).itertuples(index=False, name=None))
    rows = list(_norm(other[list(train.columns)]).itertuples(index=False, name=None))
    return sum(r in seen for r in rows) / max(len(rows), 1)


def dcr_ratio(train: pd.DataFrame, synth: pd.DataFrame, holdout: pd.DataFrame) -> float:
    """Median distance of synthetic rows to the closest training row over the same for holdout rows."""
    from sklearn.neighbors import NearestNeighbors

    cols = list(train.columns)
    frames = [train[cols], synth[cols], holdout[cols]]
    numeric = [c for c in cols if train[c].dtype.kind in "iuf"]
    parts = []
    for c in numeric:
        x = [f[c].astype(float) for f in frames]
        lo, hi = np.nanpercentile(x[0], [5, 95])
        scale = (hi - lo) or 1.0
        parts.append([((v - np.nanmedian(x[0])) / scale).fillna(0).to_numpy()[:, None] for v in x])
    other = [c for c in cols if c not in numeric and train[c].nunique() <= 100]
    if other:
        stacked = pd.concat([f[other].astype(str) for f in frames], keys=range(3))
        dummies = pd.get_dummies(stacked).astype(float)
        parts.append([dummies.xs(i).to_numpy() for i in range(3)])
    tr, sy, ho = (np.hstack([p[i] for p in parts]) for i in range(3))
    nn = NearestNeighbors(n_neighbors=1).fit(tr)
    d_syn = np.median(nn.kneighbors(sy[:5000])[0])
    d_hold = np.median(nn.kneighbors(ho[:5000])[0])
    return float(d_syn / d_hold) if d_hold > 0 else (float("inf") if d_syn > 0 else 1.0)


def ml_r2(train: pd.DataFrame, test: pd.DataFrame, target: str) -> float:
    """R^2 on ``test`` of sklearn gradient boosting trained on ``train`` to predict ``target``."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.metrics import r2_score

    features = [c for c in train.columns if c != target]
    cats = [c for c in features if train[c].dtype.kind not in "iuf"]

    def encode(df: pd.DataFrame) -> pd.DataFrame:
        out = df[features].copy()
        for c in cats:
            out[c] = pd.Categorical(out[c].astype(str), categories=sorted(test[c].astype(str).unique()))
        return out

    model = HistGradientBoostingRegressor(random_state=0, categorical_features="from_dtype")
    model.fit(encode(train), train[target].astype(float))
    return float(r2_score(test[target].astype(float), model.predict(encode(test))))


# --- SDV baselines ---------------------------------------------------------------------------------------

def sdv_metadata(table: str, real: pd.DataFrame):
    from sdv.metadata import Metadata

    columns = {c: {"sdtype": k} for c, k in sdtypes(real).items()}
    return Metadata.load_from_dict({"tables": {table: {"columns": columns}}, "METADATA_SPEC_VERSION": "V1"},
                                   single_table_name=table)


# Set by --cached-only: SDV figures missing from the cache are reported missing instead of computed.
CACHED_ONLY = False


def _cached(path: Path, refresh: bool, run, *, live: bool = False) -> dict | None:
    if path.exists() and not (refresh or live):
        figures = json.loads(path.read_text())
        figures["cached"] = True
        return figures
    if CACHED_ONLY and not live:
        return None
    figures = run()
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=1))
    figures["cached"] = False
    return figures


def sdv_tabular(table: str, real: pd.DataFrame, synthesizer: str, refresh: bool) -> dict:
    """Score and fit+sample seconds of one SDV single-table synthesizer (cached)."""
    import sdv
    from sdv import single_table

    def run() -> dict:
        cls = getattr(single_table, f"{synthesizer}Synthesizer")
        started = time.perf_counter()
        model = cls(sdv_metadata(table, real))
        model.fit({table: real})
        synth = model.sample(len(real))
        if isinstance(synth, dict):
            synth = synth[table]
        seconds = time.perf_counter() - started
        return {"score": quality(real, synth), "seconds": seconds, "rows": len(real)}

    path = CACHE / f"sdv-{sdv.__version__}-{table}-{synthesizer}-{digest(real)}.json"
    return _cached(path, refresh, run, live=synthesizer in LIVE_SDV)


def sdv_par(label: str, real: pd.DataFrame, refresh: bool) -> dict:
    """Sequence figures of SDV's PARSynthesizer (default settings, cached)."""
    import sdv
    from sdv.metadata import Metadata
    from sdv.sequential import PARSynthesizer

    def run() -> dict:
        columns = {c: {"sdtype": k} for c, k in sdtypes(real).items()}
        columns[SEQUENCE_KEY] = {"sdtype": "id"}
        columns[SEQUENCE_INDEX] = {"sdtype": "numerical"}
        metadata = Metadata.load_from_dict({"tables": {label: {"columns": columns,
                                                               "sequence_key": SEQUENCE_KEY,
                                                               "sequence_index": SEQUENCE_INDEX}},
                                            "METADATA_SPEC_VERSION": "V1"}, single_table_name=label)
        started = time.perf_counter()
        model = PARSynthesizer(metadata)
        model.fit({label: real})
        entities = real[SEQUENCE_KEY].nunique()
        synth = model.sample_sequences(entities)
        if isinstance(synth, dict):
            synth = synth[label]
        seconds = time.perf_counter() - started
        figures = sequence_figures(real, synth)
        figures["seconds"] = seconds
        return figures

    path = CACHE / f"sdv-{sdv.__version__}-{label}-PAR-{digest(real)}.json"
    return _cached(path, refresh, run)


# --- sequences ----------------------------------------------------------------------------------------

def context_columns_of(real: pd.DataFrame) -> list[str]:
    """Columns constant within every entity of the real data."""
    groups = real.groupby(SEQUENCE_KEY)
    return [c for c in real.columns
            if c not in (SEQUENCE_KEY, SEQUENCE_INDEX) and bool((groups[c].nunique(dropna=False) <= 1).all())]


def lag1(df: pd.DataFrame, column: str) -> float:
    """Lag-1 autocorrelation of ``column`` within entities (pairs of consecutive rows of one entity)."""
    ordered = df.sort_values([SEQUENCE_KEY, SEQUENCE_INDEX], kind="stable")
    same = ordered[SEQUENCE_KEY].to_numpy()[1:] == ordered[SEQUENCE_KEY].to_numpy()[:-1]
    x = ordered[column].to_numpy(dtype=float)
    return float(np.corrcoef(x[:-1][same], x[1:][same])[0, 1])


def sequence_figures(real: pd.DataFrame, synth: pd.DataFrame) -> dict:
    """Entity count, mean length, wage lag-1 autocorrelation and context constancy of a sequence table."""
    context = context_columns_of(real)
    groups = synth.groupby(SEQUENCE_KEY)
    constant = (groups[context].nunique(dropna=False) <= 1).all(axis=1) if context else pd.Series(True, groups.size().index)
    return {
        "entities": int(synth[SEQUENCE_KEY].nunique()),
        "mean_length": float(groups.size().mean()),
        "wage_lag1": lag1(synth, "wage"),
        "context_constant": float(constant.mean()),
        "context_columns": context,
    }


# --- genesis -----------------------------------------------------------------------------------------

def genesis_run(con: duckdb.DuckDBPyConnection, table: str, real: pd.DataFrame, method: str,
                **options) -> tuple[pd.DataFrame, dict]:
    """Fit ``method`` on ``<table>_real`` and generate as many rows as it trained on, timing both."""
    import genesis_sql

    model = f"{table.lower()}_{method}"
    started = time.perf_counter()
    summary = genesis_sql.fit(con, model, f"SELECT * FROM {table.lower()}_real", method=method, seed=0, **options)
    n = real[SEQUENCE_KEY].nunique() if options.get("sequence_key") else len(real)
    synth = genesis_sql.generate(con, model, n, seed=1).to_pandas()
    return synth, {"method": summary.method, "seconds": time.perf_counter() - started}


def privacy_checks(label: str, real: pd.DataFrame, holdout: pd.DataFrame, synth: pd.DataFrame) -> None:
    """DESIGN.md's privacy defaults: exact copies, near copies."""
    rate, base = copy_rate(real, synth), copy_rate(real, holdout)
    check(f"{label}: exact-copy rate <= max(2%, 2x holdout's)", rate <= max(0.02, 2 * base),
          f"{rate:.2%} (holdout {base:.2%})")
    ratio = dcr_ratio(real, synth, holdout)
    check(f"{label}: median DCR >= 0.5x holdout's", ratio >= 0.5, f"ratio {ratio:.2f}")


def tabular(con: duckdb.DuckDBPyConnection, name: str, real: pd.DataFrame, holdout: pd.DataFrame,
            refresh: bool, with_tvae: bool) -> None:
    print(f"\n== {name}: {len(real):,} training rows, {len(holdout):,} held out", flush=True)
    sdv = {s: sdv_tabular(name, real, s, refresh) for s in SDV_SYNTHESIZERS}
    for s, figures in sdv.items():
        info(f"SDV {s}", "not in the cache (run --sdv-only)" if figures is None else
             f"score {figures['score']:.4f}, fit+sample {figures['seconds']:.1f} s" + (" (cached)" if figures["cached"] else ""))
    sdv = {s: figures for s, figures in sdv.items() if figures is not None}
    ours = {}
    for method in ("copula", "auto") + (("tvae",) if with_tvae else ()):
        synth, figures = genesis_run(con, name, real, method)
        figures["score"] = quality(real, synth)
        ours[method] = figures
        info(f"genesis {method}" + (f" -> {figures['method']}" if method == "auto" else ""),
             f"score {figures['score']:.4f}, fit+sample {figures['seconds']:.2f} s")
        privacy_checks(f"{name} genesis {method}", real, holdout, synth)
        if name == "diamonds" and method == "auto":
            trtr, tstr = ml_r2(real, holdout, "price"), ml_r2(synth, holdout, "price")
            check("diamonds: ML utility on price, TSTR R^2 within 0.05 of TRTR", trtr - tstr <= 0.05,
                  f"TSTR {tstr:.4f}, TRTR {trtr:.4f}")
    if len(sdv) < len(SDV_SYNTHESIZERS):
        check(f"{name}: SDV baselines available", False, f"missing {sorted(set(SDV_SYNTHESIZERS) - set(sdv))}")
        return
    gc = sdv["GaussianCopula"]
    best_name = max(sdv, key=lambda s: sdv[s]["score"])
    best = sdv[best_name]
    auto = ours["auto"]
    check(f"{name}: genesis copula >= SDV GaussianCopula", ours["copula"]["score"] >= gc["score"],
          f"{ours['copula']['score']:.4f} vs {gc['score']:.4f}")
    check(f"{name}: genesis auto ({auto['method']}) >= best SDV ({best_name})", auto["score"] >= best["score"],
          f"{auto['score']:.4f} vs {best['score']:.4f}")
    if name == "diamonds":
        check("diamonds: genesis auto >= 0.90", auto["score"] >= 0.90, f"{auto['score']:.4f}")
    check(f"{name}: auto fit+sample <= 1/10 of SDV {best_name}'s", auto["seconds"] <= best["seconds"] / 10,
          f"{auto['seconds']:.2f} s vs {best['seconds']:.1f} s (1/{best['seconds'] / auto['seconds']:.1f})")
    limit = max(3 * gc["seconds"], 10.0)
    check(f"{name}: auto fit+sample <= max(3x SDV GaussianCopula's, 10 s)", auto["seconds"] <= limit,
          f"{auto['seconds']:.2f} s vs limit {limit:.1f} s")


def text_privacy(con: duckdb.DuckDBPyConnection) -> None:
    """movies (near-unique titles): auto never copies a training title."""
    real, holdout = load_split(con, "movies")
    synth, figures = genesis_run(con, "movies", real, "auto")
    copied = synth["title"].isin(set(real["title"].dropna())).mean()
    check(f"movies genesis auto ({figures['method']}): no training title copied", copied == 0,
          f"{copied:.2%} of {len(synth):,} titles")
    privacy_checks("movies genesis auto", real, holdout, synth)


def sequences(con: duckdb.DuckDBPyConnection, refresh: bool) -> None:
    import genesis_sql

    for label in ("males", "males_var"):
        real = con.sql(f"SELECT * FROM {label}").df()
        print(f"\n== {label}: {real[SEQUENCE_KEY].nunique()} entities, {len(real):,} rows", flush=True)
        truth = sequence_figures(real, real)
        info("real", f"mean length {truth['mean_length']:.2f}, wage lag-1 {truth['wage_lag1']:.3f}, "
             f"context columns {truth['context_columns']}")
        par = sdv_par(label, real, refresh) or {"cached": False, "entities": 0, "mean_length": float("nan"),
                                                "wage_lag1": float("nan"), "context_constant": float("nan"),
                                                "seconds": float("nan")}
        info("SDV PAR" + (" (cached)" if par["cached"] else ""),
             f"entities {par['entities']}, mean length {par['mean_length']:.2f}, wage lag-1 {par['wage_lag1']:.3f}, "
             f"context constant in {par['context_constant']:.1%} of entities, {par['seconds']:.1f} s")
        started = time.perf_counter()
        genesis_sql.fit(con, label, f"SELECT * FROM {label}", sequence_key=SEQUENCE_KEY, sequence_index=SEQUENCE_INDEX)
        synth = genesis_sql.generate(con, label, truth["entities"], seed=1).to_pandas()
        ours = sequence_figures(real, synth)
        info("genesis sequence", f"{time.perf_counter() - started:.1f} s")
        check(f"{label}: entity count exact", ours["entities"] == truth["entities"],
              f"{ours['entities']} (PAR {par['entities']})")
        check(f"{label}: mean length within 15%", abs(ours["mean_length"] / truth["mean_length"] - 1) <= 0.15,
              f"{ours['mean_length']:.2f} vs {truth['mean_length']:.2f} (PAR {par['mean_length']:.2f})")
        check(f"{label}: wage lag-1 autocorrelation within 0.1", abs(ours["wage_lag1"] - truth["wage_lag1"]) <= 0.1,
              f"{ours['wage_lag1']:.3f} vs {truth['wage_lag1']:.3f} (PAR {par['wage_lag1']:.3f})")
        check(f"{label}: context columns constant within 100% of entities", ours["context_constant"] == 1.0,
              f"{ours['context_constant']:.1%} (PAR {par['context_constant']:.1%})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdv-only", action="store_true", help="only run (and cache) the SDV baselines")
    parser.add_argument("--refresh", action="store_true", help="re-run SDV instead of reading bench/.cache")
    parser.add_argument("--tables", nargs="*", default=list(TABLES), help="tables to run (default: all three)")
    parser.add_argument("--tvae", action="store_true", help="also report genesis method='tvae' (minutes on a CPU)")
    parser.add_argument("--cached-only", action="store_true",
                        help="never run SDV's slow synthesizers; report missing cached figures")
    args = parser.parse_args()
    global CACHED_ONLY
    CACHED_ONLY = args.cached_only
    warnings.filterwarnings("ignore")
    import genesis_sql

    con = duckdb.connect()
    genesis_sql.install(con)
    splits = {name: load_split(con, name) for name in args.tables}
    variable_length_males(con)
    if args.sdv_only:
        for name in args.tables:
            for synthesizer in SDV_SYNTHESIZERS:
                figures = sdv_tabular(name, splits[name][0], synthesizer, args.refresh)
                info(f"SDV {synthesizer} on {name}", json.dumps(figures))
        for label in ("males", "males_var"):
            info(f"SDV PAR on {label}", json.dumps(sdv_par(label, con.sql(f"SELECT * FROM {label}").df(), args.refresh)))
        return 0
    for name in args.tables:
        tabular(con, name, *splits[name], args.refresh, args.tvae)
    text_privacy(con)
    sequences(con, args.refresh)
    failed = [label for ok, label, _ in results if not ok]
    print(f"\n{len(results) - len(failed)} checks passed, {len(failed)} failed" + "".join(f"\n  FAIL {f}" for f in failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
