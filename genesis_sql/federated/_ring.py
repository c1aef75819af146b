"""Fixed-point numbers in the ring of integers modulo 2**64, the arithmetic of secure sums.

A statistic is scaled by ``2**fraction_bits``, rounded to an integer and stored as its two's complement
in an unsigned 64-bit word. Adding words modulo 2**64 (numpy's ``uint64`` wraps) adds the encoded
numbers exactly, so masks that cancel leave the exact sum of the encodings, bit for bit; decoding reads
the word back as a signed integer. Counts use ``fraction_bits=0`` and stay exact integers.
"""
from __future__ import annotations

import hashlib

import numpy as np

from genesis_sql.errors import FederatedError

# One encoded statistic stays below 2**62 in magnitude; a decoded sum is right while the true sum stays
# below 2**63, which the fraction bits of each statistic leave room for (genesis_sql.federated.statistics).
_LIMIT = 2.0**62


def encode(values: np.ndarray, fraction_bits: int) -> np.ndarray:
    """``values`` (floats or integers) as fixed-point words (uint64) with ``fraction_bits`` bits after the point."""
    scaled = np.round(np.asarray(values, dtype=np.float64) * 2.0**fraction_bits)
    if scaled.size and not np.all(np.abs(scaled) < _LIMIT):
        raise FederatedError(f"A statistic does not fit the 64-bit fixed-point ring with {fraction_bits} fraction "
                             f"bits (largest magnitude {np.max(np.abs(values)):.3g}).")
    return scaled.astype(np.int64).view(np.uint64)


def decode(words: np.ndarray, fraction_bits: int) -> np.ndarray:
    """Fixed-point words (a sum of encodings, say) back to float64 numbers."""
    return np.asarray(words, dtype=np.uint64).view(np.int64).astype(np.float64) / 2.0**fraction_bits


def mask_stream(seed: bytes, label: str, length: int) -> np.ndarray:
    """``length`` pseudo-random words from ``seed`` (SHAKE-256 as the stream), one stream per ``label``."""
    if length == 0:
        return np.zeros(0, dtype=np.uint64)
    data = hashlib.shake_256(seed + b"\x00" + label.encode()).digest(8 * length)
    return np.frombuffer(data, dtype="<u8").astype(np.uint64)
