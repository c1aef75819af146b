"""Synthesizers, one method per module, looked up by the ``method`` name users pass to ``fit``.

``method="auto"`` picks by the data (:func:`choose_method`): ``sequence`` when a sequence key is given,
the Gaussian copula for very small tables or tables with fewer than two modelled columns, and the
adversarial random forest otherwise; on tables up to ``SELECTION_ROWS`` rows the forest and the copula
are both fitted and the one whose sample is closer to the training rows is kept
(:func:`candidate_methods`, genesis_sql.quality.selection). The neural ``tvae`` is never picked
automatically: on a CPU it costs minutes where the forest costs seconds, for similar fidelity.
"""
from __future__ import annotations

from genesis_sql.errors import InvalidArgumentError
from genesis_sql.models.arf import AdversarialRandomForest
from genesis_sql.models.base import BaseSynthesizer, NotFittedError, check_is_fitted
from genesis_sql.models._pii import personal_columns
from genesis_sql.models.copula import GaussianCopula
from genesis_sql.models.sequence import SequenceSynthesizer
from genesis_sql.models.tvae import TVAE

METHODS: dict[str, type[BaseSynthesizer]] = {
    GaussianCopula.method: GaussianCopula,
    AdversarialRandomForest.method: AdversarialRandomForest,
    TVAE.method: TVAE,
    SequenceSynthesizer.method: SequenceSynthesizer,
}
# Below this many training rows a forest's leaves are too few and too small to beat the copula's
# smoothing: on 100-row samples of MedExp and Benefits the copula scored higher on fresh real rows,
# on 300-row samples the forest did.
SMALL_TABLE_ROWS = 200
# Up to this many rows ``auto`` fits the forest and the copula both (together well under a second here)
# and keeps the closer; neither wins everywhere: the forest loses on a few hundred rows with many strong
# linear correlations. Larger tables take the forest alone, whose edge grows with the rows it learns from.
SELECTION_ROWS = 20_000
# Column kinds that take part in the dependence model (ids are made fresh, so they carry none).
_MODELLED_KINDS = frozenset({"numeric", "integer", "datetime", "categorical", "boolean", "text"})


def choose_method(method: str, n_rows: int, kinds: list[str], *, sequence: bool = False) -> str:
    """The concrete method for a requested one; ``auto`` picks by data size and column kinds.

    Args:
        method: ``"auto"`` or a method name.
        n_rows: training rows.
        kinds: the kind of every column.
        sequence: whether sequence options (``sequence_key`` ...) were given.
    """
    if method == "auto":
        if sequence:
            return SequenceSynthesizer.method
        if n_rows < SMALL_TABLE_ROWS or sum(k in _MODELLED_KINDS for k in kinds) < 2:
            return GaussianCopula.method
        return AdversarialRandomForest.method
    if method not in METHODS:
        raise InvalidArgumentError(
            f"Unknown method {method!r}; use 'auto' or one of {', '.join(sorted(METHODS))}."
        )
    if sequence and method != SequenceSynthesizer.method:
        raise InvalidArgumentError(
            f"sequence_key, sequence_index and context_columns are options of method='sequence' "
            f"(or 'auto'), not of method={method!r}."
        )
    return method


def candidate_methods(method: str, n_rows: int, kinds: list[str], *, sequence: bool = False) -> tuple[str, ...]:
    """The methods to fit for a request: :func:`choose_method`'s, and with it the copula when ``auto``
    chose the forest for a table of at most ``SELECTION_ROWS`` rows (the closer sample is kept)."""
    chosen = choose_method(method, n_rows, kinds, sequence=sequence)
    if method == "auto" and chosen == AdversarialRandomForest.method and n_rows <= SELECTION_ROWS:
        return chosen, GaussianCopula.method
    return (chosen,)


def synthesizer_class(method: str) -> type[BaseSynthesizer]:
    """The class implementing a stored method name."""
    try:
        return METHODS[method]
    except KeyError as exc:
        raise InvalidArgumentError(
            f"This installation cannot load method {method!r} (known: {', '.join(sorted(METHODS))}); "
            "install the extra that provides it."
        ) from exc


__all__ = ["AdversarialRandomForest", "BaseSynthesizer", "GaussianCopula", "METHODS", "NotFittedError",
           "SequenceSynthesizer", "TVAE", "candidate_methods", "check_is_fitted", "choose_method",
           "personal_columns", "synthesizer_class"]
