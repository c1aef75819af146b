"""``duckdb+genesis://`` URLs: a pooled engine with genesis installed and WHERE pushdown, bound
parameters included, used from pandas and from several threads at once."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, inspect, text

QUERY = text("SELECT * FROM genesis_generate('diamonds', 500, seed := :seed) WHERE carat > :carat AND cut = :cut")


@pytest.fixture()
def engine(models_db: Path):
    engine = create_engine(f"duckdb+genesis:///{models_db}", pool_size=4, max_overflow=0)
    yield engine
    engine.dispose()


def matching(frame: pd.DataFrame) -> int:
    return int(((frame["carat"] > 1.5) & (frame["cut"] == "Ideal")).sum())


def test_bound_parameters_are_pushed(engine) -> None:
    frame = pd.read_sql(QUERY, engine, params={"seed": 1, "carat": 1.5, "cut": "Ideal"})
    assert len(frame) == 500 and matching(frame) == 500


def test_pool_of_four_shared_by_eight_threads(engine) -> None:
    def run(seed: int) -> pd.DataFrame:
        return pd.read_sql(QUERY, engine, params={"seed": seed % 3, "carat": 1.5, "cut": "Ideal"})

    with ThreadPoolExecutor(8) as pool:
        frames = list(pool.map(run, range(16)))
    for seed, frame in enumerate(frames):
        assert len(frame) == 500 and matching(frame) == 500
        assert frame.equals(frames[seed % 3])


def test_inspector_lists_the_models_and_a_where_on_their_view_is_pushed(engine) -> None:
    assert "diamonds" in inspect(engine).get_view_names(schema="synthetic")
    frame = pd.read_sql(text("SELECT carat, cut FROM synthetic.diamonds WHERE carat > :carat AND cut = :cut"), engine,
                        params={"carat": 1.5, "cut": "Ideal"})
    assert len(frame) == 10_000 and matching(frame) == 10_000


def test_the_dialect_is_an_installed_entry_point() -> None:
    from importlib.metadata import entry_points

    found = [e for e in entry_points(group="sqlalchemy.dialects") if e.name == "duckdb.genesis"]
    assert [e.value for e in found] == ["genesis_sql.integrations.sqlalchemy:GenesisDialect"]
