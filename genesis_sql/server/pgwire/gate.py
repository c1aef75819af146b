"""The read-only gate: what a served client may run.

Exactly read-only statements pass: SELECT / WITH / VALUES (and DuckDB's SHOW, DESCRIBE, SUMMARIZE,
which are SELECTs), or EXPLAIN of one. Every function a statement calls is read from DuckDB's own parse
tree (``json_serialize_sql``), so what is checked is what DuckDB will run: functions that read files or
the network, functions that write (``genesis_fit`` unless allowed, ``genesis_drop``, ``nextval`` ...)
and ``query()``, which would run text the gate never saw, are refused. The serving database also has
``enable_external_access = false`` and ``lock_configuration = true``; this gate gives the clear message
and SQLSTATE 42501 first.

Every statement also passes :func:`genesis_sql.sql.statements.validate_query` with ``allow_files=False``,
the project's one validator of query arguments; this gate adds what only a server needs: EXPLAIN, the
statement-type messages a BI user sees, ``query()``, sequence and checkpoint functions, the
``genesis_query`` text checked in turn, and ``genesis_fit`` when the server allows fitting.
"""
from __future__ import annotations

import json
import re

import duckdb

from genesis_sql.errors import InvalidArgumentError
from genesis_sql.server.pgwire.sqlstate import INSUFFICIENT_PRIVILEGE, SYNTAX_ERROR, ServedError
from genesis_sql.sql.statements import validate_query

FILE_FUNCTIONS = frozenset({
    "glob", "sniff_csv", "parquet_metadata", "parquet_schema", "parquet_file_metadata", "parquet_kv_metadata",
    "parquet_bloom_probe", "query", "query_table", "load_aws_credentials", "iceberg_metadata",
    "iceberg_snapshots", "duckdb_secrets", "which_secret",
})
FILE_FUNCTION_PATTERN = re.compile(r"^(read_\w+|\w+_scan|\w+_attach|iceberg_\w+|delta_\w+)$")
WRITING_FUNCTIONS = frozenset({
    "genesis_drop", "genesis_label", "genesis_privacy_budget_limit", "genesis_evaluate", "nextval", "setval",
    "checkpoint", "force_checkpoint", "set_variable", "genesis_lineage_checkpoint",
})
FIT_FUNCTIONS = frozenset({"genesis_fit"})
READ_ONLY_TYPES = frozenset({"SELECT"})


def _refuse(message: str) -> ServedError:
    return ServedError(INSUFFICIENT_PRIVILEGE, message,
                       hint="This server is read-only: run SELECT queries; fit and change data in a genesis session "
                            "that owns the database.")


def _file_tables(tree: object) -> list[str]:
    """Table references that name a file (``FROM 'data.csv'``) in a serialized parse tree."""
    found, todo = [], [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            name = str(node.get("table_name", ""))
            if node.get("type") == "BASE_TABLE" and ("/" in name or "." in name or "\\" in name):
                found.append(name)
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return found


def _functions(tree: object) -> list[tuple[str, list]]:
    """(function name, arguments) of every function call in a serialized parse tree."""
    found: list[tuple[str, list]] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            if "function_name" in node:
                found.append((str(node["function_name"]).lower(), node.get("children") or []))
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return found


def _check_select(con: duckdb.DuckDBPyConnection, sql: str, *, allow_fit: bool) -> None:
    raw = con.execute("SELECT json_serialize_sql(?)", [sql]).fetchall()[0][0]
    tree = json.loads(raw)
    if tree.get("error"):
        raise ServedError(SYNTAX_ERROR, tree.get("error_message") or "syntax error")
    for name in _file_tables(tree):
        raise _refuse(f"FROM {name!r} reads a file; this server does not allow file access from SQL.")
    for name, arguments in _functions(tree):
        if name in FILE_FUNCTIONS or FILE_FUNCTION_PATTERN.match(name):
            raise _refuse(f"{name}() reads files, the network or unchecked SQL text; this server does not "
                          "allow it. Query the database's tables and synthetic.<model> views instead.")
        if name in WRITING_FUNCTIONS:
            raise _refuse(f"{name}() changes the database; this server is read-only.")
        if name in FIT_FUNCTIONS and not allow_fit:
            raise _refuse(f"{name}() is not allowed on this server; start it with --allow-fit to let clients fit.")
        if name == "genesis_query":
            inner = arguments[0] if arguments else None
            value = inner.get("value", {}) if isinstance(inner, dict) else {}
            literal = isinstance(inner, dict) and inner.get("class") == "CONSTANT"
            if not (literal and isinstance(value.get("value"), str)):
                raise _refuse("genesis_query() takes one SELECT as a text literal here.")
            check_read_only(con, value["value"], allow_fit=allow_fit)


def check_read_only(con: duckdb.DuckDBPyConnection, sql: str, *, allow_fit: bool = False) -> None:
    """Raise ServedError (42501) unless ``sql`` is one read-only statement that reads no files.

    Args:
        con: any connection (used only to parse with DuckDB's parser).
        sql: the statement, as it will run.
        allow_fit: whether ``genesis_fit`` may be called.
    """
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise ServedError(SYNTAX_ERROR, str(exc).split("\n")[0].removeprefix("Parser Error: ")) from exc
    if len(statements) != 1:
        raise ServedError(SYNTAX_ERROR, f"expected one statement, got {len(statements)}")
    kind = statements[0].type.name
    if kind == "EXPLAIN":
        inner = re.sub(r"^\s*EXPLAIN\s+(ANALY[SZ]E\s+)?", "", sql, flags=re.IGNORECASE)
        return check_read_only(con, inner, allow_fit=allow_fit)
    if kind not in READ_ONLY_TYPES:
        raise _refuse(f"{kind} statements are not allowed: this server is read-only (only SELECT, WITH, SHOW "
                      "and EXPLAIN run).")
    _check_select(con, sql, allow_fit=allow_fit)
    if allow_fit and any(name in sql.lower() for name in FIT_FUNCTIONS):
        return  # validate_query refuses every writer; _check_select has checked all but the allowed fit
    try:
        validate_query(sql, what="served query", allow_files=False)
    except InvalidArgumentError as exc:
        raise _refuse(str(exc)) from exc
