"""zCDP accounting: the (epsilon, delta) a user declares as a zCDP budget rho, and the Gaussian noise it buys.

A Gaussian mechanism of L2 sensitivity ``s`` and noise ``sigma`` is ``s^2 / (2 sigma^2)``-zCDP; zCDP budgets
add under composition; ``rho``-zCDP implies ``(rho + 2 sqrt(rho ln(1/delta)), delta)``-DP for every delta
(Bun and Steinke 2016, Proposition 1.3). Inverting that bound gives the largest rho a declared
(epsilon, delta) allows.
"""
from __future__ import annotations

import math

from genesis_sql.errors import InvalidArgumentError

# delta when none is given. Not 1/n^2: the row count is private, so delta must not depend on it.
DEFAULT_DELTA = 1e-6


def check_budget(epsilon: object, delta: object) -> tuple[float, float]:
    """``(epsilon, delta)`` as floats, refused unless epsilon > 0 and 0 < delta < 1 (None: DEFAULT_DELTA)."""
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not 0 < epsilon < math.inf:
        raise InvalidArgumentError(f"epsilon must be a positive finite number, such as 1.0. Got {epsilon!r}.")
    if delta is None:
        delta = DEFAULT_DELTA
    if isinstance(delta, bool) or not isinstance(delta, (int, float)) or not 0 < delta < 1:
        raise InvalidArgumentError(f"delta must be between 0 and 1 (exclusive), such as 1e-6. Got {delta!r}.")
    return float(epsilon), float(delta)


def rho_for(epsilon: float, delta: float) -> float:
    """The largest zCDP rho whose conversion is (epsilon, delta)-DP: rho + 2 sqrt(rho ln(1/delta)) = epsilon."""
    log = math.log(1.0 / delta)
    return (math.sqrt(log + epsilon) - math.sqrt(log)) ** 2


def epsilon_for(rho: float, delta: float) -> float:
    """The epsilon at ``delta`` that ``rho``-zCDP guarantees."""
    return rho + 2.0 * math.sqrt(rho * math.log(1.0 / delta))


def gaussian_sigma(sensitivity: float, rho: float) -> float:
    """The noise scale that makes a Gaussian mechanism of L2 ``sensitivity`` rho-zCDP."""
    return sensitivity / math.sqrt(2.0 * rho)
