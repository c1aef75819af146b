"""DataRow messages for a whole batch at once.

Each DataRow is ``'D'``, int32 length, int16 column count, then per cell an int32 length (-1 for NULL)
and the cell's bytes. Rather than looping over rows in Python, the output is described as a sequence of
byte segments (row header, cell length, cell bytes, ...) taken from one source buffer, and gathered with
numpy in a single indexing step.
"""
from __future__ import annotations

import numpy as np

from genesis_sql.server.pgwire.types import Cells


def data_rows(columns: list[Cells], n: int) -> bytes:
    """The DataRow messages of ``n`` rows whose columns are encoded as ``columns``."""
    if n == 0:
        return b""
    k = len(columns)
    cell_sizes = [np.maximum(c.lengths, 0) for c in columns]
    row_body = 2 + 4 * k + (np.sum(cell_sizes, axis=0) if k else np.zeros(n, np.int64))
    headers = np.empty((n, 7), dtype=np.uint8)
    headers[:, 0] = ord("D")
    headers[:, 1:5] = (row_body + 4).astype(">i4").view(np.uint8).reshape(n, 4)
    headers[:, 5:7] = np.frombuffer(np.array(k, dtype=">i2").tobytes(), dtype=np.uint8)
    pieces = [headers.ravel()]
    length_blocks = []
    for column in columns:
        length_blocks.append(len(pieces))
        pieces.append(column.lengths.astype(">i4").view(np.uint8))
    data_blocks = []
    for column in columns:
        data_blocks.append(len(pieces))
        pieces.append(column.data)
    bases = np.cumsum([0] + [len(p) for p in pieces[:-1]])
    source = np.concatenate(pieces)
    seg_src = np.empty((n, 1 + 2 * k), dtype=np.int64)
    seg_len = np.empty((n, 1 + 2 * k), dtype=np.int64)
    rows = np.arange(n, dtype=np.int64)
    seg_src[:, 0] = bases[0] + 7 * rows
    seg_len[:, 0] = 7
    for j, column in enumerate(columns):
        seg_src[:, 1 + 2 * j] = bases[length_blocks[j]] + 4 * rows
        seg_len[:, 1 + 2 * j] = 4
        seg_src[:, 2 + 2 * j] = bases[data_blocks[j]] + column.starts
        seg_len[:, 2 + 2 * j] = cell_sizes[j]
    seg_src, seg_len = seg_src.ravel(), seg_len.ravel()
    keep = seg_len > 0
    seg_src, seg_len = seg_src[keep], seg_len[keep]
    out_start = np.cumsum(seg_len) - seg_len
    index = np.repeat(seg_src - out_start, seg_len) + np.arange(int(seg_len.sum()), dtype=np.int64)
    return source[index].tobytes()
