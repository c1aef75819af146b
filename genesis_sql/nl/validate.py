"""Checking SQL that an NL-to-SQL tool (or a person) wrote before it runs, and the connection it runs on.

:func:`validate_sql` accepts exactly one SELECT over ``genesis_generate`` of a registered model: known
columns, values within the model's training support (with "did you mean"), a row cap, no comments, no
other tables, functions or statements. :func:`open_hardened` opens a database read-only with external
access off and the configuration locked, for servers that run such SQL.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from genesis_sql.generation import plan_generation
from genesis_sql.catalog import resolve_version
from genesis_sql.errors import ConditionSyntaxError, InvalidArgumentError, UnknownColumnError
from genesis_sql.nl.labels import model_columns
from genesis_sql.schema import ColumnSpec
from genesis_sql.sql.statements import validate_query

DEFAULT_MAX_ROWS = 10_000
MAX_SQL_CHARS = 20_000
GENERATOR = "genesis_generate"
HARDENED_CONFIG = {"enable_external_access": False, "autoinstall_known_extensions": False,
                   "autoload_known_extensions": False}


class UnsafeQueryError(InvalidArgumentError):
    """SQL handed to genesis by an NL-to-SQL tool is not the one SELECT over genesis_generate it may be."""


@dataclass(frozen=True)
class ValidatedQuery:
    """A query that passed :func:`validate_sql`: what it asks for and its canonical SQL."""

    sql: str
    model: str
    version: int
    n: int
    seed: int | None
    condition: str
    columns: tuple[str, ...]
    limit: int | None = None

    @property
    def rows(self) -> int:
        """How many rows it returns at most."""
        return self.n if self.limit is None else min(self.n, self.limit)


def _reject(message: str) -> UnsafeQueryError:
    return UnsafeQueryError(message + " Write one SELECT over genesis_generate('<model>', <n>) with an "
                                      "optional WHERE on the model's columns.")


def _parse(sql: object) -> exp.Select:
    if not isinstance(sql, str) or not sql.strip():
        raise _reject(f"Expected SQL text; got {sql!r}.")
    if len(sql) > MAX_SQL_CHARS:
        raise _reject(f"The query is {len(sql):,} characters; at most {MAX_SQL_CHARS:,} are accepted.")
    validate_query(sql, what="generated SQL", allow_files=False, error=UnsafeQueryError)
    try:
        tokens = sqlglot.tokenize(sql, read="duckdb")
        tree = sqlglot.parse_one(sql, read="duckdb")
    except SqlglotError as exc:
        raise _reject(f"The query does not parse: {str(exc).splitlines()[0]}.") from exc
    if any(token.comments for token in tokens):
        raise _reject("Comments are not accepted in generated SQL.")
    if not isinstance(tree, exp.Select):
        raise _reject(f"Only a plain SELECT is accepted; got {type(tree).__name__}.")
    for key in ("with", "with_", "joins", "group", "having", "qualify", "windows", "distinct", "order", "offset",
                "laterals", "into", "pivots", "sample", "settings", "format", "kind", "locks", "prewhere",
                "connect", "match"):
        if tree.args.get(key):
            raise _reject(f"{key.rstrip('_').upper()} is not accepted.")
    return tree


def _literal(node: exp.Expression | None, what: str, *, string: bool) -> Any:
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and not string:
        raise _reject(f"{what} must not be negative.")
    if not isinstance(node, exp.Literal) or node.is_string != string:
        kind = "a quoted string" if string else "a whole number"
        raise _reject(f"{what} must be {kind} literal; got {node.sql(dialect='duckdb') if node else 'nothing'}.")
    if string:
        return node.this
    try:
        return int(node.this)
    except ValueError:
        raise _reject(f"{what} must be a whole number; got {node.this}.") from None


def _generator(tree: exp.Select) -> tuple[exp.Anonymous, str | None]:
    source = tree.args.get("from") or tree.args.get("from_")
    table = source.this if source is not None else None
    if not isinstance(table, exp.Table) or not isinstance(table.this, exp.Anonymous) \
            or table.this.name.lower() != GENERATOR or table.args.get("db") or table.args.get("catalog"):
        found = table.sql(dialect="duckdb") if table is not None else "nothing"
        raise _reject(f"FROM must be {GENERATOR}(...); got {found}.")
    alias = table.alias or None
    return table.this, alias


def _unqualify(tree: exp.Expression, alias: str | None, columns: list[ColumnSpec]) -> exp.Expression:
    """Column references without their table alias, checked against the model's columns."""
    known = {c.name.lower(): c.name for c in columns}
    for column in tree.find_all(exp.Column):
        own = alias is not None and column.table.lower() == alias.lower() or column.table.lower() == GENERATOR
        if column.table and not own:
            raise _reject(f"Column {column.sql(dialect='duckdb')} names a table other than the generator.")
        if column.name.lower() not in known:
            import difflib

            close = difflib.get_close_matches(column.name, list(known.values()), n=3)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise UnknownColumnError(f"The model has no column {column.name!r}.{hint} Columns: "
                                     f"{', '.join(known.values())}.")
        column.set("table", None)
    return tree


def validate_sql(con: duckdb.DuckDBPyConnection, sql: str, *, max_rows: int = DEFAULT_MAX_ROWS) -> ValidatedQuery:
    """Check SQL from an NL-to-SQL tool; returns what it asks for, or raises a GenesisError saying why not.

    Args:
        con: a connection with genesis installed (the catalog is read, nothing is written or run).
        sql: the query text.
        max_rows: the row cap (n, or LIMIT when smaller).

    Raises:
        UnsafeQueryError: not exactly one plain SELECT over genesis_generate with literal arguments.
        ModelNotFoundError, UnknownColumnError, ConditionError (InfeasibleConditionError ...): names and values
            outside the catalog or the model's support, with the closest known ones.
    """
    tree = _parse(sql)
    call, alias = _generator(tree)
    args = list(call.expressions)
    positional = [a for a in args if not isinstance(a, exp.PropertyEQ)]
    named = {a.this.name.lower(): a.expression for a in args if isinstance(a, exp.PropertyEQ)}
    if len(positional) != 2 or set(named) - {"seed", "condition"}:
        raise _reject(f"{GENERATOR} takes (model, n[, seed := S][, condition := '...']); got "
                      f"{call.sql(dialect='duckdb')}.")
    model = _literal(positional[0], "The model name", string=True)
    n = _literal(positional[1], "n", string=False)
    seed = _literal(named["seed"], "seed", string=False) if "seed" in named else None
    name, version, _ = resolve_version(con, model)
    limit = None
    if tree.args.get("limit") is not None:
        limit = _literal(tree.args["limit"].expression, "LIMIT", string=False)
    if min(n, limit if limit is not None else n) > max_rows:
        raise UnsafeQueryError(f"The query asks for {n:,} rows; the cap is {max_rows:,}. Ask for fewer rows.")
    columns = model_columns(con, f"{name}@{version}")
    projections = []
    for projection in tree.expressions:
        if isinstance(projection, exp.Star):
            projections.append("*")
        elif isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star):
            projections.append("*")
        elif isinstance(projection, exp.Column):
            projections.append(_unqualify(projection.copy(), alias, columns).name)
        else:
            raise _reject(f"Only * or the model's columns may be selected; got {projection.sql(dialect='duckdb')}.")
    conditions = []
    if "condition" in named:
        text = _literal(named["condition"], "condition", string=True)
        conditions.append(text)
    where = tree.args.get("where")
    if where is not None:
        for node in where.walk():
            if isinstance(node, (exp.Subquery, exp.Select, exp.Table, exp.Placeholder, exp.Parameter)):
                raise _reject("WHERE may only compare the model's columns with values.")
        conditions.append(_unqualify(where.this.copy(), alias, columns).sql(dialect="duckdb"))
    condition = " AND ".join(f"({c})" for c in conditions) if len(conditions) > 1 else "".join(conditions)
    try:
        plan, _ = plan_generation(con, f"{name}@{version}", n, seed=seed if seed is not None else 0,
                                  condition=condition or None)
    except ConditionSyntaxError as exc:
        raise UnsafeQueryError(f"The condition is outside the condition grammar: {exc}") from exc
    select = ", ".join('"' + p.replace('"', '""') + '"' if p != "*" else "*" for p in projections)
    canonical = f"SELECT {select} FROM {GENERATOR}('{name}', {n}{f', seed := {seed}' if seed is not None else ''})"
    if plan.condition_sql:
        canonical += f" WHERE {plan.condition_sql}"
    if limit is not None:
        canonical += f" LIMIT {limit}"
    return ValidatedQuery(canonical, name, version, n, seed, plan.condition_sql, tuple(projections), limit)


def open_hardened(path: str) -> duckdb.DuckDBPyConnection:
    """A read-only connection to ``path`` with no external access and a locked configuration.

    Genesis functions are registered (the catalog must be installed already); files, network, ATTACH,
    INSTALL/LOAD and configuration changes all fail.
    """
    from genesis_sql._db import connect_with_retry
    from genesis_sql._install import install

    con = connect_with_retry(path, read_only=True, config={k: v for k, v in HARDENED_CONFIG.items()
                                                           if k != "enable_external_access"})
    try:
        con.execute("SET enable_external_access = false")
        install(con)
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con
