"""The gate in front of ``POST /v1/sql``: exactly one read-only SELECT, no genesis writer, no file access.

DuckDB's own ``extract_statements`` decides how many statements the text holds and of which type, so
nothing the pushdown parser (sqlglot) reads differently can slip through; sqlglot then lists the
functions the statement calls. The serving connection is also opened with ``enable_external_access``
off, so a file that this list misses is refused by DuckDB itself.

Issue 11 item 1 asks for one shared validator of query arguments (``genesis_sql.sql.statements``, being
written beside this); when it lands, :func:`check_read_only` should call it instead.
"""
from __future__ import annotations

import duckdb
import sqlglot
from sqlglot import exp

from genesis_sql.errors import InvalidArgumentError

# genesis functions that change the catalog.
WRITERS = frozenset({"genesis_fit", "genesis_drop", "genesis_evaluate", "genesis_label",
                     "genesis_privacy_budget_limit"})
# Functions that read files or run SQL text of their own.
FILE_FUNCTIONS = frozenset({"glob", "query", "query_table", "sniff_csv", "genesis_query", "parquet_metadata",
                            "parquet_schema", "parquet_file_metadata", "parquet_kv_metadata",
                            "parquet_bloom_probe"})


def _function_names(statement: exp.Expression) -> set[str]:
    names = set()
    for node in statement.find_all(exp.Func):
        name = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
        names.add(name.lower())
    return names


def _reads_files(name: str) -> bool:
    return (name in FILE_FUNCTIONS or name.startswith("read_")
            or name.endswith("_scan") or name.endswith("_scanner"))


def check_read_only(sql: object) -> str:
    """``sql`` itself when it is exactly one read-only SELECT (or WITH ... SELECT); else a clear error.

    Raises:
        InvalidArgumentError: not text, not one statement, not a SELECT, or calling a function that writes
            the catalog or reads files.
    """
    if not isinstance(sql, str) or not sql.strip():
        raise InvalidArgumentError(f"sql must be the text of one SELECT statement. Got {sql!r}.")
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise InvalidArgumentError(f"The query does not parse: {str(exc).strip().splitlines()[0]}") from exc
    if len(statements) != 1:
        raise InvalidArgumentError(f"Send exactly one statement; this text holds {len(statements)}.")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        verb = (statements[0].query.split() or [kind.name])[0].upper()
        raise InvalidArgumentError(f"This server is read-only: only SELECT (or WITH ... SELECT) runs here, "
                                   f"not {verb}.")
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.SqlglotError as exc:
        raise InvalidArgumentError(f"The query does not parse: {str(exc).splitlines()[0]}") from exc
    names = _function_names(tree)
    writers = sorted(names & WRITERS)
    if writers:
        raise InvalidArgumentError(f"This server is read-only: {', '.join(writers)} changes the catalog and "
                                   "cannot be called here (fits go to POST /v1/fit when the server allows them).")
    readers = sorted(name for name in names if _reads_files(name))
    if readers:
        raise InvalidArgumentError(f"This server reads no files and runs no nested SQL text: "
                                   f"{', '.join(readers)} cannot be called here.")
    return sql
