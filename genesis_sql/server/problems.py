"""Errors as JSON problem details (RFC 9457), carrying the GenesisError class and message.

Every refusal of the HTTP API is one ``application/problem+json`` body::

    {"type": "urn:genesis-sql:error:ModelNotFoundError", "title": "Model not found", "status": 404,
     "detail": "No model named 'custmers'. Did you mean 'customers'?", "error": "ModelNotFoundError"}

``type`` names the error class as a URN (clients switch on it or on ``error``); ``detail`` is the
message a person can act on.
"""
from __future__ import annotations

import re

import duckdb
from flask import Response, json

from genesis_sql.errors import (
    CatalogError,
    DatabaseLockedError,
    GenesisError,
    ModelNotFoundError,
    RunNotFoundError,
)

MEDIA_TYPE = "application/problem+json"
# A GenesisError raised inside a genesis SQL function reaches the client as a DuckDB error whose text
# holds "ClassName: message"; this finds the class again.
_GENESIS_CLASS = re.compile(r"\b([A-Z][A-Za-z]*Error): ")


def problem(status: int, title: str, detail: str, *, error: str | None = None,
            headers: dict[str, str] | None = None) -> Response:
    """A problem-details response."""
    name = error or "".join(word[:1].upper() + word[1:] for word in re.split(r"[\s-]+", title))
    body = {"type": f"urn:genesis-sql:error:{name}", "title": title, "status": status, "detail": detail,
            "error": name}
    return Response(json.dumps(body), status, headers=headers, mimetype=MEDIA_TYPE)


def status_of(exc: GenesisError) -> int:
    """The HTTP status of a GenesisError: 404 for what does not exist (models, runs, a catalog), 503 for a
    held database, else 400."""
    if isinstance(exc, DatabaseLockedError):
        return 503
    if isinstance(exc, (ModelNotFoundError, RunNotFoundError, CatalogError)):
        return 404
    return 400


def _title(name: str) -> str:
    """'ModelNotFoundError' -> 'Model not found'; 'BinderException' -> 'Binder exception'."""
    words = re.findall(r"[A-Z]+(?=[A-Z][a-z]|$)|[A-Z][a-z]*", name)
    if len(words) > 1 and words[-1] == "Error":
        words.pop()
    return " ".join([words[0]] + [w.lower() for w in words[1:]]) if words else name


def from_genesis_error(exc: GenesisError) -> Response:
    """The problem for a GenesisError raised on purpose."""
    name = type(exc).__name__
    headers = {"Retry-After": "5"} if isinstance(exc, DatabaseLockedError) else None
    return problem(status_of(exc), _title(name), str(exc), error=name, headers=headers)


def from_duckdb_error(exc: duckdb.Error) -> Response:
    """The problem for a DuckDB error: a 400 that names the GenesisError inside it, if any, else DuckDB's class."""
    text = str(exc).strip()
    found = _GENESIS_CLASS.search(text)
    name = found.group(1) if found else type(exc).__name__
    detail = text[found.start():] if found else text
    status = 404 if name in (ModelNotFoundError.__name__, RunNotFoundError.__name__) else 400
    return problem(status, _title(name), detail or name, error=name)
