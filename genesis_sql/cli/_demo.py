"""``genesis demo``: the main job on the embedded default, end to end in one database file.

Loads a real people table that ships with the package (Benefits: unemployed blue-collar workers, US
1972), fits a model once (reused on later runs), generates rows with ``genesis_generate`` in SQL, asks
for a sub-population with a WHERE that is pushed into the generator (and checks it got exactly n
matching rows), and shows a sample and a one-screen fidelity summary that says what each score means.
"""
from __future__ import annotations

from collections.abc import Callable
from importlib import resources

import duckdb

from genesis_sql.api import fit
from genesis_sql.catalog import model_names
from genesis_sql.cli._output import print_table
from genesis_sql.connection import GenesisConnection

TABLE = "benefits"
MODEL = "benefits"
SEED = 42
# The README's headline query: workers over 50 in California (state code 93).
CONDITIONED = f"SELECT * FROM genesis_generate('{MODEL}', 1000, seed := {SEED}) WHERE age > 50 AND state = 93"


def _data_path() -> str:
    return str(resources.files("genesis_sql") / "_data" / "benefits.csv")


def run_demo(con: duckdb.DuckDBPyConnection, *, refit: bool, rows: int, echo: Callable[[str], None]) -> None:
    """Load, fit (once), generate and summarise; every step is plain SQL or the public Python API."""
    from genesis_sql.quality import evaluate

    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                        "WHERE table_schema = 'main'").fetchall()}
    if TABLE not in tables:
        path = _data_path().replace("'", "''")
        con.execute(f"CREATE TABLE {TABLE} AS SELECT * FROM read_csv('{path}', header = true)")
        echo(f"loaded {TABLE}: {con.sql(f'SELECT count(*) FROM {TABLE}').fetchall()[0][0]:,} real rows")
    if refit or MODEL not in model_names(con):
        echo(f"fitting model {MODEL!r} ...")
        echo(str(fit(con, MODEL, f"SELECT * FROM {TABLE}", holdout=0.2)))
    else:
        echo(f"model {MODEL!r} is stored; reusing it (genesis demo --refit fits again)")
    query = f"SELECT * FROM genesis_generate('{MODEL}', {int(rows)}, seed := {SEED})"
    echo(f"\n{query}\n")
    print_table(con.sql(f"{query} LIMIT 10").to_arrow_table())
    echo(_conditioned(GenesisConnection(con)))
    report = evaluate(con, MODEL, f"SELECT * FROM {TABLE}", n=rows)
    echo(_summary(report))


def _conditioned(gcon: GenesisConnection) -> str:
    """The headline query through the pushdown, with its exact-n check."""
    counted = gcon.sql(f"SELECT count(*), count(*) FILTER (WHERE age > 50 AND state = 93) FROM ({CONDITIONED})")
    rows, matching = counted.fetchall()[0]
    verdict = "every one" if rows == matching == 1000 else "NOT all"
    return (f"\n{CONDITIONED}\n-> {rows:,} rows, {verdict} over 50 and in California (93): the WHERE was pushed "
            "into the generator\n   (genesis sql, genesis_sql.connect(), genesis_query(), dbt and genesis serve push "
            "it; a plain connection filters)")


def _fmt(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:5.3f}"


SCORE_MEANINGS = {
    "column_shapes": "each column's distribution vs the real one (1 = identical)",
    "column_pair_trends": "correlations and associations between columns (1 = identical)",
    "detection": "1 - how well a classifier tells synthetic from real rows (1 = cannot tell)",
    "exact_copy_rate": "share of synthetic rows that copy a training row (0 = none copied)",
    "dcr_ratio": "distance to the closest training row vs a real holdout's (>= 1 = not closer than new real rows)",
}


def _summary(report) -> str:
    """One screen: headline scores, then the column shape score of every column."""
    lines = [f"\nfidelity of {report.model}@{report.model_version} ({report.n_synthetic:,} synthetic vs "
             f"{report.n_real:,} real rows; run {report.run_id}):",
             f"  overall quality      {_fmt(report.overall)}   mean of the two below (SDMetrics); 1 = alike"]
    for name, meaning in SCORE_MEANINGS.items():
        if name in report.scores:
            lines.append(f"  {name.replace('_', ' '):<20} {_fmt(report.scores.get(name))}   {meaning}")
    shapes = [m for m in report.metrics if m.category == "column_shape"]
    cells = [f"{m.column_1[:12]:<12} {_fmt(m.value)}" for m in shapes]
    lines.append("  per column (KS / TV complement):")
    for i in range(0, len(cells), 3):
        lines.append("    " + "   ".join(cells[i:i + 3]))
    lines.append("  details: SELECT * FROM genesis.quality_summary; genesis dashboard")
    return "\n".join(lines)
