"""Matrix products that give every row the same bits whatever batch it is computed in.

BLAS splits a product differently for different numbers of rows, so a row's result can change in its
last bits with the batch it shares; a counter-based generator must not depend on that (DESIGN.md
"Determinism"). These products sum each row's terms in one fixed order instead.
"""
from __future__ import annotations

import numpy as np


def rowwise_matmul(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``x @ w`` (rows x k times k x m), each row summed in a fixed order, without BLAS.

    ``x`` is made C-contiguous first: on a strided or column-major ``x`` einsum's inner loop runs along
    the rows, and a row's bits then depend on where it sits in the batch.
    """
    return np.einsum("ij,jk->ik", np.ascontiguousarray(x), w, optimize=False)
