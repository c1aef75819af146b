"""Natural-language parse latency with 20 models in the catalog: p50 / p95 of ``ask``'s parse step.

Target (issue 16): p95 parse latency < 20 ms with 20 models. The parse step is the request -> intent
reading against every model's vocabulary (vocabularies come from the catalog and are cached); ``ask``
end to end adds one catalog read. Baseline in the same process: sqlglot parsing the SQL that ``ask``
produces. Run: ``python bench/nl.py``.
"""
from __future__ import annotations

import statistics
import time
from pathlib import Path

import duckdb
import sqlglot

import genesis_sql
from genesis_sql.nl.ask import ask, descriptions
from genesis_sql.nl.parser import parse
from genesis_sql.nl.vocabulary import build_vocabulary

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SOURCES = ("Benefits", "diamonds", "MedExp", "Males", "economics")
MODELS = 20
REPEATS = 20
REQUESTS = (
    "Generate 1000 workers_0 over 50 in California", "500 diamonds_1 with an Ideal cut under $1000",
    "200 married women in their 30s", "medexp_2 with health poor or fair", "100 males_3 in 1985",
    "economics_4 after 2000", "workers_5 aged 30-40 who are not married", "100 rows with clarity VS2",
    "1000 happy workers_10", "diamonds_6 over 2 carats, color E or F", "300 women over 40",
    "give me two thousand males_8 with union in the south",
)


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of ``values`` by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def timed(fn) -> list[float]:
    """Milliseconds per call of ``fn`` over every request, REPEATS times."""
    times = []
    for _ in range(REPEATS):
        for request in REQUESTS:
            started = time.perf_counter()
            fn(request)
            times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    con = duckdb.connect()
    genesis_sql.install(con)
    for source in SOURCES:
        con.execute(f"CREATE TABLE {source.lower()} AS SELECT * FROM read_csv('{DATA / (source + '.csv')}')")
    names = {"Benefits": "workers", "diamonds": "diamonds", "MedExp": "medexp", "Males": "males",
             "economics": "economics"}
    for i in range(MODELS):
        source = SOURCES[i % len(SOURCES)]
        genesis_sql.fit(con, f"{names[source]}_{i}", f"SELECT * FROM {source.lower()} USING SAMPLE 500 ROWS "
                        f"(reservoir, {i})", method="copula", seed=i)
    con.execute("SELECT genesis_label('workers_0', 'state', 93, 'California')").fetchall()
    vocabularies = [build_vocabulary(d) for d in descriptions(con)]
    assert len(vocabularies) == MODELS
    sqls = {r: ask(con, r).sql for r in REQUESTS}
    parse_ms = timed(lambda r: parse(r, vocabularies))
    ask_ms = timed(lambda r: ask(con, r))
    base_ms = timed(lambda r: sqlglot.parse_one(sqls[r] or "SELECT 1", read="duckdb"))
    print(f"{MODELS} models, {len(REQUESTS)} requests x {REPEATS}")
    for label, values in (("parse", parse_ms), ("ask (catalog read + parse)", ask_ms),
                          ("baseline: sqlglot parse of the SQL", base_ms)):
        print(f"  {label:38s} p50 {statistics.median(values):7.2f} ms   p95 {percentile(values, 0.95):7.2f} ms")
    ratio = percentile(parse_ms, 0.95) / percentile(base_ms, 0.95)
    print(f"  parse p95 / baseline p95: {ratio:.1f}x; target parse p95 < 20 ms: "
          f"{'met' if percentile(parse_ms, 0.95) < 20 else 'NOT met'}")


if __name__ == "__main__":
    main()
