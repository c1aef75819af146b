"""``genesis demo``: the main job on the embedded default, end to end in one database file.

Loads a real people table that ships with the package (Benefits: unemployed blue-collar workers, US
1972), fits a model once (reused on later runs), generates rows with ``genesis_generate`` in SQL, and
shows a sample and a one-screen fidelity summary.
"""
from __future__ import annotations

from collections.abc import Callable
from importlib import resources

import duckdb

from genesis_sql.api import fit
from genesis_sql.catalog import model_names
from genesis_sql.cli._output import print_table

TABLE = "benefits"
MODEL = "benefits"
SEED = 42


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
    report = evaluate(con, MODEL, f"SELECT * FROM {TABLE}", n=rows)
    echo(_summary(report))


def _fmt(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:5.3f}"


def _summary(report) -> str:
    """One screen: headline scores, then the column shape score of every column."""
    lines = [f"\nfidelity of {report.model}@{report.model_version} ({report.n_synthetic:,} synthetic vs "
             f"{report.n_real:,} real rows; run {report.run_id}):",
             f"  overall quality      {_fmt(report.overall)}   (SDMetrics definition: mean of the two below)",
             f"  column shapes        {_fmt(report.scores.get('column_shapes'))}",
             f"  column pair trends   {_fmt(report.scores.get('column_pair_trends'))}"]
    for name in ("detection", "exact_copy_rate", "dcr_ratio"):
        if name in report.scores:
            lines.append(f"  {name.replace('_', ' '):<20} {_fmt(report.scores.get(name))}")
    shapes = [m for m in report.metrics if m.category == "column_shape"]
    cells = [f"{m.column_1[:12]:<12} {_fmt(m.value)}" for m in shapes]
    lines.append("  per column (KS / TV complement):")
    for i in range(0, len(cells), 3):
        lines.append("    " + "   ".join(cells[i:i + 3]))
    lines.append("  details: SELECT * FROM genesis.quality_summary; genesis dashboard")
    return "\n".join(lines)
