"""How protocol messages travel: JSON-able dicts, with bytes as hex and word vectors as base64."""
from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np

from genesis_sql.errors import FederatedError


def canonical(body: dict[str, Any]) -> bytes:
    """The bytes a signature covers: the body's canonical JSON (sorted keys, no spaces)."""
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def pack_words(words: np.ndarray) -> str:
    """A uint64 vector as base64 of its little-endian bytes."""
    return base64.b64encode(np.ascontiguousarray(words, dtype="<u8").tobytes()).decode()


def unpack_words(text: object, length: int | None = None) -> np.ndarray:
    """Inverse of :func:`pack_words`; checks the length when given."""
    try:
        data = base64.b64decode(str(text), validate=True)
    except ValueError as exc:
        raise FederatedError("A statistics vector is not valid base64.") from exc
    if len(data) % 8 or (length is not None and len(data) != 8 * length):
        raise FederatedError(f"A statistics vector has {len(data)} bytes; expected {8 * (length or 0)}.")
    return np.frombuffer(data, dtype="<u8").astype(np.uint64)


def pack_array(array: np.ndarray) -> dict[str, Any]:
    """A numeric array as {dtype, shape, data(base64)} (codec states travel this way)."""
    array = np.ascontiguousarray(array)
    return {"dtype": array.dtype.str, "shape": list(array.shape), "data": base64.b64encode(array.tobytes()).decode()}


def unpack_array(packed: dict[str, Any]) -> np.ndarray:
    """Inverse of :func:`pack_array`, for the numeric dtypes the catalog allows."""
    from genesis_sql.catalog import ARRAY_DTYPES

    if packed.get("dtype") not in ARRAY_DTYPES:
        raise FederatedError(f"An array of dtype {packed.get('dtype')!r} is not accepted.")
    data = base64.b64decode(packed["data"])
    return np.frombuffer(data, dtype=np.dtype(packed["dtype"])).reshape(packed["shape"]).copy()
