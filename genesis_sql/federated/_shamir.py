"""Shamir secret sharing of 32-byte secrets over the prime field of the Mersenne prime 2**521 - 1.

``split`` gives each participant (numbered from 1) a point of a random polynomial of degree
``threshold - 1`` whose constant term is the secret; any ``threshold`` points give it back by Lagrange
interpolation at zero, fewer give nothing about it.
"""
from __future__ import annotations

import secrets

from genesis_sql.errors import FederatedError

PRIME = 2**521 - 1


def split(secret: bytes, threshold: int, holders: list[int]) -> dict[int, int]:
    """Shares of ``secret`` for the participants ``holders`` (distinct positive integers)."""
    if not 1 <= threshold <= len(holders):
        raise FederatedError(f"A threshold of {threshold} shares is impossible among {len(holders)} holders.")
    coefficients = [int.from_bytes(secret, "big")] + [secrets.randbelow(PRIME) for _ in range(threshold - 1)]
    shares = {}
    for x in holders:
        y = 0
        for c in reversed(coefficients):
            y = (y * x + c) % PRIME
        shares[x] = y
    return shares


def combine(shares: dict[int, int], length: int = 32) -> bytes:
    """The secret (``length`` bytes) from shares ``{x: y}``; the caller ensures there are enough."""
    secret = 0
    for x, y in shares.items():
        numerator, denominator = 1, 1
        for other in shares:
            if other != x:
                numerator = numerator * (-other) % PRIME
                denominator = denominator * (x - other) % PRIME
        secret = (secret + y * numerator * pow(denominator, -1, PRIME)) % PRIME
    if secret >= 256**length:
        raise FederatedError("Shares of a mask secret do not combine to a valid secret (inconsistent shares).")
    return secret.to_bytes(length, "big")
