"""Lineage for output materialised through SQL: ``COPY (...) TO 'file'`` and ``CREATE TABLE ... AS``.

DESIGN.md asks for a generation block wherever genesis materialises output; for statements run through a
GenesisConnection this module names the destination, fingerprints what landed there (inside DuckDB, on
the user's own connection, which sees its TEMP tables and its open transaction) and makes one block per
generator call in the statement, including the calls inside ``genesis_query('...')`` texts. Taking the
blocks (:func:`materialised_generations`) and appending them (:func:`record_generations`) are separate
steps, so that a connection can hold them back until the transaction that made the output commits.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import duckdb
from sqlglot import exp

from genesis_sql.generation.plan import GenerationPlan, last_seed, plan_generation
from genesis_sql.lineage.fingerprint import RowsFingerprint, rows_fingerprint
from genesis_sql.sql.pushdown import Rewrite
from genesis_sql.sql.pushdown._state import GENERATOR

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Materialised:
    """One generator call's output that landed in a table or file: what to record for it."""

    plan: GenerationPlan
    fingerprint: RowsFingerprint
    destination: str
    table: str | None  # the table written (None for a file)


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


def destination(statement: exp.Expression | None) -> tuple[str, str, str | None] | None:
    """(label, SQL reading what was written, table name or None) for COPY TO a file or CREATE TABLE AS."""
    if isinstance(statement, exp.Copy) and statement.args.get("files") and not statement.args.get("kind"):
        path = statement.args["files"][0].this
        return path, f"SELECT * FROM '{path.replace(chr(39), chr(39) * 2)}'", None
    if isinstance(statement, exp.Create) and statement.args.get("kind") == "TABLE" and statement.expression:
        table = statement.this.sql(dialect="duckdb")
        return table, f"SELECT * FROM {table}", table
    return None


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether ``table`` (SQL text of a table name) can be read on ``con``."""
    try:
        con.execute(f"SELECT 1 FROM {table} LIMIT 0").fetchall()
    except duckdb.Error:
        return False
    return True


def _calls(plan: Rewrite) -> list[exp.Anonymous]:
    trees = [plan.expression, *(inner.expression for _, inner in plan.nested)]
    return [call for tree in trees if tree is not None for call in tree.find_all(exp.Anonymous)
            if call.name.lower() == GENERATOR]


def materialised_generations(con: duckdb.DuckDBPyConnection, plan: Rewrite) -> list[Materialised]:
    """What a COPY / CREATE TABLE AS statement that just ran on ``con`` generated, ready to record."""
    target = destination(plan.expression)
    calls = _calls(plan) if target else []
    if not calls:
        return []
    label, read_back, table = target
    fingerprint = rows_fingerprint(con, read_back)
    made = []
    for call in calls:
        try:
            model, n, seed, condition = _call_arguments(call)
        except (ValueError, IndexError):
            log.warning("lineage: %s has non-literal arguments; no generation block recorded", call.sql())
            continue
        generation, _ = plan_generation(con, model, n, seed=seed if seed is not None else last_seed(str(model)),
                                        condition=condition)
        made.append(Materialised(generation, fingerprint, label, table))
    return made


def record_generations(con: duckdb.DuckDBPyConnection, made: list[Materialised]) -> None:
    """Append one generation block per materialised output (each in its own lineage transaction)."""
    from genesis_sql.lineage.record import record_generation

    for item in made:
        record_generation(con, item.plan, item.fingerprint, destination=item.destination)
