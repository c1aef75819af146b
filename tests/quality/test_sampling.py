"""Seeded samples."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from genesis_sql.quality.sampling import sample_table


def test_samples_are_seeded_and_without_replacement():
    table = pa.table({"a": range(1000)})
    first = sample_table(table, 100, np.random.default_rng(7))
    assert first.equals(sample_table(table, 100, np.random.default_rng(7)))
    assert not first.equals(sample_table(table, 100, np.random.default_rng(8)))
    assert len(set(first.column("a").to_pylist())) == 100


def test_small_tables_are_kept_whole():
    table = pa.table({"a": range(10)})
    assert sorted(sample_table(table, 100, np.random.default_rng(0)).column("a").to_pylist()) == list(range(10))
