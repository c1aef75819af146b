"""A Python session with genesis-sql: fit a model on real rows, ask SQL for a sub-population, see what
the pushdown did, and measure how faithful and how private the synthetic rows are.

    python examples/python_session.py [DATABASE]      # default: a fresh file in a temporary folder

The real rows are the Benefits table that ships with the package (unemployed blue-collar workers, US
1972); state 93 is California.
"""
from __future__ import annotations

import sys
import tempfile
from importlib import resources
from pathlib import Path

import genesis_sql

CONDITIONED = "SELECT * FROM genesis_generate('workers', 1000, seed := 1) WHERE age > 50 AND state = 93"


def main(path: str) -> None:
    con = genesis_sql.connect(path)          # a DuckDB connection with genesis installed and WHERE pushdown
    csv = str(resources.files("genesis_sql") / "_data" / "benefits.csv").replace("'", "''")
    con.execute(f"CREATE OR REPLACE TABLE benefits AS SELECT * FROM read_csv('{csv}')")
    print(genesis_sql.fit(con.duckdb_connection, "workers", "SELECT * FROM benefits", holdout=0.2))

    rows = con.sql(CONDITIONED).df()
    matching = int(((rows["age"] > 50) & (rows["state"] == 93)).sum())
    print(f"\n{CONDITIONED}\n-> {len(rows)} rows, {matching} of them over 50 and in California")
    assert len(rows) == 1000 and matching == 1000

    print("\n" + con.explain(CONDITIONED))

    same = genesis_sql.generate(con.duckdb_connection, "workers", 1000, seed=1, condition="age > 50 AND state = 93")
    assert same.to_pandas().equals(rows), "Python and SQL give the same rows for the same seed and condition"

    report = genesis_sql.evaluate(con.duckdb_connection, "workers", "SELECT * FROM benefits", target="ui")
    print(f"\nquality of workers@{report.model_version}: overall {report.overall:.3f} "
          f"(1 = the synthetic rows are distributed like the real ones)")
    for name in ("column_shapes", "column_pair_trends", "utility", "exact_copy_rate", "dcr_ratio"):
        value = report.scores.get(name)
        print(f"  {name:<20} {'n/a' if value is None else f'{value:.3f}'}")
    con.close()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(sys.argv[1])
    else:
        with tempfile.TemporaryDirectory() as folder:
            main(str(Path(folder) / "example.duckdb"))
