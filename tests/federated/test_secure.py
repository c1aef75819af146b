"""Secure aggregation: exact sums of fixed-point statistics, dropouts, refused updates, what the aggregator sees."""
from __future__ import annotations

import base64

import numpy as np
import pytest

from genesis_sql.errors import FederatedError
from genesis_sql.federated._ring import decode, encode
from genesis_sql.federated.secure import SecureSumClient, SecureSumServer

ROUND = "session/1"


def _setup(n_sites: int, max_dropouts: int):
    clients = {f"site_{k}": SecureSumClient(f"site_{k}") for k in range(n_sites)}
    keys = {name: c.verify_key for name, c in clients.items()}
    server = SecureSumServer(ROUND, keys, max_dropouts)
    directory = server.open({name: c.advertise(ROUND) for name, c in clients.items()})
    inbox = server.route({name: c.share(ROUND, directory, keys, server.threshold) for name, c in clients.items()})
    return clients, server, inbox


def _run(n_sites: int, max_dropouts: int, dropped: set[str], vectors: dict[str, np.ndarray]) -> np.ndarray:
    clients, server, inbox = _setup(n_sites, max_dropouts)
    for name, client in clients.items():
        if name not in dropped:
            server.accept(client.masked_update(ROUND, vectors[name], server.participants, inbox[name]), 16)
    survivors = sorted(server.updates)
    gone = sorted(set(server.participants) - set(survivors))
    return server.unmask({name: clients[name].reveal(ROUND, survivors, gone) for name in survivors})


def _vectors(n_sites: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    # Values whose encodings use all bits down to the last fraction bit, of both signs.
    return {f"site_{k}": encode(rng.normal(0, 1e6, 16), 24) for k in range(n_sites)}


def test_secure_sum_is_exact_to_the_last_bit():
    vectors = _vectors(5)
    total = _run(5, 2, set(), vectors)
    expected = np.zeros(16, dtype=np.uint64)
    for v in vectors.values():
        expected = expected + v
    assert np.array_equal(total, expected)
    assert np.allclose(decode(total, 24), sum(decode(v, 24) for v in vectors.values()))


def test_up_to_the_tolerated_dropouts_the_sum_of_the_survivors_is_recovered():
    vectors = _vectors(5)
    total = _run(5, 2, {"site_1", "site_3"}, vectors)
    expected = vectors["site_0"] + vectors["site_2"] + vectors["site_4"]
    assert np.array_equal(total, expected)


def test_one_dropout_more_than_tolerated_fails_loudly():
    with pytest.raises(FederatedError, match="cannot be unmasked"):
        _run(5, 2, {"site_0", "site_1", "site_3"}, _vectors(5))


def test_a_tampered_update_is_refused():
    clients, server, inbox = _setup(3, 1)
    update = clients["site_0"].masked_update(ROUND, _vectors(3)["site_0"], server.participants, inbox["site_0"])
    words = np.frombuffer(base64.b64decode(update["vector"]), dtype="<u8").copy()
    words[0] ^= np.uint64(1)
    tampered = {**update, "vector": base64.b64encode(words.tobytes()).decode()}
    with pytest.raises(FederatedError, match="signature does not verify"):
        server.accept(tampered, 16)
    assert server.updates == {}


def test_an_unsigned_update_or_one_from_an_unknown_site_is_refused():
    clients, server, inbox = _setup(3, 1)
    update = clients["site_0"].masked_update(ROUND, _vectors(3)["site_0"], server.participants, inbox["site_0"])
    with pytest.raises(FederatedError, match="unsigned"):
        server.accept({k: v for k, v in update.items() if k != "signature"}, 16)
    stranger = SecureSumClient("site_0")  # same name, another key: an impostor
    stranger.advertise(ROUND)
    forged = {**update, "signature": stranger.signing_key.sign(b"x").signature.hex()}
    with pytest.raises(FederatedError, match="signature does not verify"):
        server.accept(forged, 16)


def test_a_replayed_update_from_another_round_is_refused():
    clients, server, inbox = _setup(3, 1)
    update = clients["site_0"].masked_update(ROUND, _vectors(3)["site_0"], server.participants, inbox["site_0"])
    later = SecureSumServer("session/2", server.verify_keys, 1)
    later.participants = server.participants
    with pytest.raises(FederatedError, match="replay"):
        later.accept(update, 16)


def test_a_site_never_reveals_both_secrets_of_one_site():
    clients, server, inbox = _setup(3, 1)
    for name, client in clients.items():
        client.masked_update(ROUND, _vectors(3)[name], server.participants, inbox[name])
    with pytest.raises(FederatedError, match="refuses"):
        clients["site_0"].reveal(ROUND, ["site_0", "site_1"], ["site_1", "site_2"])


def test_masked_updates_look_uniform_and_carry_nothing_of_the_statistics():
    clients, server, inbox = _setup(3, 1)
    counts = encode(np.arange(4096) % 7, 0)  # small counts: their words are tiny before masking
    update = clients["site_0"].masked_update(ROUND, counts, server.participants, inbox["site_0"])
    words = np.frombuffer(base64.b64decode(update["vector"]), dtype="<u8")
    top_bytes = np.bincount((words >> np.uint64(56)).astype(np.int64), minlength=256)
    # Chi-square against uniform top bytes: 255 degrees of freedom, 99.9% quantile about 330.
    expected = words.size / 256
    assert ((top_bytes - expected) ** 2 / expected).sum() < 330
    assert not np.isin(words, counts).any()


def test_a_majority_threshold_is_required():
    clients = {f"s{k}": SecureSumClient(f"s{k}") for k in range(4)}
    server = SecureSumServer(ROUND, {n: c.verify_key for n, c in clients.items()}, 2)
    with pytest.raises(FederatedError, match="majority"):
        server.open({n: c.advertise(ROUND) for n, c in clients.items()})
