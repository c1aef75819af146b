"""How ``method="auto"`` chooses between candidate synthesizers: each is fitted, samples rows, and the one
whose rows look most like the training rows wins.

Neither the forest nor the copula wins everywhere. The forest keeps nonlinear and interaction structure
the copula cannot; on a few hundred rows with many strong linear correlations (statsmodels' star98: 22
correlated columns) its leaves are too few to rebuild them and the copula is far closer. Which one a table
needs is not visible in its size or types, so on tables small enough for both to fit in well under a
second the choice is measured.

The measure is the quality report's fidelity half (genesis_sql.quality, after SDMetrics' report, what
users compare synthesizers by): the mean of the column shapes and of the trends of the pairs related in
the training rows.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from genesis_sql.models.base import BaseSynthesizer
from genesis_sql.schema import ColumnSpec

# Rows sampled from each candidate, and training rows compared with them.
COMPARED_ROWS = 5_000
# The key of the candidates' sample rows: a constant, so that the choice is a function of the fit's seed.
_SELECTION_KEY = 0x5E1EC7


def choose_best(candidates: list[BaseSynthesizer], table: pa.Table, columns: list[ColumnSpec]
                ) -> tuple[BaseSynthesizer, list[float]]:
    """The fitted candidate whose sample is most similar to ``table`` (the first on a tie), and every
    candidate's similarity."""
    rows = min(table.num_rows, COMPARED_ROWS)
    real = table.take(pa.array(np.linspace(0, table.num_rows - 1, rows).astype(np.int64)))
    scores = [similarity(real, model.sample_rows(np.arange(rows), key=_SELECTION_KEY), columns)
              for model in candidates]
    return candidates[int(np.argmax(scores))], scores


def similarity(real: pa.Table, synth: pa.Table, columns: list[ColumnSpec]) -> float:
    """How alike two tables of the same columns are, from 0 to 1: the mean of the column shapes' and the
    related pairs' similarities (identifier and free-text columns are left out; 1 when nothing is left)."""
    # Imported here: the metrics load only when a fit compares candidates, as `import genesis_sql` leaves them.
    from genesis_sql.quality import fidelity
    from genesis_sql.quality._columns import encode_columns

    encoded = encode_columns({"real": real, "synthetic": synth}, [c.to_dict() for c in columns])
    results = fidelity.fidelity_metrics(encoded)
    properties = [score for score in (fidelity.column_shapes_score(results),
                                      fidelity.column_pair_trends_score(results)) if score is not None]
    return float(np.mean(properties)) if properties else 1.0
