"""Tables for the synthesizer tests: a hand-made one with every column kind, and helpers shared by them."""
from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from genesis_sql.models.base import BaseSynthesizer
from genesis_sql.schema import ColumnSpec, detect_schema

# Tabular methods that must support every column kind the same way.
TABULAR = ("copula", "arf", "tvae")
# Few epochs: the tests check behaviour, not fidelity.
TVAE_TEST_PARAMS = {"epochs": 3, "batch_size": 256, "embedding_dim": 16, "compress_dims": (32,),
                    "decompress_dims": (32,)}


def typed(table: pa.Table) -> tuple[pa.Table, list[ColumnSpec]]:
    """``table`` as DuckDB reads it, and its detected columns."""
    con = duckdb.connect()
    try:
        con.register("genesis_input", table)
        rel = con.sql("SELECT * FROM genesis_input")
        types = {name: str(t) for name, t in zip(rel.columns, rel.types)}
        read = rel.to_arrow_table()
    finally:
        con.close()
    return read, detect_schema(read, types)


def every_kind(rows: int = 1200, seed: int = 0) -> pa.Table:
    """A table with ids, NULLs, bounds, integers, booleans, categories, dates and timestamps, all related."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows)
    amount = np.round(np.clip(50 + 20 * x + rng.normal(scale=5, size=rows), 0, 100), 2)
    nulls = rng.random(rows) < 0.1
    grade = np.where(x > 0.5, "high", np.where(x < -0.5, "low", "mid")).astype(object)
    grade[rng.random(rows) < 0.05] = None
    start = dt.date(2020, 1, 1)
    return pa.table({
        "id": pa.array(np.arange(1000, 1000 + rows), pa.int64()),
        "code": pa.array([f"C{v:07d}" for v in rng.permutation(10**6)[:rows]]),
        "amount": pa.array(amount, mask=nulls),
        "visits": pa.array(np.maximum(0, np.round(12 + 6 * x + rng.normal(size=rows))).astype(np.int32)),
        "member": pa.array(x + rng.normal(scale=0.5, size=rows) > 0),
        "grade": pa.array(grade, pa.string()),
        "joined": pa.array([start + dt.timedelta(days=int(d)) for d in 400 + 100 * x + rng.integers(0, 30, rows)],
                           pa.date32()),
        "seen": pa.array([dt.datetime(2024, 1, 1) + dt.timedelta(seconds=int(s)) for s in rng.integers(0, 10**7, rows)],
                         pa.timestamp("us")),
    })


def make(method: str, **params) -> BaseSynthesizer:
    """An unfitted synthesizer of ``method`` (TVAE with test-sized training)."""
    from genesis_sql.models import synthesizer_class

    if method == "tvae":
        params = {**TVAE_TEST_PARAMS, **params}
    return synthesizer_class(method)(**params)


def plain(table: pa.Table) -> pa.Table:
    """Generated rows with dictionary-encoded categories decoded to plain values."""
    columns = [c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c for c in table.columns]
    return pa.Table.from_arrays(columns, names=table.column_names)


def sample(model: BaseSynthesizer, rows, key: int = 1, conditions=None) -> pa.Table:
    return plain(model.sample_rows(np.asarray(rows, dtype=np.int64), key=key, conditions=conditions))


@pytest.fixture(scope="session")
def kinds_table() -> tuple[pa.Table, list[ColumnSpec]]:
    """The every-kind table as DuckDB types it, with its detected columns."""
    return typed(every_kind())


@pytest.fixture(scope="session")
def fitted_kinds(kinds_table) -> dict[str, BaseSynthesizer]:
    """One fitted synthesizer per tabular method on the every-kind table."""
    table, columns = kinds_table
    return {method: make(method).fit(table, columns) for method in TABULAR}
