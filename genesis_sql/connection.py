"""GenesisConnection: a DuckDB connection that pushes WHERE clauses into ``genesis_generate``."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb
from sqlglot import exp

from genesis_sql._db import connect_with_retry
from genesis_sql._install import install
from genesis_sql._materialise import Materialised, materialised_generations, record_generations, table_exists
from genesis_sql.errors import GenesisError
from genesis_sql.generation.plan import condition_notes
from genesis_sql.sql.pushdown import Rewrite, rewrite
from genesis_sql.sql.pushdown.catalog import generator_views, model_columns
from genesis_sql.sql.pushdown.parameters import Parameters

_BEGIN, _COMMIT, _ROLLBACK = ("begin", "start"), ("commit", "end"), ("rollback", "abort")


@dataclass
class _Transaction:
    """An explicit transaction opened through this connection: the lineage waiting for its COMMIT."""

    pending: list[Materialised] = field(default_factory=list)
    failed: bool = False  # a statement failed: DuckDB rolls the whole transaction back, even on COMMIT


class GenesisConnection:
    """Behaves like ``duckdb.DuckDBPyConnection`` (``sql``, ``execute``, ``fetch*``, ``cursor``, ``close``,
    context manager, and every other attribute by delegation) and rewrites queries that read from
    ``genesis_generate(...)`` so that their WHERE conjuncts become the generator's condition.

    It is a full connection: any statement runs (one or several per call, each on its own), a
    statement without a generator goes to DuckDB untouched, and generation lineage for COPY / CREATE
    TABLE AS is recorded when the statement's transaction commits (at once outside a transaction).

    Example:
        >>> gcon = genesis_sql.connect("shop.duckdb")                                   # doctest: +SKIP
        >>> gcon.sql("SELECT * FROM genesis_generate('customers', 1000) WHERE age > 50")  # doctest: +SKIP
    """

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._transaction: _Transaction | None = None

    @property
    def duckdb_connection(self) -> duckdb.DuckDBPyConnection:
        """The underlying DuckDB connection (queries on it are not rewritten)."""
        return self._con

    def rewrite(self, query: str, parameters: Parameters | None = None) -> Rewrite:
        """The pushdown rewrite of ``query`` with its bound ``parameters`` (nothing is run)."""
        return rewrite(query, lambda ref: model_columns(self._con, ref), parameters=parameters,
                       views_of=lambda: generator_views(self._con))

    def explain(self, query: str, parameters: Parameters | None = None) -> str:
        """The rewritten SQL, the ConditionSet pushed into each generator, what was not pushed and why, and
        what each generator's condition asks for that training never showed."""
        plan = self.rewrite(query, parameters)
        for generator in plan.generators:
            condition = generator.requested_condition()
            if condition is None:
                continue
            try:
                notes = condition_notes(self._con, generator.model, condition)
            except GenesisError:
                continue  # running the query reports it
            plan.unseen.extend((generator.model, note) for note in notes)
        return plan.explain()

    def _run(self, statement: str, kind: duckdb.StatementType | None, parameters: Any, run: Any) -> Any:
        """Run one statement with pushdown; keep transaction state and lineage in step with it."""
        plan = self.rewrite(statement, parameters if isinstance(parameters, (list, tuple, dict)) else None)
        kept = self._keeps_existing_table(plan)
        verb = _verb(statement) if kind == duckdb.StatementType.TRANSACTION else ""
        try:
            result = run(plan.sql)
        except Exception:
            if self._transaction is not None:
                self._transaction.failed = True
                if verb in _COMMIT + _ROLLBACK:  # a COMMIT that fails rolls back: the transaction is over
                    self._transaction = None
            raise
        if verb:
            self._transaction_changed(verb)
        elif not kept:
            self._materialised(plan)
        return result

    def _keeps_existing_table(self, plan: Rewrite) -> bool:
        """Whether ``plan`` is a CREATE TABLE IF NOT EXISTS of a table that exists (it generates nothing)."""
        statement = plan.expression
        return (isinstance(statement, exp.Create) and statement.args.get("kind") == "TABLE"
                and bool(statement.args.get("exists"))
                and table_exists(self._con, statement.this.sql(dialect="duckdb")))

    def _materialised(self, plan: Rewrite) -> None:
        made = materialised_generations(self._con, plan)
        if not made:
            return
        if self._transaction is None:
            record_generations(self._con, made)
            return
        # Output to a file stays when the transaction rolls back; a table comes and goes with it.
        record_generations(self._con, [m for m in made if m.table is None])
        self._transaction.pending.extend(m for m in made if m.table is not None)

    def _transaction_changed(self, verb: str) -> None:
        if verb in _BEGIN:
            self._transaction = _Transaction()
        elif verb in _COMMIT + _ROLLBACK:
            transaction, self._transaction = self._transaction, None
            if transaction is not None and verb in _COMMIT and not transaction.failed:
                record_generations(self._con, [m for m in transaction.pending if table_exists(self._con, m.table)])

    def _statements(self, query: str) -> list[tuple[str, duckdb.StatementType | None]]:
        """The statements of ``query`` as DuckDB splits them; the text whole when DuckDB cannot parse it."""
        try:
            statements = duckdb.extract_statements(query)
        except duckdb.Error:
            return [(query, None)]
        if len(statements) == 1:
            return [(query, statements[0].type)]
        return [(s.query, s.type) for s in statements]

    def sql(self, query: str, *args: Any, **kwargs: Any) -> duckdb.DuckDBPyRelation | None:
        """Like ``DuckDBPyConnection.sql``, with pushdown (and lineage for COPY / CREATE TABLE AS)."""
        statements = self._statements(query)
        for statement, kind in statements[:-1]:
            self._run(statement, kind, None, lambda sql: self._con.execute(sql).fetchall())
        statement, kind = statements[-1]
        return self._run(statement, kind, kwargs.get("params"), lambda sql: self._con.sql(sql, *args, **kwargs))

    query = sql

    def execute(self, query: str, parameters: Any = None) -> GenesisConnection:
        """Like ``DuckDBPyConnection.execute``, with pushdown (bound parameters pushed with their values);
        returns this connection for fetching."""
        statements = self._statements(query)
        if parameters is not None and len(statements) > 1:
            statements = [(query, None)]  # DuckDB reports that parameters need a single statement
        for statement, kind in statements:
            self._run(statement, kind, parameters,
                      lambda sql: self._con.execute(sql) if parameters is None else self._con.execute(sql, parameters))
        return self

    def begin(self) -> GenesisConnection:
        """Start a transaction (lineage of what it materialises is recorded when it commits)."""
        self._con.begin()
        self._transaction = _Transaction()
        return self

    def commit(self) -> GenesisConnection:
        """Commit the transaction, then record the lineage it held back."""
        self._con.commit()
        self._transaction_changed("commit")
        return self

    def rollback(self) -> GenesisConnection:
        """Roll the transaction back, with the lineage it held back."""
        self._con.rollback()
        self._transaction_changed("rollback")
        return self

    def cursor(self) -> GenesisConnection:
        """A new cursor, also with pushdown."""
        from genesis_sql._db import cursor

        return GenesisConnection(cursor(self._con))

    def close(self) -> None:
        """Close the underlying connection."""
        self._con.close()

    def __enter__(self) -> GenesisConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _verb(statement: str) -> str:
    """The first word of a transaction statement: begin, start, commit, end, rollback or abort."""
    return statement.lstrip().split(None, 1)[0].lower().rstrip(";")


def connect(path: str = ":memory:", *, read_only: bool = False, **duckdb_config: Any) -> GenesisConnection:
    """Open (or create) a DuckDB database with genesis installed and WHERE pushdown on.

    Args:
        path: the database file, or ``":memory:"``.
        read_only: open read-only (one writable install must have set the catalog up before).
        **duckdb_config: DuckDB configuration options, e.g. ``threads=2``.
    """
    con = connect_with_retry(path, read_only=read_only, config=duckdb_config or None)
    install(con)
    return GenesisConnection(con)
