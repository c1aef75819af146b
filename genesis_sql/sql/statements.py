"""Query arguments are one read-only SELECT: the guard in front of every place that runs a user's query text.

A query argument (the training query of ``fit`` / ``genesis_fit``, the real and holdout queries of
``evaluate`` / ``genesis_evaluate`` and their stored re-runs, ``genesis sql``, ``genesis_query``) is text
that genesis wraps and runs. Wrapped text that closes the wrapper's parenthesis could smuggle in more
statements (``SELECT * FROM t); DROP TABLE victim; --``), so every such argument must be exactly one
read-only SELECT (or WITH ... SELECT, FROM-first, VALUES, DESCRIBE, SUMMARIZE) statement:

- DuckDB's own ``extract_statements`` decides how many statements the text holds and of which type;
- DuckDB's own parse tree (``json_serialize_sql``) names every function and table the statement reads;
  none may be a genesis function that writes, and none may reach the network;
- a textual check catches a writing genesis function named anywhere, even inside a string handed to
  ``query()``, which no parse tree shows.

Reading local files (``read_csv``, ``'data.parquet'``) is the caller's choice: the Python API and the CLI
run with the user's own rights and allow it; the SQL functions, which servers, BI tools and stored
queries reach, do not (``allow_files=False``).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import duckdb
import sqlglot
from sqlglot.errors import SqlglotError
from sqlglot.tokens import TokenType

from genesis_sql._parse_tree import parse_tree, walk
from genesis_sql.errors import GenesisError, InvalidArgumentError

# Genesis functions that change the catalog, the lineage or the privacy ledger (the Python functions behind
# their macros carry these names too: see genesis_sql._functions.python_name).
WRITING_FUNCTIONS = frozenset({
    "genesis_fit", "genesis_drop", "genesis_evaluate", "genesis_label", "genesis_privacy_budget_limit",
})
# Table and scalar functions that read files or remote data, besides every ``read_*`` and ``*_scan``.
FILE_FUNCTIONS = frozenset({
    "glob", "sniff_csv", "parquet_metadata", "parquet_schema", "parquet_file_metadata", "parquet_kv_metadata",
    "parquet_bloom_probe", "iceberg_metadata", "iceberg_snapshots", "sqlite_attach", "postgres_attach",
    "postgres_query", "mysql_query", "duckdb_secrets", "load_aws_credentials",
})
_WRITER_WORD = re.compile(r"\b(" + "|".join(sorted(WRITING_FUNCTIONS)) + r")\b", re.IGNORECASE)
_FILE_WORD = re.compile(r"\b(read_\w+|\w+_scan|" + "|".join(sorted(FILE_FUNCTIONS)) + r")\s*\(", re.IGNORECASE)
_PATH_CHARACTERS = re.compile(r"[./\\:*~]")
_READ_ONLY_TYPES = {duckdb.StatementType.SELECT}



def _strings(node: Any) -> Iterator[str]:
    """Every text in a subtree: its string constants among them, whatever the serializer version names them."""
    for item in walk(node):
        for value in item.values():
            if isinstance(value, str):
                yield value


def _is_file_function(name: str) -> bool:
    name = name.lower()
    return name.startswith("read_") or name.endswith("_scan") or name in FILE_FUNCTIONS


def _refusal(tree: dict[str, Any], allow_files: bool) -> str | None:
    """Why the parsed statement may not run as a query argument, or None when it may."""
    for node in walk(tree):
        function = str(node.get("function_name") or "").lower()
        if function in WRITING_FUNCTIONS:
            return f"it calls {function}(), which writes; call it on its own instead"
        if function and _is_file_function(function):
            if not allow_files:
                return (f"it reads files through {function}(); load the file into a table first "
                        f"(CREATE TABLE t AS SELECT * FROM {function}(...)) and query the table")
            if any("://" in text for text in _strings(node)):
                return f"it reaches the network through {function}(); download the data into a table first"
        table = node.get("table_name")
        if node.get("type") == "BASE_TABLE" and isinstance(table, str):
            if "://" in table:
                return f"it reads {table!r} over the network; download the data into a table first"
            if not allow_files and _PATH_CHARACTERS.search(table):
                return f"it reads the file {table!r}; load it into a table first and query the table"
    return None


def _without_trailing(statement: str) -> str:
    """The statement without the semicolons and comments after its last token (so it can be wrapped)."""
    try:
        tokens = sqlglot.tokenize(statement, read="duckdb")
    except SqlglotError:
        return statement.strip()
    while tokens and tokens[-1].token_type == TokenType.SEMICOLON:
        tokens.pop()
    return statement[:tokens[-1].end + 1].strip() if tokens else statement.strip()


def validate_query(sql: object, *, what: str = "query", allow_files: bool = True,
                   error: type[GenesisError] = InvalidArgumentError) -> str:
    """Accept ``sql`` only as exactly one read-only SELECT statement; return it without a trailing ``;``.

    Args:
        sql: the query argument as given.
        what: how messages name it ("training query", "real query" ...).
        allow_files: whether the statement may read local files (``read_csv``, ``'data.parquet'``).
        error: the GenesisError subclass to raise (the entry point's own: FitError, EvaluationError ...).

    Raises:
        ``error`` naming what was wrong and what would be right; nothing has run then.

    Example:
        >>> validate_query("SELECT * FROM t;")
        'SELECT * FROM t'
    """
    if not isinstance(sql, str) or not sql.strip():
        raise error(f"The {what} must be SQL text such as 'SELECT * FROM customers'. Got {sql!r}.")
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise error(f"The {what} is not valid SQL: {str(exc).splitlines()[0]}. "
                    "It must be one SELECT statement such as 'SELECT * FROM customers'.") from exc
    kinds = [s.type.name for s in statements]
    if len(statements) != 1 or statements[0].type not in _READ_ONLY_TYPES:
        got = f"{len(statements)} statements ({', '.join(kinds)})" if len(statements) != 1 else f"{kinds[0]}"
        raise error(f"The {what} must be exactly one read-only SELECT (or WITH ... SELECT) statement; got {got}. "
                    "Run other statements on their own.")
    writer = _WRITER_WORD.search(sql)
    if writer:
        raise error(f"The {what} may not call {writer.group(1).lower()}(), which writes, not even inside a "
                    "string; call it on its own instead.")
    if not allow_files and _FILE_WORD.search(sql):
        name = _FILE_WORD.search(sql).group(1).lower()
        raise error(f"The {what} may not read files ({name}); load the file into a table first and query the table.")
    statement = _without_trailing(statements[0].query)
    try:
        tree = parse_tree(statement)
        if tree.get("error"):
            raise error(f"The {what} is not valid SQL: {tree.get('error_message')}.")
        reason = _refusal(tree, allow_files)
    except (duckdb.Error, RecursionError) as exc:
        raise error(f"The {what} is nested too deeply to check ({type(exc).__name__}); write it with fewer "
                    "nested subqueries or function calls.") from exc
    if reason:
        raise error(f"The {what} is refused: {reason}.")
    return statement
