"""The batch decoder gives each column exactly what its codec's own ``sample`` gives, for every kind of
lookup it uses (the continuous grid, comparison counting over few bounds, the guide table over many)."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from genesis_sql.models._decoder import _FEW_BOUNDS, BatchDecoder
from genesis_sql.models._encoding import TableEncoding
from genesis_sql.models._search import GuideTable
from tests.models.conftest import typed


@pytest.fixture(scope="module")
def encoding() -> TableEncoding:
    rng = np.random.default_rng(0)
    n = 5_000
    with_nulls = rng.normal(size=n)
    with_nulls[rng.random(n) < 0.1] = np.nan
    table, columns = typed(pa.table({
        "continuous": rng.lognormal(size=n),
        "continuous_nulls": pa.array(with_nulls, from_pandas=True),
        "few_numbers": rng.integers(0, 12, n),
        "many_numbers": rng.integers(0, 200, n),
        "few_categories": rng.choice(list("abcdef"), n),
        "many_categories": [f"c{k}" for k in rng.zipf(1.3, n) % 120],
    }))
    return TableEncoding.fit(table, columns, rng)


def test_every_lookup_kind_is_exercised(encoding):
    decoder = BatchDecoder(encoding.codecs, encoding.latent)
    sizes = [_bounds(bounds).size for _, _, _, bounds, _ in decoder.searched]
    assert len(decoder.continuous) == 2
    assert min(sizes) <= _FEW_BOUNDS < max(sizes)


def test_batch_decoding_equals_each_codecs_sample(encoding):
    rng = np.random.default_rng(1)
    decoder = BatchDecoder(encoding.codecs, encoding.latent)
    z = np.vstack([rng.standard_normal((20_000, encoding.dims)) * 1.5,
                   np.array([[-np.inf] * encoding.dims, [np.inf] * encoding.dims, [0.0] * encoding.dims])])
    # Scores exactly on an interval's bound belong to the interval above it.
    for j, _, _, bounds, _ in decoder.searched:
        on_bounds = np.zeros((_bounds(bounds).size, encoding.dims))
        on_bounds[:, j] = _bounds(bounds)
        z = np.vstack([z, on_bounds])
    decoded = decoder.decode(z)
    assert sorted(decoded) == sorted(encoding.latent)
    for j, i in enumerate(encoding.latent):
        assert _plain(decoded[i]).equals(_plain(encoding.codecs[i].sample(z[:, j]))), encoding.columns[i].name


def _plain(array: pa.Array) -> pa.Array:
    return array.dictionary_decode() if isinstance(array.type, pa.DictionaryType) else array


def _bounds(lookup: np.ndarray | GuideTable) -> np.ndarray:
    return lookup if isinstance(lookup, np.ndarray) else lookup.arrays[0]
