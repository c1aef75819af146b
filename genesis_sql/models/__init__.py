"""Synthesizers, one method per module, looked up by the ``method`` name users pass to ``fit``."""
from __future__ import annotations

from genesis_sql.errors import InvalidArgumentError
from genesis_sql.models.arf import AdversarialRandomForest
from genesis_sql.models.base import BaseSynthesizer, NotFittedError, check_is_fitted
from genesis_sql.models.copula import GaussianCopula

METHODS: dict[str, type[BaseSynthesizer]] = {
    GaussianCopula.method: GaussianCopula,
    AdversarialRandomForest.method: AdversarialRandomForest,
}


def choose_method(method: str, n_rows: int, kinds: list[str]) -> str:
    """The concrete method for a requested one; ``auto`` picks by data size and column kinds."""
    if method == "auto":
        return GaussianCopula.method
    if method not in METHODS:
        raise InvalidArgumentError(
            f"Unknown method {method!r}; use 'auto' or one of {', '.join(sorted(METHODS))}."
        )
    return method


def synthesizer_class(method: str) -> type[BaseSynthesizer]:
    """The class implementing a stored method name."""
    try:
        return METHODS[method]
    except KeyError as exc:
        raise InvalidArgumentError(
            f"This installation cannot load method {method!r} (known: {', '.join(sorted(METHODS))}); "
            "install the extra that provides it."
        ) from exc


__all__ = ["BaseSynthesizer", "GaussianCopula", "METHODS", "NotFittedError", "check_is_fitted", "choose_method",
           "synthesizer_class"]
