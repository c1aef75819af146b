"""SQL registration of model descriptions: ``genesis_describe(model)`` and ``genesis_label(...)``.

DuckDB's Python API has no table functions, so ``udfs/describe.sql`` wraps the scalar UDF
behind it (a LIST of one STRUCT per column) in a table macro that unnests it, and ``genesis_label`` in a
macro that casts the value to text (the label store types it by the column). Both run their statements
on a cursor of their database: a UDF cannot use the connection executing its query.
"""
from __future__ import annotations

from collections.abc import Callable

import duckdb

from genesis_sql._functions import Database, python_name, register_function

ROW = duckdb.struct_type({
    "name": "VARCHAR", "sql_type": "VARCHAR", "kind": "VARCHAR", "null_share": "DOUBLE",
    "min": "VARCHAR", "max": "VARCHAR",
    "values": duckdb.list_type(duckdb.struct_type({"value": "VARCHAR", "share": "DOUBLE"})),
    "other_values": "BIGINT",
    "labels": duckdb.list_type(duckdb.struct_type({"value": "VARCHAR", "label": "VARCHAR"})),
    "description": "VARCHAR", "unit": "VARCHAR", "rules": duckdb.list_type("VARCHAR"), "pii": "VARCHAR",
})


def _text(value: object) -> str | None:
    """A value as SQL shows it: true/false for booleans, ISO text for dates."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


def _describe_rows(database: Database) -> Callable[[str], list[dict]]:
    def genesis_describe(model: str) -> list[dict]:
        from genesis_sql.nl.describe import describe_model

        description = database.run(lambda cursor: describe_model(cursor, model))
        return [{
            "name": c.name, "sql_type": c.sql_type, "kind": c.kind, "null_share": c.null_share,
            "min": _text(c.min), "max": _text(c.max),
            "values": [{"value": _text(v.value), "share": v.share} for v in c.values],
            "other_values": c.other_values,
            "labels": [{"value": _text(k), "label": v} for k, v in c.labels.items()],
            "description": c.description, "unit": c.unit, "rules": list(c.rules), "pii": c.pii,
        } for c in description.columns]

    return genesis_describe


def _label(database: Database) -> Callable[[str, str, str, str], str]:
    def genesis_label(model: str, column: str, value: str, label: str) -> str:
        from genesis_sql.nl.labels import set_label

        with database.connection() as cursor:
            return set_label(cursor, model, column, value, label)

    return genesis_label


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Register the functions behind ``genesis_describe`` and ``genesis_label`` in ``con``'s database (once
    per process)."""
    register_function(con, python_name("genesis_describe"), _describe_rows, ["VARCHAR"], duckdb.list_type(ROW))
    register_function(con, python_name("genesis_label"), _label, ["VARCHAR"] * 4, "VARCHAR")
