"""pandas and SQLAlchemy over a genesis database: a pooled ``duckdb+genesis://`` engine pushes WHERE,
bound parameters included, into the generator.

    python examples/sqlalchemy_pandas.py [DATABASE]    # default: a fresh file in a temporary folder
"""
from __future__ import annotations

import sys
import tempfile
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd
from sqlalchemy import create_engine, text

import genesis_sql

QUERY = text("SELECT * FROM genesis_generate('workers', 500, seed := 7) WHERE age > :age AND sex = :sex")


def prepare(path: str) -> None:
    """Real rows and a model fitted on them (the engine's connections then only read)."""
    con = duckdb.connect(path)
    genesis_sql.install(con)
    csv = str(resources.files("genesis_sql") / "_data" / "benefits.csv").replace("'", "''")
    con.execute(f"CREATE OR REPLACE TABLE benefits AS SELECT * FROM read_csv('{csv}')")
    print(genesis_sql.fit(con, "workers", "SELECT * FROM benefits", method="copula"))
    con.close()


def main(path: str) -> None:
    prepare(path)
    engine = create_engine(f"duckdb+genesis:///{path}", pool_size=4)
    frame = pd.read_sql(QUERY, engine, params={"age": 55, "sex": "female"})
    matching = int(((frame["age"] > 55) & (frame["sex"] == "female")).sum())
    print(f"{len(frame)} rows, {matching} of them women over 55")
    assert len(frame) == 500 and matching == 500
    print(frame.groupby("married")["tenure"].describe().round(1))
    engine.dispose()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(sys.argv[1])
    else:
        with tempfile.TemporaryDirectory() as folder:
            main(str(Path(folder) / "example.duckdb"))
