"""Seeded sample sizes that bound the cost of an evaluation, whatever the table sizes.

Every table of an evaluation is first reduced to :data:`SAMPLE_ROWS` rows drawn without replacement
by a seeded permutation; the model-based metrics use the first rows of those samples:

======================  ==========  ==================================================================
constant                rows/side   used for
======================  ==========  ==================================================================
``SAMPLE_ROWS``         50,000      column shapes, pair trends, coverage, missing values (SDMetrics
                                    subsamples its pair metrics to the same 50,000 rows)
``MODEL_ROWS``          10,000      detection classifier, PCA fit, utility models
``PRIVACY_ROWS``        5,000       nearest-neighbour distances (DCR, NNDR, membership inference);
                                    the synthetic rows and the real rows the attacks use
``PROJECTION_POINTS``   500         points of the PCA scatter plot that are stored
======================  ==========  ==================================================================

The attack-based risks (:mod:`genesis_sql.quality.risks`) are capped in attacks rather than rows:

=========================  ==========  ===============================================================
constant                   default     caps
=========================  ==========  ===============================================================
``ATTACKS``                500         attacks on the training rows, on the holdout rows and of the
                                       random baseline, per attack (Anonymeter's default; a 95%
                                       interval of about +-0.04 at a 10% success rate)
``SINGLING_OUT_ATTEMPTS``  10,000      synthetic rows tried for multivariate singling-out queries
                                       (Anonymeter: 10,000,000)
``INFERENCE_SECRETS``      10          columns attacked as the secret of the inference attack
=========================  ==========  ===============================================================

The exact-copy rate is the exception: sampled synthetic (and holdout) rows are checked against every
training row. With the default sizes, the KS and TV complements carry a sampling error of about 0.005.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

SAMPLE_ROWS = 50_000
MODEL_ROWS = 10_000
PRIVACY_ROWS = 5_000
PROJECTION_POINTS = 500
ATTACKS = 500
SINGLING_OUT_ATTEMPTS = 10_000
INFERENCE_SECRETS = 10


def sample_table(table: pa.Table, size: int, rng: np.random.Generator) -> pa.Table:
    """At most ``size`` rows of ``table`` in a seeded random order (all of them, shuffled, when fewer).

    Example:
        >>> sample_table(pa.table({"a": range(10)}), 3, np.random.default_rng(0)).num_rows
        3
    """
    order = rng.permutation(table.num_rows)[:size]
    return table.take(pa.array(order, type=pa.int64()))
