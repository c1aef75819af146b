"""Row-pure matrix products: a row's bits do not depend on the batch it is computed in."""
from __future__ import annotations

import numpy as np
import pytest

from genesis_sql.models._rowwise import rowwise_matmul


@pytest.mark.parametrize("k", [1, 2, 7, 18])
def test_a_row_gives_the_same_bits_at_every_position_of_every_batch(k: int) -> None:
    rng = np.random.default_rng(k)
    row, w = rng.standard_normal(k), rng.standard_normal((k, k))
    products = set()
    for size in (1, 2, 3, 5, 8, 13, 100, 1001):
        batch = np.tile(row, (size, 1))
        # as made, column-major, and a strided slice (how samplers pass the first columns of a wider array)
        for x in (batch, np.asfortranarray(batch), np.hstack([batch, batch])[:, :k]):
            out = rowwise_matmul(x, w.T)
            products.update(out[i].tobytes() for i in range(size))
    assert len(products) == 1
    np.testing.assert_allclose(np.frombuffer(products.pop()), row @ w.T, rtol=1e-12)
