"""What the pushdown rules need to know from a connection: a model's columns and the views over generators."""
from __future__ import annotations

import json
import re

import duckdb

from genesis_sql.catalog import parse_model_ref
from genesis_sql.errors import GenesisError
from genesis_sql.schema import ColumnSpec
from genesis_sql.sql.pushdown._state import GENERATOR
from genesis_sql.sql.pushdown.inline_views import view_body


def model_columns(con: duckdb.DuckDBPyConnection, ref: str) -> list[ColumnSpec] | None:
    """The columns of model reference ``ref`` (``'m'`` or ``'m@2'``); None when it names no stored model."""
    try:
        name, version = parse_model_ref(ref)
    except GenesisError:
        return None
    where, params = ("name = ? AND version = ?", [name, version]) if version else (
        "name = ? ORDER BY version DESC LIMIT 1", [name])
    try:
        rows = con.execute(f"SELECT columns FROM genesis.models WHERE {where}", params).fetchall()
    except duckdb.Error:  # an aborted transaction, no catalog: DuckDB reports it on the statement itself
        return None
    return [ColumnSpec.from_dict(c) for c in json.loads(rows[0][0])] if rows else None


def generator_views(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str]:
    """The views ``con`` sees that read a generator, directly or through other such views:
    (schema, name) -> their SELECT."""
    try:
        rows = con.execute("SELECT schema_name, view_name, sql FROM duckdb_views() WHERE NOT internal").fetchall()
    except duckdb.Error:
        return {}
    texts = {(schema.lower(), name.lower()): sql for schema, name, sql in rows}
    found = {key for key, sql in texts.items() if GENERATOR in sql.lower()}
    while True:
        names = {name for _, name in found}
        pattern = re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")\b", re.IGNORECASE) if names else None
        more = {key for key, sql in texts.items() if key not in found and pattern and pattern.search(sql)}
        if not more:
            break
        found |= more
    bodies = {key: view_body(texts[key]) for key in found}
    return {key: body for key, body in bodies.items() if body}
