"""Record-level differential privacy of the shared statistics (opt-in with ``epsilon=``).

Each noised round releases sums whose L2 sensitivity to one record (added or removed) is fixed by the
round's layout after clipping (genesis_sql.federated.statistics.layout): counts move by 1, score sums by
the row clip ``C``, cross-products by ``C**2``. The Gaussian mechanism with standard deviation
``sigma = sensitivity / sqrt(2 rho)`` is ``rho``-zCDP (Bun & Steinke 2016); rounds compose by adding
their ``rho``; the total converts to (epsilon, delta)-DP by ``epsilon = rho + 2 sqrt(rho ln(1/delta))``.
A session's ``epsilon`` is split evenly over its ``NOISY_ROUNDS`` rounds.

The noise is distributed: each site adds ``N(0, sigma**2 / k)`` to its own statistics, where ``k`` is
the number of sites guaranteed to survive (sites less tolerated dropouts), so the sum the aggregator
unmasks carries at least ``N(0, sigma**2)`` whatever the dropouts, and no site's statistics are ever
seen alone (secure aggregation). Each site spends its epsilon from a ledger in its own DuckDB
(``genesis.privacy_budget``) before any statistic leaves it, and refuses once its limit would be passed.
"""
from __future__ import annotations

import json
import math

import duckdb

from genesis_sql.errors import FederatedError, InvalidArgumentError

NOISY_ROUNDS = 6  # domain, marginals, refinement, two layout rounds, the final score round
DEFAULT_DELTA = 1e-6
MECHANISM = "federated-gaussian-zcdp"


def rho_for(epsilon: float, delta: float) -> float:
    """The zCDP ``rho`` whose (epsilon, delta) conversion is exactly ``epsilon``."""
    log_term = math.log(1.0 / delta)
    return (math.sqrt(log_term + epsilon) - math.sqrt(log_term)) ** 2


def epsilon_for(rho: float, delta: float) -> float:
    """The (epsilon, delta)-DP guarantee of ``rho``-zCDP."""
    return rho + 2.0 * math.sqrt(rho * math.log(1.0 / delta))


def check_privacy(epsilon: object, delta: object) -> tuple[float | None, float]:
    """Validated (epsilon, delta); epsilon None means no DP."""
    if epsilon is None:
        return None, DEFAULT_DELTA
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not 0 < epsilon < math.inf:
        raise InvalidArgumentError(f"epsilon must be a positive number such as 1.0, or None for no DP. "
                                   f"Got {epsilon!r}.")
    delta = DEFAULT_DELTA if delta is None else delta
    if isinstance(delta, bool) or not isinstance(delta, (int, float)) or not 0 < delta < 1:
        raise InvalidArgumentError(f"delta must be a probability in (0, 1), such as 1e-6. Got {delta!r}.")
    return float(epsilon), float(delta)


def site_sigma(sensitivity: float, epsilon: float, delta: float, guaranteed_sites: int) -> float:
    """Standard deviation of the noise one site adds in one round (its share of the round's sigma)."""
    rho_round = rho_for(epsilon, delta) / NOISY_ROUNDS
    return sensitivity / math.sqrt(2.0 * rho_round) / math.sqrt(max(guaranteed_sites, 1))


def spent(con: duckdb.DuckDBPyConnection) -> float:
    """Epsilon this site has spent on federated training so far."""
    return float(con.execute("SELECT coalesce(sum(epsilon), 0) FROM genesis.privacy_budget WHERE mechanism = ?",
                             [MECHANISM]).fetchall()[0][0])


def spend(con: duckdb.DuckDBPyConnection, *, site: str, model: str, epsilon: float, delta: float, limit: float,
          session: str, source: str) -> None:
    """Record a session's spend in the site's ledger, or refuse it when it would pass ``limit``."""
    con.execute("BEGIN TRANSACTION")
    try:
        used = spent(con)
        if used + epsilon > limit + 1e-12:
            raise FederatedError(
                f"Site {site!r} refuses to take part: its privacy budget is {limit:g}, {used:g} is spent and this "
                f"training asks for epsilon={epsilon:g}. Raise the site's privacy_budget or ask for less.")
        note = json.dumps({"site": site, "session": session, "source": source,
                           "rho": rho_for(epsilon, delta), "rounds": NOISY_ROUNDS})
        con.execute("INSERT INTO genesis.privacy_budget (model, version, mechanism, epsilon, delta, note) "
                    "VALUES (?, NULL, ?, ?, ?, ?)", [model, MECHANISM, epsilon, delta, note])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
