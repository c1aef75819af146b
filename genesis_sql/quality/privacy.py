"""Privacy: how close synthetic rows come to the rows the model was trained on.

- ``exact_copy_rate``: the share of rows equal, in every column (NULL equal to NULL), to a training row.
- ``dcr``: distance to the closest training record (:mod:`genesis_sql.quality.distance`), median.
- ``copied_value_rate``: per identifier or free-text column, the share of synthetic values that are
  training values (genesis never copies them: DESIGN.md "Privacy defaults").
- ``nndr``: nearest-neighbour distance ratio, closest over second-closest training record, median;
  near 0 means a synthetic row sits on one particular training row.
- with a holdout (real rows the model never saw): the same copy rate and DCR for the holdout rows as
  the baseline a fresh sample from the real population gets; SDMetrics' ``DCROverfittingProtection``
  (synthetic rows closer to training than to holdout rows should be about half); and a distance-based
  membership-inference attack, whose ROC AUC is 0.5 when membership cannot be told.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.metrics import roc_auc_score

from genesis_sql.quality._columns import EncodedColumn
from genesis_sql.quality.distance import column_ranges, nearest
from genesis_sql.quality.results import PRIVACY, MetricResult


NO_HOLDOUT = ("no holdout: pass holdout_sql, or fit the model with holdout=... so that a seeded split is kept "
              "out of training")
NO_COLUMNS = "no numeric, datetime, categorical or boolean column to measure distances on"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def exact_copy_rate(rows: pa.Table, reference: pa.Table) -> float:
    """The share of ``rows`` equal in every column of ``reference`` to some reference row.

    Compared in an in-memory DuckDB with ``IS NOT DISTINCT FROM`` (a hash semi-join), so two NULLs are
    equal and every reference row is checked, however many there are.

    Example:
        >>> exact_copy_rate(pa.table({"a": [1, 2, None]}), pa.table({"a": [2, None]}))
        0.6666666666666666
    """
    if rows.num_rows == 0:
        return float("nan")
    names = reference.column_names
    on = " AND ".join(f"r.{_quote(n)} IS NOT DISTINCT FROM f.{_quote(n)}" for n in names)
    con = duckdb.connect()
    try:
        con.register("genesis_rows", rows.select(names))
        con.register("genesis_reference", reference)
        copies = con.execute(
            f"SELECT count(*) FROM genesis_rows r SEMI JOIN genesis_reference f ON {on}"
        ).fetchall()[0][0]
    finally:
        con.close()
    return copies / rows.num_rows


def nndr(nearest_two: np.ndarray) -> np.ndarray:
    """Closest over second-closest distance per row, from a (rows, 2) array; 0 where both are 0.

    Example:
        >>> nndr(np.array([[0.1, 0.2], [0.0, 0.0]])).tolist()
        [0.5, 0.0]
    """
    closest, second = nearest_two[:, 0], nearest_two[:, -1]
    return np.divide(closest, second, out=np.zeros_like(closest), where=second > 0)


def overfitting_protection(to_train: np.ndarray, to_holdout: np.ndarray) -> tuple[float, float]:
    """SDMetrics' ``DCROverfittingProtection`` from each synthetic row's DCR to train and to holdout rows.

    The two references must have the same number of rows, so that a model that learned the population
    and not the training rows puts half of its rows closer to each.

    Returns:
        ``(score, share closer to train)`` with ``score = min(2 * (1 - share), 1)``.

    Example:
        >>> overfitting_protection(np.array([0.1, 0.5]), np.array([0.2, 0.4]))
        (1.0, 0.5)
    """
    closer = float(np.mean(to_train < to_holdout))
    return min(2.0 * (1.0 - closer), 1.0), closer


def membership_inference_auc(members: np.ndarray, non_members: np.ndarray) -> float:
    """ROC AUC of an attacker who calls a real row a training member when it is close to synthetic rows.

    Args:
        members: Each training row's distance to its closest synthetic row.
        non_members: Each holdout row's distance to its closest synthetic row.

    Returns:
        The attack's AUC: 0.5 is chance (no membership leak), 1.0 a perfect attack.

    Example:
        >>> membership_inference_auc(np.array([0.0, 0.1]), np.array([0.5, 0.6]))
        1.0
    """
    labels = np.concatenate([np.ones(members.size), np.zeros(non_members.size)])
    return float(roc_auc_score(labels, -np.concatenate([members, non_members])))


def copied_value_rate(values: pa.ChunkedArray, reference: pa.ChunkedArray) -> float:
    """The share of non-NULL ``values`` that also occur in ``reference`` (identifiers, free text).

    Example:
        >>> copied_value_rate(pa.chunked_array([["a", "b", None, "z"]]), pa.chunked_array([["a", "c"]]))
        0.3333333333333333
    """
    present = values.drop_null()
    if len(present) == 0:
        return float("nan")
    if present.type != reference.type:
        present, reference = present.cast(pa.string()), reference.cast(pa.string())
    return pc.sum(pc.is_in(present, value_set=reference.unique())).as_py() / len(present)


def _median(values: np.ndarray) -> float:
    return float(np.median(values)) if values.size else float("nan")


def privacy_metrics(columns: Sequence[EncodedColumn], *, synthetic: pa.Table, train: pa.Table,
                    holdout: pa.Table | None, rows: Mapping[str, np.ndarray],
                    identifiers: Sequence[str] = ()) -> list[MetricResult]:
    """Every privacy metric; the holdout-based ones unavailable (with the reason) when there is no holdout.

    Args:
        columns: Encoded columns with ``"synthetic"``, ``"train"`` and (with a holdout) ``"holdout"`` sides.
        synthetic: The synthetic rows checked for exact copies.
        train: Every training row (the exact-copy reference).
        holdout: The holdout rows checked for exact copies, or None.
        rows: Per side, the row indices of the encoded columns used for the distance metrics.
        identifiers: Identifier and free-text columns, whose values must never be copied: each gets a
            ``copied_value_rate``.

    Returns:
        The privacy :class:`MetricResult` rows.
    """
    copies = exact_copy_rate(synthetic, train)
    results = [MetricResult.of(PRIVACY, "exact_copy_rate", copies, reason="no synthetic rows",
                               detail={"rows": synthetic.num_rows, "reference_rows": train.num_rows})]
    holdout_copies = exact_copy_rate(holdout, train) if holdout is not None else float("nan")
    results.append(MetricResult.of(PRIVACY, "holdout_copy_rate", holdout_copies, reason=NO_HOLDOUT))
    for name in identifiers:
        rate = copied_value_rate(synthetic.column(name), train.column(name))
        results.append(MetricResult.of(PRIVACY, "copied_value_rate", rate, column_1=name,
                                       reason=f"column {name!r} is NULL in every synthetic row"))
    train_ref, synthetic_ref = ("train", rows["train"]), ("synthetic", rows["synthetic"])
    ranges = column_ranges(columns, train_ref)
    if columns:
        to_train = nearest(columns, ranges, synthetic_ref, train_ref, k=2)
        dcr_synthetic, ratios = to_train.a_to_b[:, 0], nndr(to_train.a_to_b)
    else:
        dcr_synthetic = ratios = np.array([])
    results.append(MetricResult.of(PRIVACY, "dcr_synthetic_median", _median(dcr_synthetic), reason=NO_COLUMNS,
                                   detail={"rows": int(dcr_synthetic.size), "reference_rows": int(rows["train"].size)}))
    results.append(MetricResult.of(PRIVACY, "nndr_median", _median(ratios), reason=NO_COLUMNS))
    if holdout is None or not columns:
        reason = NO_HOLDOUT if holdout is None else NO_COLUMNS
        for name in ("dcr_holdout_median", "dcr_ratio", "dcr_overfitting_protection", "membership_inference_auc"):
            results.append(MetricResult.of(PRIVACY, name, float("nan"), reason=reason))
        return results
    median_holdout = _median(nearest(columns, ranges, ("holdout", rows["holdout"]), train_ref).a_to_b[:, 0])
    ratio = _median(dcr_synthetic) / median_holdout if median_holdout > 0 else float("nan")
    results.append(MetricResult.of(PRIVACY, "dcr_holdout_median", median_holdout, reason="no holdout rows"))
    results.append(MetricResult.of(PRIVACY, "dcr_ratio", ratio,
                                   reason="holdout rows are at distance 0 from training rows (duplicates)"))
    # Equal-sized references: as many training rows as holdout rows, so that chance is one half.
    size = min(rows["train"].size, rows["holdout"].size)
    members = ("train", rows["train"][:size])
    to_members = to_train if size == rows["train"].size else nearest(columns, ranges, synthetic_ref, members)
    to_non_members = nearest(columns, ranges, synthetic_ref, ("holdout", rows["holdout"][:size]))
    protection, closer = overfitting_protection(to_members.a_to_b[:, 0], to_non_members.a_to_b[:, 0])
    results.append(MetricResult.of(PRIVACY, "dcr_overfitting_protection", protection, reason="no holdout rows",
                                   detail={"closer_to_training": closer}))
    attack = membership_inference_auc(to_members.b_to_a, to_non_members.b_to_a)
    results.append(MetricResult.of(PRIVACY, "membership_inference_auc", attack, reason="no holdout rows",
                                   detail={"members": size, "non_members": size}))
    return results
