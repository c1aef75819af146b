"""The canonical JSON encoding of lineage content: one value, one byte string.

A block's ``content`` is stored as the text this module produces, and its hash covers those stored bytes.
The encoding is:

- UTF-8, no byte-order mark, no insignificant whitespace (separators ``,`` and ``:``);
- object keys are strings, sorted by Unicode code point, each appearing once;
- strings are written as they are, escaping only ``"``, ``\\`` and the control characters below U+0020
  (``\\n``, ``\\t`` ... or ``\\u00XX``); lone surrogates are rejected because they have no UTF-8 form;
- integers in decimal; floats by Python's ``repr`` (the shortest text that reads back to the same
  double, e.g. ``0.1``, ``1e+300``), which does not depend on the locale; NaN and infinities are rejected;
- ``true``, ``false``, ``null``; lists and tuples both become arrays.

Anything else (numpy scalars, dates, bytes, sets ...) is rejected rather than converted, so that a value
never silently changes its encoding between writers.

Example:
    >>> canonical_json({"b": 1.5, "a": [True, None, "é"]})
    '{"a":[true,null,"é"],"b":1.5}'
"""
from __future__ import annotations

import json
import math

from genesis_sql.errors import LineageError


def _check(value: object, path: str) -> None:
    if value is None or isinstance(value, (bool, int, str)):
        if isinstance(value, str):
            _check_text(value, path)
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise LineageError(f"Lineage content at {path} is {value!r}; only finite numbers can be recorded.")
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise LineageError(f"Lineage content at {path} has the key {key!r}; object keys must be strings.")
            _check_text(key, path)
            _check(item, f"{path}.{key}")
        return
    raise LineageError(
        f"Lineage content at {path} is a {type(value).__name__} ({value!r:.60}); record only JSON values "
        "(dict, list, str, int, float, bool, None): convert it first, e.g. int(x) or x.isoformat()."
    )


def _check_text(text: str, path: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise LineageError(f"Lineage content at {path} holds a lone surrogate, which has no UTF-8 form.") from exc


def canonical_json(value: object) -> str:
    """Encode ``value`` canonically (see the module docstring); raises LineageError on non-JSON values."""
    _check(value, "$")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_bytes(value: object) -> bytes:
    """The UTF-8 bytes of :func:`canonical_json`."""
    return canonical_json(value).encode("utf-8")
