"""The Python entry points: fit a model from a query, generate rows from a stored model."""
from __future__ import annotations

import json
import logging
import random
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from genesis_sql._db import in_transaction, transaction
from genesis_sql.catalog import ModelRecord, save_model, validate_model_name
from genesis_sql.conditions import ConditionSet
from genesis_sql.errors import FitError, InvalidArgumentError
from genesis_sql.generation import (
    RUNTIME,
    GenerationPlan,
    generate_batches,
    plan_generation,
    record,
    to_table,
    validate_seed,
)
from genesis_sql.generation.row_function import register_model
from genesis_sql.lineage.fingerprint import RowsFingerprint, rows_fingerprint
from genesis_sql.lineage.record import record_fit
from genesis_sql.models import (
    SELECTION_ROWS,
    SMALL_TABLE_ROWS,
    candidate_methods,
    personal_columns,
    synthesizer_class,
)
from genesis_sql.models._seen import SeenPairs
from genesis_sql.nl.labels import FitNotes, gather_fit_notes
from genesis_sql import privacy
from genesis_sql.rules import RuleSet, check_detection, entity_columns, fit_rules
from genesis_sql.schema import ColumnSpec, base_type, detect_schema, output_type
from genesis_sql.sql.statements import validate_query

log = logging.getLogger(__name__)

# Concurrent fits collide on the lineage tip when they commit; the loser stores again on the new tip.
STORE_ATTEMPTS = 50
_CASTS = {"DECIMAL": "DOUBLE", "HUGEINT": "DOUBLE", "UHUGEINT": "DOUBLE", "UUID": "VARCHAR",
          "TIMESTAMP_S": "TIMESTAMP", "TIMESTAMP_MS": "TIMESTAMP", "TIMESTAMP_NS": "TIMESTAMP"}


@dataclass(frozen=True)
class FitSummary:
    """What ``fit`` stored."""

    name: str
    version: int
    method: str
    columns: tuple[tuple[str, str], ...]
    training_rows: int
    fit_seconds: float
    holdout_rows: int = 0
    reason: str = ""
    # Personal columns (column, PII style), generated as Faker fakes and never copied.
    pii: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        kinds = ", ".join(f"{n}:{k}" for n, k in self.columns)
        why = f"\n{self.reason}" if self.reason else ""
        pii = ", ".join(f"{n} ({s})" for n, s in self.pii)
        personal = f"\nPII made with Faker, never copied: {pii}" if pii else ""
        return (f"{self.name}@{self.version}: {self.method} on {self.training_rows:,} rows "
                f"in {self.fit_seconds:.2f}s ({kinds}){why}{personal}")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _source_relation(con: duckdb.DuckDBPyConnection, source_sql: str) -> tuple[str, dict[str, str]]:
    """The training query wrapped as one subquery, with columns cast to modelable types, and their types."""
    statement = validate_query(source_sql, what="training query", error=FitError)
    # The newline ends a trailing "-- comment" in the user's query before the closing parenthesis.
    wrapped = f"SELECT * FROM ({statement}\n) AS genesis_source"
    try:
        rel = con.sql(wrapped)
        names, types = rel.columns, [str(t) for t in rel.types]
    except duckdb.Error as exc:
        raise FitError(f"The training query failed: {str(exc).splitlines()[0]}") from exc
    if len(set(n.lower() for n in names)) != len(names):
        raise FitError(f"The training query returns duplicate column names: {names}. Alias them apart.")
    select = []
    for name, sql_type in zip(names, types):
        target = _CASTS.get(base_type(sql_type))
        select.append(f"CAST({_quote(name)} AS {target}) AS {_quote(name)}" if target else _quote(name))
    query = f"SELECT {', '.join(select)} FROM ({wrapped}) AS genesis_typed"
    final_types = {n: (_CASTS.get(base_type(t)) or t) for n, t in zip(names, types)}
    return query, final_types


def _split(query: str, columns: list[str], holdout: float | None, seed: int) -> tuple[str, str | None]:
    """(training query, holdout query): a seeded split by a hash of each row's values."""
    if holdout is None:
        return query, None
    cut = int(round(holdout * 10_000))
    row_hash = f"hash({seed}, {', '.join(_quote(c) for c in columns)}) % 10000"
    return (f"SELECT * FROM ({query}) AS genesis_split WHERE {row_hash} >= {cut}",
            f"SELECT * FROM ({query}) AS genesis_split WHERE {row_hash} < {cut}")


def _check_options(holdout: object, column_types: object) -> float | None:
    if holdout is not None:
        if isinstance(holdout, bool) or not isinstance(holdout, (int, float)) or not 0 < holdout < 1:
            raise InvalidArgumentError(f"holdout must be a fraction between 0 and 1, such as 0.2. Got {holdout!r}.")
        holdout = float(holdout)
    if column_types is not None and not isinstance(column_types, dict):
        raise InvalidArgumentError(f"column_types must map column names to kinds, e.g. {{'zip': 'categorical'}}. "
                                   f"Got {column_types!r}.")
    return holdout


def fit(
    con: duckdb.DuckDBPyConnection,
    name: str,
    source_sql: str,
    *,
    method: str = "auto",
    seed: int = 0,
    column_types: dict[str, str] | None = None,
    holdout: float | None = None,
    sequence_key: str | None = None,
    sequence_index: str | None = None,
    context_columns: list[str] | None = None,
    skip_unchanged: bool = False,
    labels: dict[str, str] | None = None,
    constraints: str | None = None,
    rules: str = "auto",
    progress: Callable[[str], None] | None = None,
    epsilon: float | None = None,
    delta: float | None = None,
    public_bounds: dict[str, list[Any]] | None = None,
    pii_consistent: bool = False,
) -> FitSummary:
    """Fit a synthesizer on the rows of ``source_sql`` and store it as the next version of ``name``.

    Args:
        con: a connection with genesis installed.
        name: model name (``^[a-z_][a-z0-9_]*$`` after lower-casing); fitting it again adds a version.
        source_sql: the training query, run in ``con``.
        method: ``"auto"`` or a method name (``"copula"``, ...).
        seed: randomness of fitting; the same data and seed give the identical model.
        column_types: per-column kind overrides, e.g. ``{"zip": "categorical"}``.
        holdout: fraction of rows kept out of training by a seeded hash split, for privacy metrics.
        sequence_key, sequence_index, context_columns: for sequence models.
        skip_unchanged: when the latest version of ``name`` was trained on exactly these rows (the
            lineage fingerprint of the training rows) with this method (any, for ``"auto"``), return it
            instead of adding a version; scheduled jobs (a ``dbt run``) then refit only on new data.
        labels: column -> a SELECT of (value, label) rows, e.g. ``{"state": "SELECT code, name FROM states"}``.
        constraints: rules every generated row keeps, in the condition grammar
            (``"death >= diag AND total = a + b"``); training rows that break one are a FitError.
        rules: ``"auto"`` detects the relations that hold in every training row (orders, equalities,
            offsets, sums, functions, bounds) and entity keys, and keeps them; ``"off"`` detects none.
        progress: called with a short stage name as fitting advances (the CLI draws a bar from it).
        epsilon, delta, public_bounds: for ``method="dp"`` only: the privacy budget (epsilon 1 and delta 1e-6
            when not given), spent from the budget of every table the query reads, and declared column
            domains (``{"age": [18, 99], "sex": ["female", "male"]}``) that cost no budget. A DP model
            detects no rules and reads nothing from the rows outside its mechanism (genesis_sql.privacy).
        pii_consistent: whether personal columns (PII, found by name and by value shape, always generated as
            Faker fakes) keep their repeats: a PII value constant within an entity key stays constant within
            each generated entity, and a PII column whose values repeat becomes an entity key, one fake per
            generated entity with the training's rows per value. No mapping from real values is kept, so the
            same fake stands for an entity of the generation, not for a given real person.

    Returns:
        A :class:`FitSummary` of the stored version.
    """
    report = progress or (lambda stage: None)
    model_name = validate_model_name(name)
    fit_seed = validate_seed(seed)
    if fit_seed is None:
        raise InvalidArgumentError("seed for fit must be a whole number (0 by default), not NULL.")
    fraction = _check_options(holdout, column_types)
    if not isinstance(skip_unchanged, bool):
        raise InvalidArgumentError(f"skip_unchanged must be true or false. Got {skip_unchanged!r}.")
    detection = check_detection(rules)
    sequence = sequence_key is not None or sequence_index is not None or context_columns is not None
    _check_pii_consistent(pii_consistent, sequence, method)
    if sequence and constraints is not None:
        raise InvalidArgumentError("constraints are not kept by sequence models yet; fit without sequence options "
                                   "or without constraints.")
    dp = _check_privacy_options(method, epsilon, delta, public_bounds, sequence, constraints)
    if dp:
        epsilon, delta = privacy.accounting.check_budget(1.0 if epsilon is None else epsilon, delta)
        detection = check_detection("off")
    report("reading")
    query, sql_types = _source_relation(con, source_sql)
    sources = privacy.sources_of(source_sql) if dp else []
    train_query, holdout_query = _split(query, list(sql_types), fraction, fit_seed)
    if skip_unchanged:
        kept = _unchanged_version(con, model_name, train_query, method)
        if kept is not None:
            log.info("%s@%d was trained on the same rows; kept (skip_unchanged)", kept.name, kept.version)
            return kept
    if dp:
        privacy.check_spend(con, sources, epsilon)
    try:
        table = con.sql(train_query).to_arrow_table()
    except duckdb.Error as exc:
        raise FitError(f"The training query failed: {str(exc).splitlines()[0]}") from exc
    if table.num_rows == 0:
        raise FitError(f"The training query returned no rows{' after the holdout split' if fraction else ''}; "
                       "a model needs at least one row.")
    if table.num_columns == 0:
        raise FitError("The training query returned no columns.")
    report("detecting")
    overrides = {k.lower() for k in column_types or {}}
    if dp:
        columns, personal = privacy.public_schema(sql_types, column_types), privacy.personal_by_name(sql_types,
                                                                                                    column_types)
    else:
        columns, personal = personal_columns(table, detect_schema(table, sql_types, column_types), overrides)
    notes = gather_fit_notes(con, source_sql, columns, labels)
    ruleset, seen = RuleSet(detection=detection), None
    if not sequence and not dp:
        columns, entities = entity_columns(table, columns, detection, overrides, personal=frozenset(personal),
                                           consistent=pii_consistent)
        ruleset = fit_rules(table, columns, detection=detection, constraints=constraints, entities=entities)
        seen = SeenPairs.fit(table, columns)
    candidates = candidate_methods(method, table.num_rows, [c.kind for c in columns], sequence=sequence)
    report("fitting")
    started = time.perf_counter()
    options = {k: v for k, v in {"sequence_key": sequence_key, "sequence_index": sequence_index,
                                 "context_columns": context_columns}.items() if v is not None}
    if dp:
        options = {"epsilon": epsilon, "delta": delta, "public_bounds": public_bounds}
    fitted = [synthesizer_class(m)(random_state=fit_seed, **options).fit(table, columns) for m in candidates]
    if dp:
        columns = fitted[0].columns_
    for model in fitted:
        model.rules_, model.seen_ = ruleset, seen
    synthesizer, similarities = fitted[0], []
    if len(fitted) > 1:
        # Imported here: the quality metrics load only when a fit compares candidates.
        from genesis_sql.quality.selection import choose_best

        synthesizer, similarities = choose_best(fitted, table, columns)
    chosen = synthesizer.method
    fit_seconds = time.perf_counter() - started
    reason = _why_auto_chose(chosen, candidates, similarities, table.num_rows) if method == "auto" else ""
    if reason:
        log.info("%s: %s", model_name, reason)
    report("storing")
    # Fingerprinted on this connection, which sees its TEMP tables and registered DataFrames.
    source_rows = rows_fingerprint(con, source_sql)
    training_rows = rows_fingerprint(con, train_query)
    state, arrays = synthesizer.to_state()
    pii = tuple((c.name, personal[c.name]) for c in columns if c.name in personal)
    if pii:
        state = {**state, "pii": dict(pii)}
        log.info("%s: personal columns made with Faker, never copied: %s", model_name,
                 ", ".join(f"{n} ({s})" for n, s in pii))
    holdout_rows = 0
    holdout_info = None
    if holdout_query is not None:
        holdout_rows = con.sql(f"SELECT count(*) FROM ({holdout_query}) AS h").fetchall()[0][0]
        holdout_info = {"fraction": fraction, "seed": fit_seed, "sql": holdout_query, "rows": holdout_rows,
                        "split": "hash(seed, columns...) % 10000 < fraction * 10000 is held out"}
    record = ModelRecord(
        name=model_name, version=0, method=chosen, columns=[c.to_dict() for c in columns],
        parameters=synthesizer.get_params(), state=state, arrays=arrays, training_rows=table.num_rows,
        source_sql=source_sql, source_fingerprint=training_rows.rows_hash,
        fit_seconds=fit_seconds, holdout=holdout_info,
    )
    spend = (lambda cursor: privacy.record_spend(cursor, model=model_name, version=record.version, sources=sources,
                                                 epsilon=epsilon, delta=delta)) if dp else None
    _store(con, record, source_rows, notes, spend)
    RUNTIME.remember_synthesizer(record.content_hash, synthesizer)
    register_model(con, record.content_hash, columns)
    return FitSummary(model_name, record.version, chosen, tuple((c.name, c.kind) for c in columns),
                      table.num_rows, fit_seconds, holdout_rows, reason, pii)


def _check_pii_consistent(pii_consistent: object, sequence: bool, method: str) -> None:
    """Refuse ``pii_consistent`` that is not a boolean, or that the requested model cannot keep."""
    if not isinstance(pii_consistent, bool):
        raise InvalidArgumentError(f"pii_consistent must be true or false. Got {pii_consistent!r}.")
    if pii_consistent and sequence:
        raise InvalidArgumentError("pii_consistent is for tabular models; a sequence model keeps an entity's "
                                   "personal columns constant when they are among its context_columns.")
    if pii_consistent and method == "dp":
        raise InvalidArgumentError("pii_consistent is not available with method='dp': which rows share a value "
                                   "is read from the rows, outside the DP mechanism.")


def _check_privacy_options(method: str, epsilon: object, delta: object, public_bounds: object, sequence: bool,
                           constraints: str | None) -> bool:
    """Whether this is a DP fit; privacy options without ``method="dp"`` and DP with options it cannot keep
    private are refused."""
    if method != "dp":
        given = [n for n, v in (("epsilon", epsilon), ("delta", delta), ("public_bounds", public_bounds)) if v is not None]
        if given:
            raise InvalidArgumentError(f"{', '.join(given)} apply to method='dp' only (got method={method!r}).")
        return False
    if sequence or constraints is not None:
        raise InvalidArgumentError("method='dp' does not take sequence options or constraints: neither is released "
                                   "under differential privacy yet.")
    return True


def _why_auto_chose(chosen: str, candidates: tuple[str, ...], similarities: list[float], rows: int) -> str:
    """One line saying which method ``auto`` chose and why (the CLI prints it; the log records it)."""
    if len(candidates) > 1:
        compared = ", ".join(f"{m} {s:.4f}" for m, s in zip(candidates, similarities))
        return f"auto chose {chosen}: its sample is closest to the training rows (similarity {compared})"
    if chosen == "sequence":
        return "auto chose sequence: sequence options (sequence_key, sequence_index or context_columns) were given"
    if chosen == "copula":
        return (f"auto chose copula: under {SMALL_TABLE_ROWS} rows ({rows:,}) or fewer than two modelled "
                "columns is too little for the forest")
    return f"auto chose {chosen}: {rows:,} rows is above {SELECTION_ROWS:,}, where the forest is the most faithful"


def _unchanged_version(con: duckdb.DuckDBPyConnection, name: str, train_query: str, method: str) -> FitSummary | None:
    """The latest version of ``name`` when it was fitted on the rows of ``train_query`` by ``method``."""
    rows = con.execute(
        "SELECT version, method, columns, training_rows, fit_seconds, holdout, source_fingerprint, "
        "json_extract(state, '$.pii') FROM genesis.models WHERE name = ? ORDER BY version DESC LIMIT 1",
        [name]).fetchall()
    if not rows:
        return None
    version, stored_method, columns, training_rows, fit_seconds, holdout, fingerprint, pii = rows[0]
    if method not in ("auto", stored_method) or rows_fingerprint(con, train_query).rows_hash != fingerprint:
        return None
    kinds = tuple((c["name"], c["kind"]) for c in json.loads(columns))
    held_out = json.loads(holdout)["rows"] if holdout else 0
    return FitSummary(name, int(version), stored_method, kinds, int(training_rows), float(fit_seconds), int(held_out),
                      pii=tuple(json.loads(pii).items()) if pii else ())


def _condition_argument(condition: str | ConditionSet | None, conditions: str | ConditionSet | None
                        ) -> str | ConditionSet | None:
    """``condition``, or the old keyword ``conditions`` (SQL and Python now share the name ``condition``)."""
    if conditions is None:
        return condition
    if condition is not None:
        raise InvalidArgumentError("Pass the condition once, as condition=...; conditions= is its old name.")
    warnings.warn("conditions= is deprecated; pass condition= (the name genesis_generate uses in SQL)",
                  DeprecationWarning, stacklevel=3)
    return conditions


def _store(con: duckdb.DuckDBPyConnection, record: ModelRecord, source_rows: RowsFingerprint,
           notes: FitNotes, spend: Callable[[duckdb.DuckDBPyConnection], None] | None = None) -> None:
    """Store the model, its source and fit blocks, its column notes and (DP fits) its privacy spend in one
    transaction: a crash in between leaves none of them, and a refused spend stores nothing.

    Inside the caller's open transaction they join it (and commit or roll back with it); otherwise a
    transaction of their own is retried when a concurrent writer took the lineage tip first.
    """
    if in_transaction(con):
        save_model(con, record)
        record_fit(con, record, source_rows)
        notes.store(con, record.name)
        if spend is not None:
            spend(con)
        return
    for attempt in range(STORE_ATTEMPTS):
        try:
            with transaction(con):
                save_model(con, record)
                record_fit(con, record, source_rows)
                notes.store(con, record.name)
                if spend is not None:
                    spend(con)
            return
        except (duckdb.TransactionException, duckdb.ConstraintException) as exc:
            if attempt == STORE_ATTEMPTS - 1:
                raise FitError(f"Could not store {record.name}: {exc}") from exc
            log.debug("storing %s collided with another writer (attempt %d): %s", record.name, attempt + 1, exc)
            time.sleep(random.uniform(0, 0.002 * (attempt + 1)))


def plan(con: duckdb.DuckDBPyConnection, model: str, n: int, *, seed: int | None = None,
         condition: str | ConditionSet | None = None, conditions: str | ConditionSet | None = None
         ) -> GenerationPlan:
    """Validate a request and return its plan (model version, seed, canonical condition)."""
    return plan_generation(con, model, n, seed=seed, condition=_condition_argument(condition, conditions))[0]


def generate(con: duckdb.DuckDBPyConnection, model: str, n: int, *, seed: int | None = None,
             condition: str | ConditionSet | None = None, conditions: str | ConditionSet | None = None
             ) -> pa.Table:
    """``n`` synthetic rows of ``model`` as an Arrow table: the same rows as ``genesis_generate`` in SQL.

    ``condition`` is condition SQL (``"age > 50 AND state = 'CA'"``) or a ConditionSet; every row
    satisfies it (``conditions`` is its deprecated old name). The lineage block joins ``con``'s open
    transaction when there is one.
    """
    generation, synthesizer = plan_generation(con, model, n, seed=seed,
                                              condition=_condition_argument(condition, conditions))
    table = to_table(generate_batches(generation, synthesizer), synthesizer.output_schema)
    record(con, generation, table, destination="python")
    return table


def generate_stream(con: duckdb.DuckDBPyConnection, model: str, n: int, *, seed: int | None = None,
                    condition: str | ConditionSet | None = None, batch_size: int = 65_536,
                    conditions: str | ConditionSet | None = None) -> tuple[GenerationPlan, Iterator[pa.Table]]:
    """The plan and an iterator of Arrow batches, for output too large to hold at once."""
    generation, synthesizer = plan_generation(con, model, n, seed=seed,
                                              condition=_condition_argument(condition, conditions))
    return generation, generate_batches(generation, synthesizer, batch_size=batch_size)


def output_columns(columns: list[ColumnSpec]) -> list[tuple[str, str]]:
    """(name, DuckDB type) of each generated column."""
    return [(c.name, output_type(c.sql_type)) for c in columns]


def parse_options(options: object) -> dict[str, Any]:
    """``genesis_fit``'s JSON ``options`` text as keyword arguments for :func:`fit`."""
    if options is None:
        return {}
    try:
        parsed = json.loads(options) if isinstance(options, str) else options
    except (json.JSONDecodeError, RecursionError) as exc:  # RecursionError: arrays nested thousands deep
        raise InvalidArgumentError(f"options must be JSON text such as '{{\"holdout\": 0.2}}': {exc}") from exc
    allowed = {"column_types", "sequence_key", "sequence_index", "context_columns", "holdout", "skip_unchanged",
               "labels", "constraints", "rules", "epsilon", "delta", "public_bounds", "pii_consistent"}
    if not isinstance(parsed, dict) or set(parsed) - allowed:
        extra = sorted(set(parsed) - allowed) if isinstance(parsed, dict) else parsed
        raise InvalidArgumentError(f"Unknown fit options {extra}; allowed: {', '.join(sorted(allowed))}.")
    return parsed
