"""``evaluate(con, model, real_sql, ...)``: generate, evaluate and store one quality run from SQL."""
from __future__ import annotations

import dataclasses
from typing import Any

import duckdb
import pyarrow as pa

from genesis_sql.generation import generate_batches, plan_generation, to_table
from genesis_sql.catalog import load_model
from genesis_sql.errors import EvaluationError, InvalidArgumentError
from genesis_sql.lineage.record import record_quality
from genesis_sql.quality.evaluator import QualityEvaluator, check_columns, check_target
from genesis_sql.quality.results import QualityReport
from genesis_sql.quality.sampling import SAMPLE_ROWS
from genesis_sql.quality.store import save_run
from genesis_sql.sql.statements import validate_query

# The seed of the synthetic rows, samples and metric models of every run: recorded with the run, so
# re-evaluating the same model version on the same rows gives the same figures.
EVALUATION_SEED = 0
# The scores a run's lineage block carries; its verdict is the privacy-defaults check.
LINEAGE_SCORES = ("column_shapes", "column_pair_trends", "detection", "utility", "exact_copy_rate", "dcr_ratio",
                  "membership_inference_auc")
# More synthetic rows than this would not fit comfortably in memory; the metrics sample anyway.
MAX_SYNTHETIC_ROWS = 10_000_000


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _query(con: duckdb.DuckDBPyConnection, sql: Any, what: str) -> pa.Table:
    # Validated on every run: a stored query re-run by the dashboard is checked again.
    statement = validate_query(sql, what=what, error=EvaluationError)
    try:
        return con.sql(f"SELECT * FROM ({statement}\n) AS genesis_rows").to_arrow_table()
    except duckdb.Error as exc:
        raise EvaluationError(f"The {what} failed: {str(exc).splitlines()[0]}") from exc


def _check_n(n: Any, real_rows: int) -> int:
    if n is None:
        return max(1, min(real_rows, SAMPLE_ROWS))
    text = str(n).strip()
    if isinstance(n, bool) or not text.lstrip("+").isdigit() or not 1 <= int(text) <= MAX_SYNTHETIC_ROWS:
        raise InvalidArgumentError(
            f"n must be a whole number of synthetic rows between 1 and {MAX_SYNTHETIC_ROWS:,}, or NULL for "
            f"min(real rows, {SAMPLE_ROWS:,}). Got n={n!r}."
        )
    return int(text)


def _training_rows(con: duckdb.DuckDBPyConnection, real_sql: str, holdout_sql: str,
                   names: list[str]) -> pa.Table:
    """The real rows that are not holdout rows (as a multiset), the stand-in for the training rows.

    Sorted, because EXCEPT ALL returns its rows in an order that changes from run to run, and the seeded
    samples of the metrics must draw the same rows each time.
    """
    columns = ", ".join(_quote(n) for n in names)
    real = validate_query(real_sql, what="real query", error=EvaluationError)
    holdout = validate_query(holdout_sql, what="holdout query", error=EvaluationError)
    query = (f"(SELECT {columns} FROM ({real}\n) AS genesis_real EXCEPT ALL "
             f"SELECT {columns} FROM ({holdout}\n) AS genesis_holdout) ORDER BY ALL")
    try:
        return con.sql(query).to_arrow_table()
    except duckdb.Error as exc:
        raise EvaluationError(f"Cannot set the holdout rows apart from the real rows: {str(exc).splitlines()[0]}. "
                              "The holdout query must return the model's columns with compatible types.") from exc


def evaluate(con: duckdb.DuckDBPyConnection, model: str, real_sql: str, *, n: int | None = None,
             target: str | None = None, holdout_sql: str | None = None,
             seed: int = EVALUATION_SEED) -> QualityReport:
    """Generate synthetic rows of ``model``, evaluate them against ``real_sql`` and store the run.

    Args:
        con: A connection with genesis installed.
        model: ``'name'`` (latest version) or ``'name@N'``.
        real_sql: The real rows to compare with, usually the model's training query.
        n: How many synthetic rows to generate; None for min(real rows, ``SAMPLE_ROWS``).
        target: A column to predict for the utility figure; None for none.
        holdout_sql: Real rows the model never saw; None to use the split recorded by
            ``fit(..., holdout=...)``, if any. Without either, the holdout-based privacy metrics are
            stored as unavailable. Real rows that are also holdout rows do not count as training rows.
        seed: Seeds generation, sampling and the metrics' models; recorded with the run.

    Returns:
        The stored :class:`QualityReport`, with its ``run_id``.

    Raises:
        ModelNotFoundError: ``model`` is not in the catalog.
        EvaluationError: a query fails, returns no rows or columns other than the model's, or the
            target is unusable. Nothing is stored then.

    Example:
        >>> report = evaluate(con, "customers", "SELECT * FROM raw_customers", target="age")  # doctest: +SKIP
        >>> report.overall, report.run_id  # doctest: +SKIP
        (0.91, '3f2a...')
    """
    record = load_model(con, model)
    columns = record.columns
    names = [c["name"] for c in columns]
    if target is not None and not isinstance(target, str):
        raise InvalidArgumentError(f"target must be a column name such as {names[0]!r}. Got {target!r}.")
    real = _query(con, real_sql, "real query")
    check_columns(real, columns, "the real query")
    if real.num_rows == 0:
        raise EvaluationError("The real query returned no rows; an evaluation needs real rows to compare with.")
    if target is not None:
        check_target(target, columns, real)
    if holdout_sql is None and record.holdout is not None:
        holdout_sql = record.holdout["sql"]
    holdout = train = None
    if holdout_sql is not None:
        holdout = _query(con, holdout_sql, "holdout query")
        check_columns(holdout, columns, "the holdout query")
        if holdout.num_rows == 0:
            raise EvaluationError("The holdout query returned no rows; pass real rows the model never saw, "
                                  "or leave holdout_sql out.")
        train = _training_rows(con, real_sql, holdout_sql, names)
        if train.num_rows == 0:
            raise EvaluationError("Every real row is also a holdout row, so no training rows are left to compare "
                                  "with. Pass the training rows as the real query.")
    # Rows generated for an evaluation are not handed out, so they leave no generation lineage; the
    # run row records model version, n and seed, which re-create them.
    plan, synthesizer = plan_generation(con, record.ref, _check_n(n, real.num_rows), seed=seed)
    synthetic = to_table(generate_batches(plan, synthesizer), synthesizer.output_schema)
    report = QualityEvaluator(columns, target=target, seed=seed).evaluate(
        real, synthetic.select(names), holdout=holdout, train=train)
    report = dataclasses.replace(report, model=record.name, model_version=record.version, real_sql=real_sql,
                                 holdout_sql=holdout_sql)
    report = save_run(con, report)
    headline = {k: report.scores[k] for k in LINEAGE_SCORES}
    record_quality(con, run_id=report.run_id, model=record.name, version=record.version,
                   metrics={"overall": report.overall, **headline}, passed=report.scores["privacy_passed"])
    return report
