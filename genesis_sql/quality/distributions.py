"""Real and synthetic distributions of one column, as small JSON-ready summaries for the figures.

A continuous column becomes a shared-edge histogram (shares of non-NULL rows per bin) over the
0.5th-99.5th percentile range of both sides, the tails folded into the end bins so that one outlier
does not flatten the plot; a discrete column the shares of its most frequent real categories, the rest
summed as ``(other)``. Datetime edges are ISO strings.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from genesis_sql.quality._columns import EncodedColumn

HISTOGRAM_BINS = 30
TOP_CATEGORIES = 20
OTHER = "(other)"
NULL = "(NULL)"


def _shares(counts: np.ndarray) -> list[float]:
    total = counts.sum()
    return [round(float(c / total), 6) if total else 0.0 for c in counts]


def _edges_as_json(edges: np.ndarray, unit: str | None) -> list[Any]:
    if unit is None:
        return [float(e) for e in edges]
    return [str(np.datetime64(int(round(e)), unit).astype("datetime64[s]")) for e in edges]


def histogram(column: EncodedColumn) -> dict[str, Any]:
    """The histogram summary of a continuous column (``kind``, ``edges``, ``real``, ``synthetic``)."""
    real, synthetic = column.non_null("real"), column.non_null("synthetic")
    both = np.concatenate([real, synthetic])
    if both.size == 0:
        return {"kind": "histogram", "edges": [], "real": [], "synthetic": []}
    low, high = np.percentile(both, [0.5, 99.5])
    if high <= low:
        low, high = both.min() - 0.5, both.max() + 0.5
    edges = np.linspace(low, high, HISTOGRAM_BINS + 1)
    counts = [np.histogram(np.clip(v, low, high), bins=edges)[0] for v in (real, synthetic)]
    return {"kind": "histogram", "edges": _edges_as_json(edges, column.unit),
            "real": _shares(counts[0]), "synthetic": _shares(counts[1])}


def frequencies(column: EncodedColumn) -> dict[str, Any]:
    """The category-share summary of a discrete column (``kind``, ``labels``, ``real``, ``synthetic``)."""
    size = len(column.labels) + 1
    real = np.bincount(column["real"] + 1, minlength=size)
    synthetic = np.bincount(column["synthetic"] + 1, minlength=size)
    order = [i for i in np.argsort(-real, kind="stable") if real[i] > 0][:TOP_CATEGORIES]
    rest = np.ones(size, dtype=bool)
    rest[order] = False
    labels = [NULL if i == 0 else str(column.labels[i - 1]) for i in order]
    real_counts, synthetic_counts = list(real[order]), list(synthetic[order])
    if rest.any() and (real[rest].sum() or synthetic[rest].sum()):
        labels.append(OTHER)
        real_counts.append(real[rest].sum())
        synthetic_counts.append(synthetic[rest].sum())
    return {"kind": "bar", "labels": labels,
            "real": _shares(np.array(real_counts)), "synthetic": _shares(np.array(synthetic_counts))}


def distribution(column: EncodedColumn) -> dict[str, Any]:
    """The summary that fits the column: :func:`histogram` or :func:`frequencies`."""
    return histogram(column) if column.is_continuous else frequencies(column)
