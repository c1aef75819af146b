"""DuckDB's own parse tree of a statement (``json_serialize_sql``), for checks that must see exactly what
DuckDB will run: which functions and tables a query reads. One private in-memory connection parses for
the whole process."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import duckdb

_parser_lock = threading.Lock()
_parser: duckdb.DuckDBPyConnection | None = None


def parse_tree(statement: str) -> dict[str, Any]:
    """DuckDB's parse tree of one SELECT statement, as JSON data."""
    global _parser
    with _parser_lock:
        if _parser is None:
            _parser = duckdb.connect()
        text = _parser.execute("SELECT json_serialize_sql(?)", [statement]).fetchall()[0][0]
    return json.loads(text)


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every object in a parse tree, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)
