"""Aggregators: how one round's statistic vectors become their sum.

:class:`ModelAggregator` adds signed plaintext vectors (every site's statistics visible to it; for
trusted settings and as the baseline the benchmarks compare with). :class:`SecureAggregator` runs the
masking protocol of genesis_sql.federated.secure, so it only ever sees the sum. Both talk to the sites
through an :class:`Exchange`: the in-process simulator's, or the Flower transport's.
"""
from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from genesis_sql.errors import FederatedError
from genesis_sql.federated._wire import unpack_words
from genesis_sql.federated.secure import SecureSumServer, verify_signed


class Exchange(Protocol):
    """Sends one message per site and returns the replies of the sites that answered (a site that does
    not answer has dropped out)."""

    def call(self, phase: str, payloads: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Deliver ``payloads[site]`` to each site as message ``phase``; the replies by site."""


class ModelAggregator:
    """Sums the sites' signed statistic vectors as sent (no masking).

    Args:
        min_sites: fewer answering sites than this stop the training with FederatedError.
    """

    secure = False

    def __init__(self, *, min_sites: int = 2) -> None:
        if isinstance(min_sites, bool) or not isinstance(min_sites, int) or min_sites < 1:
            raise FederatedError(f"min_sites must be a positive whole number. Got {min_sites!r}.")
        self.min_sites = min_sites
        self.refused: list[str] = []

    def max_dropouts_for(self, n_sites: int) -> int:
        """Dropouts tolerated among ``n_sites`` (none without masks to recover)."""
        return 0

    def check_sites(self, sites: list[str], what: str) -> None:
        """FederatedError when fewer than ``min_sites`` take part."""
        if len(sites) < self.min_sites:
            raise FederatedError(f"Only {len(sites)} site(s) {what}; this aggregator needs at least {self.min_sites} "
                                 "(min_sites). Nothing was aggregated.")

    def _accept(self, replies: dict[str, dict[str, Any]], accept) -> list[str]:
        kept = []
        for site, reply in replies.items():
            try:
                accept(reply)
            except FederatedError as exc:
                self.refused.append(f"{site}: {exc}")
                continue
            kept.append(site)
        return kept

    def aggregate(self, exchange: Exchange, round_id: str, payload: dict[str, Any], sites: list[str],
                  verify_keys: dict[str, str], length: int) -> tuple[np.ndarray, list[str]]:
        """The sum of one round's vectors (``length`` words) and the sites it includes."""
        replies = exchange.call("update", {s: {**payload, "round": round_id} for s in sites})
        vectors: dict[str, np.ndarray] = {}

        def accept(reply: dict[str, Any]) -> None:
            site = reply.get("site") if isinstance(reply, dict) else None
            if site not in verify_keys:
                raise FederatedError(f"Refused an update from an unregistered site {site!r}.")
            body = verify_signed(reply, verify_keys[site], "update")
            if body.get("round") != round_id or body.get("length") != length:
                raise FederatedError(f"Refused the update of {site!r}: wrong round or length.")
            vectors[site] = unpack_words(body["vector"], length)

        survivors = self._accept(replies, accept)
        self.check_sites(survivors, f"sent a valid update in round {round_id!r}")
        total = np.zeros(length, dtype=np.uint64)
        for site in survivors:
            total = total + vectors[site]
        return total, sorted(survivors)


class SecureAggregator(ModelAggregator):
    """Secure aggregation: sums of masked, signed updates; survives up to ``max_dropouts`` lost sites.

    Args:
        min_sites: fewer surviving sites than this stop the training with FederatedError.
        max_dropouts: sites that may vanish in a round with the sum still recovered; by default the most
            a majority threshold allows, ``(n_sites - 1) // 2``.
    """

    secure = True

    def __init__(self, *, min_sites: int = 2, max_dropouts: int | None = None) -> None:
        super().__init__(min_sites=min_sites)
        if max_dropouts is not None and (isinstance(max_dropouts, bool) or not isinstance(max_dropouts, int)
                                         or max_dropouts < 0):
            raise FederatedError(f"max_dropouts must be a whole number >= 0 or None. Got {max_dropouts!r}.")
        self.max_dropouts = max_dropouts

    def max_dropouts_for(self, n_sites: int) -> int:
        return (n_sites - 1) // 2 if self.max_dropouts is None else self.max_dropouts

    def aggregate(self, exchange: Exchange, round_id: str, payload: dict[str, Any], sites: list[str],
                  verify_keys: dict[str, str], length: int) -> tuple[np.ndarray, list[str]]:
        server = SecureSumServer(round_id, verify_keys, self.max_dropouts_for(len(sites)))
        adverts = exchange.call("advertise", {s: {"round": round_id} for s in sites})
        directory = {}
        for site, advert in adverts.items():
            try:
                server._check(advert, "key advertisement")
            except FederatedError as exc:
                self.refused.append(f"{site}: {exc}")
                continue
            directory[site] = advert
        server.open(directory)
        self.check_sites(list(server.directory), f"advertised keys in round {round_id!r}")
        messages = exchange.call("share", {s: {"round": round_id, "directory": server.directory,
                                               "verify_keys": {k: verify_keys[k] for k in server.directory},
                                               "threshold": server.threshold} for s in server.directory})
        valid = {}
        for site, message in messages.items():
            try:
                server._check(message, "share message")
            except FederatedError as exc:
                self.refused.append(f"{site}: {exc}")
                continue
            valid[site] = message
        inbox = server.route(valid)
        self.check_sites(server.participants, f"shared their keys in round {round_id!r}")
        updates = exchange.call("update", {s: {**payload, "round": round_id, "participants": server.participants,
                                               "shares": inbox[s]} for s in server.participants})
        survivors = self._accept(updates, lambda reply: server.accept(reply, length))
        survivors = sorted(survivors)
        dropped = sorted(set(server.participants) - set(survivors))
        if len(survivors) < max(self.min_sites, server.threshold):
            raise FederatedError(
                f"Round {round_id!r} lost {len(dropped)} of {len(server.participants)} sites ({', '.join(dropped)}); "
                f"secure aggregation recovers from at most {server.max_dropouts} and needs {self.min_sites} "
                "(min_sites). Nothing was aggregated.")
        reveals = exchange.call("reveal", {s: {"round": round_id, "survivors": survivors, "dropped": dropped}
                                           for s in survivors})
        return server.unmask(reveals), survivors
