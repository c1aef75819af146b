"""Lineage for output materialised through SQL: ``COPY (...) TO 'file'`` and ``CREATE TABLE ... AS``.

DESIGN.md asks for a generation block wherever genesis materialises output; for statements run through a
GenesisConnection this module names the destination, fingerprints what landed there (inside DuckDB) and
records one block per generator call in the statement.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import duckdb
from sqlglot import exp

from genesis_sql._plan import last_seed, plan_generation
from genesis_sql.sql.pushdown._state import GENERATOR

if TYPE_CHECKING:
    from genesis_sql.lineage.fingerprint import RowsFingerprint

log = logging.getLogger(__name__)


def _literal(node: exp.Expression | None) -> object:
    if isinstance(node, exp.Literal):
        return node.this if node.is_string else node.to_py()
    if isinstance(node, exp.Null) or node is None:
        return None
    raise ValueError(node.sql())


def _call_arguments(call: exp.Anonymous) -> tuple[str, int, int | None, str | None]:
    positional = [a for a in call.expressions if not isinstance(a, exp.PropertyEQ)]
    named = {a.this.name.lower(): a.expression for a in call.expressions if isinstance(a, exp.PropertyEQ)}
    return (_literal(positional[0]), _literal(positional[1]), _literal(named.get("seed")),
            _literal(named.get("condition")))


def _destination(statement: exp.Expression) -> tuple[str, str] | None:
    """(destination label, SQL reading what was written) for COPY TO a file or CREATE TABLE AS."""
    if isinstance(statement, exp.Copy) and statement.args.get("files") and not statement.args.get("kind"):
        path = statement.args["files"][0].this
        return path, f"SELECT * FROM '{path.replace(chr(39), chr(39) * 2)}'"
    if isinstance(statement, exp.Create) and statement.args.get("kind") == "TABLE" and statement.expression:
        table = statement.this.sql(dialect="duckdb")
        return table, f"SELECT * FROM {table}"
    return None


def record_materialised(con: duckdb.DuckDBPyConnection, statement: exp.Expression | None) -> None:
    """Record generation lineage for a COPY / CREATE TABLE AS statement that read generators."""
    if statement is None:
        return
    target = _destination(statement)
    if target is None:
        return
    from genesis_sql.lineage.fingerprint import query_fingerprint

    destination, read_back = target
    record_served(con, statement, query_fingerprint(con, read_back), destination=destination)


def record_served(con: duckdb.DuckDBPyConnection, statement: exp.Expression, fingerprint: RowsFingerprint, *,
                  destination: str) -> None:
    """Record one generation block per generator call in ``statement``, whose result rows (``fingerprint``)
    went to ``destination``: a file, a table, or a server's client."""
    from genesis_sql.lineage.record import record_generation

    for call in statement.find_all(exp.Anonymous):
        if call.name.lower() != GENERATOR:
            continue
        try:
            model, n, seed, condition = _call_arguments(call)
        except (ValueError, IndexError):
            log.warning("lineage: %s has non-literal arguments; no generation block recorded", call.sql())
            continue
        plan, _ = plan_generation(con, model, n, seed=seed if seed is not None else last_seed(str(model)),
                                  condition=condition)
        record_generation(con, plan, fingerprint, destination=destination)
