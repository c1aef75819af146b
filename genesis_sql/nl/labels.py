"""What people call a model's values and columns: labels (93 -> 'California') and column notes.

Both are kept per model NAME in ``genesis.labels`` and ``genesis.column_notes`` (migration 005), so a
refit keeps them. They come from three places: ``genesis_label(model, column, value, label)``, a mapping
query per column at fit (``labels={"state": "SELECT code, name FROM state_names"}``), and the source
table's ``COMMENT ON COLUMN`` text, read at fit when the training query reads one table.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from genesis_sql.catalog import parse_model_ref, resolve_version
from genesis_sql.errors import InvalidArgumentError, UnknownColumnError
from genesis_sql.schema import ColumnSpec
from genesis_sql.sql.statements import validate_query

# Labels read from one mapping query at most: more is a join key column, not a code list.
MAX_MAPPING_ROWS = 10_000


def model_columns(con: duckdb.DuckDBPyConnection, model: str) -> list[ColumnSpec]:
    """The columns of a model's latest version (or of ``m@N``)."""
    name, version, _ = resolve_version(con, model)
    rows = con.execute("SELECT columns FROM genesis.models WHERE name = ? AND version = ?", [name, version]).fetchall()
    return [ColumnSpec.from_dict(c) for c in json.loads(rows[0][0])]


def _column(columns: list[ColumnSpec], column: object, model: str) -> ColumnSpec:
    for spec in columns:
        if isinstance(column, str) and spec.name.lower() == column.strip().lower():
            return spec
    raise UnknownColumnError(f"Model {model!r} has no column {column!r}; its columns: "
                             f"{', '.join(c.name for c in columns)}.")


def typed_value(spec: ColumnSpec, value: Any) -> Any:
    """``value`` (often text, from SQL) as the column's own type: '93' is 93 for an integer column."""
    if value is None:
        raise InvalidArgumentError(f"A label needs a value of column {spec.name!r}, not NULL.")
    text = str(value).strip()
    sql_type = spec.sql_type.upper()
    try:
        if spec.kind in ("integer", "numeric") or sql_type.split("(")[0] in (
                "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                "UBIGINT", "DOUBLE", "FLOAT", "REAL", "DECIMAL"):
            number = float(text)
            return int(number) if number.is_integer() else number
    except ValueError:
        raise InvalidArgumentError(f"Column {spec.name!r} holds numbers ({spec.sql_type}); a label's value "
                                   f"must be one. Got {value!r}.") from None
    if sql_type == "BOOLEAN":
        if text.lower() in ("true", "t", "1", "yes"):
            return True
        if text.lower() in ("false", "f", "0", "no"):
            return False
        raise InvalidArgumentError(f"Column {spec.name!r} is BOOLEAN; a label's value must be true or false. "
                                   f"Got {value!r}.")
    return text if isinstance(value, str) else value


def set_label(con: duckdb.DuckDBPyConnection, model: str, column: str, value: Any, label: str) -> str:
    """Label one stored value of a model's column (replacing an earlier label); returns a summary line."""
    name, _ = parse_model_ref(model)
    spec = _column(model_columns(con, name), column, name)
    if not isinstance(label, str) or not label.strip():
        raise InvalidArgumentError(f"A label must be non-empty text such as 'California'. Got {label!r}.")
    typed = typed_value(spec, value)
    con.execute("INSERT OR REPLACE INTO genesis.labels (model, column_name, value, label) VALUES (?, ?, ?, ?)",
                [name, spec.name, json.dumps(typed), label.strip()])
    return f"{name}.{spec.name}: {typed!r} is labelled {label.strip()!r}"


def labels_of(con: duckdb.DuckDBPyConnection, model: str) -> dict[str, dict[Any, str]]:
    """column -> {value: label} for a model name (any version)."""
    name, _ = parse_model_ref(model)
    result: dict[str, dict[Any, str]] = {}
    for column, value, label in con.execute(
            "SELECT column_name, value, label FROM genesis.labels WHERE model = ? ORDER BY column_name, value",
            [name]).fetchall():
        result.setdefault(column, {})[json.loads(value)] = label
    return result


def notes_of(con: duckdb.DuckDBPyConnection, model: str) -> dict[str, tuple[str | None, str | None]]:
    """column -> (description, unit) for a model name."""
    name, _ = parse_model_ref(model)
    return {column: (description, unit) for column, description, unit in con.execute(
        "SELECT column_name, description, unit FROM genesis.column_notes WHERE model = ?", [name]).fetchall()}


def check_read_only_select(sql: object, what: str) -> str:
    """``sql`` when it is exactly one read-only SELECT statement, else InvalidArgumentError naming ``what``."""
    return validate_query(sql, what=what, error=InvalidArgumentError)


@dataclass
class FitNotes:
    """Labels and column notes gathered while fitting, stored once the model version is."""

    labels: dict[str, dict[Any, str]] = field(default_factory=dict)
    notes: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)

    def store(self, con: duckdb.DuckDBPyConnection, model: str) -> None:
        """Write what was gathered under ``model``; labels and notes set earlier for other values stay."""
        for column, mapping in self.labels.items():
            for value, label in mapping.items():
                con.execute("INSERT OR REPLACE INTO genesis.labels (model, column_name, value, label) "
                            "VALUES (?, ?, ?, ?)", [model, column, json.dumps(value), label])
        for column, (description, unit) in self.notes.items():
            con.execute("INSERT OR REPLACE INTO genesis.column_notes (model, column_name, description, unit) "
                        "VALUES (?, ?, ?, ?)", [model, column, description, unit])


def gather_fit_notes(con: duckdb.DuckDBPyConnection, source_sql: str, columns: list[ColumnSpec],
                     labels: dict[str, str] | None) -> FitNotes:
    """Run the label mapping queries and read the source's column comments, before anything is stored.

    Args:
        con: the fitting connection.
        source_sql: the training query (comments are read when it selects from one table).
        columns: the detected columns.
        labels: column -> a SELECT returning (value, label) rows.

    Raises:
        InvalidArgumentError: a mapping is not a dict of single SELECTs, names an unknown column, or fails.
    """
    notes = FitNotes(notes={c: (text, None) for c, text in source_comments(con, source_sql, columns).items()})
    if labels is None:
        return notes
    if not isinstance(labels, dict):
        raise InvalidArgumentError(f"labels must map columns to mapping queries, e.g. {{\"state\": \"SELECT code, "
                                   f"name FROM state_names\"}}. Got {labels!r}.")
    for column, query in labels.items():
        spec = _column(columns, column, "being fitted")
        text = check_read_only_select(query, f"The label mapping query for {spec.name!r}")
        try:
            rows = con.execute(f"SELECT * FROM ({text}\n) AS genesis_labels LIMIT {MAX_MAPPING_ROWS + 1}").fetchall()
        except duckdb.Error as exc:
            raise InvalidArgumentError(f"The label mapping query for {spec.name!r} failed: "
                                       f"{str(exc).splitlines()[0]}") from exc
        if rows and len(rows[0]) != 2:
            raise InvalidArgumentError(f"The label mapping query for {spec.name!r} must return two columns "
                                       f"(value, label); it returns {len(rows[0])}.")
        if len(rows) > MAX_MAPPING_ROWS:
            raise InvalidArgumentError(f"The label mapping query for {spec.name!r} returns more than "
                                       f"{MAX_MAPPING_ROWS:,} rows; labels are for code lists.")
        notes.labels[spec.name] = {typed_value(spec, value): str(label) for value, label in rows
                                   if value is not None and label is not None}
    return notes


def _single_table(source_sql: str) -> tuple[exp.Table, dict[str, str]] | None:
    """The one table a query reads and output column -> source column, when it is that simple."""
    try:
        tree = sqlglot.parse_one(source_sql, read="duckdb")
    except SqlglotError:
        return None
    if isinstance(tree, exp.Table):
        return tree, {}
    if not isinstance(tree, exp.Select) or tree.args.get("joins") or tree.args.get("group"):
        return None
    source = tree.args.get("from") or tree.args.get("from_")
    table = source.this if source is not None else None
    if not isinstance(table, exp.Table) or not table.name:
        return None
    renames: dict[str, str] = {}
    for projection in tree.expressions:
        if isinstance(projection, exp.Star):
            continue
        inner = projection.this if isinstance(projection, exp.Alias) else projection
        if isinstance(inner, exp.Column) and not isinstance(inner.this, exp.Star):
            renames[projection.alias_or_name] = inner.name
    return table, renames


def source_comments(con: duckdb.DuckDBPyConnection, source_sql: str, columns: list[ColumnSpec]) -> dict[str, str]:
    """model column -> the source table's ``COMMENT ON COLUMN`` text, for a query over one table."""
    found = _single_table(source_sql)
    if found is None:
        return {}
    table, renames = found
    rows = con.execute(
        "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = ? "
        "AND schema_name = coalesce(?, current_schema()) AND database_name = coalesce(?, current_database()) "
        "AND comment IS NOT NULL AND comment <> ''",
        [table.name, table.db or None, table.catalog or None]).fetchall()
    comments = {column.lower(): text for column, text in rows}
    result = {}
    for spec in columns:
        origin = renames.get(spec.name, spec.name)
        if origin.lower() in comments:
            result[spec.name] = comments[origin.lower()]
    return result

