"""SQL registration of model descriptions: ``genesis_describe(model)`` and ``genesis_label(...)``.

DuckDB's Python API has no table functions, so ``udfs/describe.sql`` wraps the scalar UDF
``genesis_describe_rows(model)`` (a LIST of one STRUCT per column) in a table macro that unnests it, and
``genesis_label`` in a macro that casts the value to text (the label store types it by the column).
Both run their statements on a cursor: a UDF cannot use the connection executing its query.
"""
from __future__ import annotations

from collections.abc import Callable

import duckdb

from genesis_sql._db import cursor as open_cursor
from genesis_sql.sql.functions import replace_function

ROW = duckdb.struct_type({
    "name": "VARCHAR", "sql_type": "VARCHAR", "kind": "VARCHAR", "null_share": "DOUBLE",
    "min": "VARCHAR", "max": "VARCHAR",
    "values": duckdb.list_type(duckdb.struct_type({"value": "VARCHAR", "share": "DOUBLE"})),
    "other_values": "BIGINT",
    "labels": duckdb.list_type(duckdb.struct_type({"value": "VARCHAR", "label": "VARCHAR"})),
    "description": "VARCHAR", "unit": "VARCHAR", "rules": duckdb.list_type("VARCHAR"),
})


def _text(value: object) -> str | None:
    """A value as SQL shows it: true/false for booleans, ISO text for dates."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


def _describe_rows(con: duckdb.DuckDBPyConnection) -> Callable[[str], list[dict]]:
    def genesis_describe_rows(model: str) -> list[dict]:
        from genesis_sql.nl.describe import describe_model

        cursor = open_cursor(con)
        try:
            description = describe_model(cursor, model)
        finally:
            cursor.close()
        return [{
            "name": c.name, "sql_type": c.sql_type, "kind": c.kind, "null_share": c.null_share,
            "min": _text(c.min), "max": _text(c.max),
            "values": [{"value": _text(v.value), "share": v.share} for v in c.values],
            "other_values": c.other_values,
            "labels": [{"value": _text(k), "label": v} for k, v in c.labels.items()],
            "description": c.description, "unit": c.unit, "rules": list(c.rules),
        } for c in description.columns]

    return genesis_describe_rows


def _label(con: duckdb.DuckDBPyConnection) -> Callable[[str, str, str, str], str]:
    def genesis_label_impl(model: str, column: str, value: str, label: str) -> str:
        from genesis_sql.nl.labels import set_label

        cursor = open_cursor(con)
        try:
            return set_label(cursor, model, column, value, label)
        finally:
            cursor.close()

    return genesis_label_impl


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Register ``genesis_describe_rows`` and ``genesis_label_impl`` on ``con`` (idempotent)."""
    replace_function(con, "genesis_describe_rows", _describe_rows(con), ["VARCHAR"], duckdb.list_type(ROW))
    replace_function(con, "genesis_label_impl", _label(con), ["VARCHAR"] * 4, "VARCHAR")
