"""What the API resources share: reading JSON bodies, JSON-safe values, streamed row responses."""
from __future__ import annotations

import datetime
import decimal
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa
from flask import Response, request
from werkzeug.exceptions import UnsupportedMediaType

from genesis_sql.errors import InvalidArgumentError
from genesis_sql.server.db import detach_db
from genesis_sql.server.v1.formats import Format


def json_body(*, required: tuple[str, ...] = (), optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """The request's JSON object, with its keys checked against ``required`` and ``optional``.

    Raises:
        UnsupportedMediaType: the body is not ``application/json`` (415).
        InvalidArgumentError: it is not a JSON object, lacks a required key or has an unknown one.
    """
    if not request.is_json:
        raise UnsupportedMediaType(f"Send a JSON body (Content-Type: application/json), not "
                                   f"{request.mimetype or 'no body type'}.")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidArgumentError("The body must be one JSON object, such as {\"n\": 100}.")
    missing = [key for key in required if key not in body]
    unknown = sorted(set(body) - set(required) - set(optional))
    if missing or unknown:
        allowed = ", ".join([*required, *optional])
        raise InvalidArgumentError(
            f"{'Missing ' + ', '.join(missing) if missing else 'Unknown ' + ', '.join(unknown)} in the body; "
            f"it takes {allowed} (required: {', '.join(required) or 'none'}).")
    return body


def typed(body: dict[str, Any], key: str, kinds: tuple[type, ...], example: str) -> Any:
    """``body[key]`` (None when absent) when it has one of ``kinds`` (bool never counts as a number)."""
    value = body.get(key)
    if value is None:
        return None
    if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
        raise InvalidArgumentError(f"{key} must be {example}. Got {value!r}.")
    return value


def jsonable(value: Any) -> Any:
    """``value`` with dates as ISO text and decimals as floats, recursively."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def peek_schema(tables: Iterator[pa.Table], empty: Callable[[], pa.Schema]) -> tuple[pa.Schema, Iterator[pa.Table]]:
    """The schema of the first table (made now, so that its errors come before the response starts) and
    an iterator of all the tables; ``empty()`` gives the schema when there are none."""
    first = next(tables, None)
    if first is None:
        return empty(), iter(())
    return first.schema, itertools.chain([first], tables)


def stream_rows(body_format: Format, schema: pa.Schema, tables: Iterator[pa.Table], *,
                headers: dict[str, str] | None = None, on_complete: Callable[[], None] | None = None) -> Response:
    """A streamed response of ``tables`` in ``body_format``; ``on_complete`` runs once every row was sent.

    The request's database connection stays open until the response is closed (sent, or dropped by the
    client), not just until the view returns.
    """
    def chunks() -> Iterator[bytes]:
        yield from body_format.encode(schema, tables)
        if on_complete is not None:
            on_complete()

    response = Response(chunks(), mimetype=body_format.media_type, headers=headers)
    response.call_on_close(detach_db())
    return response
