"""Secure aggregation: the aggregator learns the sum of the sites' statistic vectors and nothing else.

The protocol is the pairwise-masking scheme of Bonawitz et al. (CCS 2017), with fresh keys every round:

1. *advertise*: each site makes two X25519 key pairs (one for masks, one to encrypt shares) and a
   32-byte self-mask seed, and sends the public keys signed with its Ed25519 identity key.
2. *share*: each site Shamir-splits its mask private key and its self-mask seed (``threshold`` of the
   round's sites reconstruct them) and sends every other site its shares, encrypted to that site
   (NaCl Box), through the aggregator.
3. *update*: each site adds to its fixed-point statistics (genesis_sql.federated._ring) the stream of its
   self-mask seed and, for every other site, the stream of their X25519 shared secret, with opposite signs
   on the two sides; it signs the result. Unsigned or tampered updates are refused.
4. *reveal*: the survivors send their shares of each surviving site's self-mask seed and of each dropped
   site's mask key (never both for one site). The aggregator removes the self-masks and the dropped
   sites' dangling pairwise masks; every other mask cancels in the sum.

So up to ``len(sites) - threshold`` sites may drop after sharing and the sum is still exact; with more
dropouts the masks cannot be removed and :class:`~genesis_sql.errors.FederatedError` says so. Each
single update is uniformly random to the aggregator, which never holds both secrets of any site.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from nacl.bindings import crypto_scalarmult
from nacl.exceptions import BadSignatureError, CryptoError
from nacl.public import Box, PrivateKey, PublicKey
from nacl.signing import SigningKey, VerifyKey

from genesis_sql.errors import FederatedError
from genesis_sql.federated import _shamir
from genesis_sql.federated._ring import mask_stream
from genesis_sql.federated._wire import canonical, pack_words, unpack_words


def _sign(key: SigningKey, body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "signature": key.sign(canonical(body)).signature.hex()}


def verify_signed(message: object, verify_key: str, what: str) -> dict[str, Any]:
    """The body of a signed message, or FederatedError when it is unsigned or does not verify."""
    if not isinstance(message, dict) or not isinstance(message.get("signature"), str):
        raise FederatedError(f"Refused an unsigned {what}: every message a site sends must carry its Ed25519 "
                             "signature.")
    body = {k: v for k, v in message.items() if k != "signature"}
    try:
        VerifyKey(bytes.fromhex(verify_key)).verify(canonical(body), bytes.fromhex(message["signature"]))
    except (BadSignatureError, ValueError, CryptoError) as exc:
        raise FederatedError(f"Refused a {what} from {body.get('site')!r}: its signature does not verify "
                             "(tampered in transit, or not signed by the registered site key).") from exc
    return body


def _pair_seed(secret: bytes, first: str, second: str, round_id: str) -> bytes:
    """The mask seed two sites share in a round (their X25519 secret, bound to their names and the round)."""
    low, high = sorted((first, second))
    return hashlib.sha256(b"genesis-pair|" + secret + f"|{low}|{high}|{round_id}".encode()).digest()


def _positions(directory: dict[str, Any]) -> dict[str, int]:
    """Each site's Shamir x-coordinate in a round: its rank among the round's sites, from 1."""
    return {site: i + 1 for i, site in enumerate(sorted(directory))}


@dataclass
class _ClientRound:
    mask_key: PrivateKey
    box_key: PrivateKey
    seed: bytes
    directory: dict[str, dict[str, Any]] = field(default_factory=dict)
    own_shares: dict[str, tuple[int, int]] = field(default_factory=dict)  # sender -> (mask share, seed share)
    participants: list[str] = field(default_factory=list)
    revealed: bool = False


class SecureSumClient:
    """A site's side of the protocol: keys, shares, masked and signed updates.

    Args:
        site: the site's name, as the aggregator knows it.
        signing_key: the site's Ed25519 identity key (a new one when omitted).
    """

    def __init__(self, site: str, signing_key: SigningKey | None = None) -> None:
        self.site = site
        self.signing_key = signing_key or SigningKey.generate()
        self._rounds: dict[str, _ClientRound] = {}

    @property
    def verify_key(self) -> str:
        """The public half of the identity key (hex), registered with the aggregator."""
        return self.signing_key.verify_key.encode().hex()

    def export_rounds(self) -> dict[str, Any]:
        """The open rounds' secrets as JSON, for a site that runs one process per message (Flower keeps
        them in the site's node state, never sends them)."""
        return {rid: {"mask_key": r.mask_key.encode().hex(), "box_key": r.box_key.encode().hex(),
                      "seed": r.seed.hex(), "directory": r.directory, "participants": r.participants,
                      "own_shares": {k: [hex(a), hex(b)] for k, (a, b) in r.own_shares.items()},
                      "revealed": r.revealed} for rid, r in self._rounds.items()}

    def restore_rounds(self, rounds: dict[str, Any]) -> None:
        """Inverse of :meth:`export_rounds`."""
        self._rounds = {rid: _ClientRound(PrivateKey(bytes.fromhex(r["mask_key"])),
                                          PrivateKey(bytes.fromhex(r["box_key"])), bytes.fromhex(r["seed"]),
                                          r["directory"],
                                          {k: (int(a, 16), int(b, 16)) for k, (a, b) in r["own_shares"].items()},
                                          r["participants"], r["revealed"]) for rid, r in rounds.items()}

    def advertise(self, round_id: str) -> dict[str, Any]:
        """Fresh keys for a round: the signed public halves."""
        state = _ClientRound(PrivateKey.generate(), PrivateKey.generate(), secrets.token_bytes(32))
        self._rounds[round_id] = state
        return _sign(self.signing_key, {"site": self.site, "round": round_id,
                                        "mask_pk": state.mask_key.public_key.encode().hex(),
                                        "box_pk": state.box_key.public_key.encode().hex()})

    def _round(self, round_id: str) -> _ClientRound:
        if round_id not in self._rounds:
            raise FederatedError(f"Site {self.site!r} has no keys for round {round_id!r}.")
        return self._rounds[round_id]

    def share(self, round_id: str, directory: dict[str, dict[str, Any]], verify_keys: dict[str, str],
              threshold: int) -> dict[str, Any]:
        """Encrypted Shamir shares of this round's mask key and self-mask seed, one per other site."""
        state = self._round(round_id)
        for site, advert in directory.items():
            body = verify_signed(advert, verify_keys[site], "key advertisement")
            if body["site"] != site or body["round"] != round_id:
                raise FederatedError(f"The directory of round {round_id!r} holds a misfiled advertisement of {site!r}.")
        if self.site not in directory:
            raise FederatedError(f"Site {self.site!r} is missing from the directory of round {round_id!r}.")
        state.directory = directory
        positions = _positions(directory)
        holders = list(positions.values())
        mask_shares = _shamir.split(state.mask_key.encode(), threshold, holders)
        seed_shares = _shamir.split(state.seed, threshold, holders)
        out = {}
        for site, advert in directory.items():
            x = positions[site]
            if site == self.site:
                state.own_shares[self.site] = (mask_shares[x], seed_shares[x])
                continue
            plain = json.dumps({"from": self.site, "to": site, "round": round_id,
                                "mask": hex(mask_shares[x]), "seed": hex(seed_shares[x])}).encode()
            box = Box(state.box_key, PublicKey(bytes.fromhex(advert["box_pk"])))
            out[site] = box.encrypt(plain).hex()
        return _sign(self.signing_key, {"site": self.site, "round": round_id, "shares": out})

    def masked_update(self, round_id: str, words: np.ndarray, participants: list[str],
                      shares: dict[str, str]) -> dict[str, Any]:
        """The statistics ``words`` (uint64) masked for the round's ``participants``, signed."""
        state = self._round(round_id)
        if self.site not in participants or not set(participants) <= set(state.directory):
            raise FederatedError(f"Round {round_id!r} lists participants outside its directory.")
        for sender in participants:
            if sender == self.site:
                continue
            advert = state.directory[sender]
            try:
                box = Box(state.box_key, PublicKey(bytes.fromhex(advert["box_pk"])))
                plain = json.loads(box.decrypt(bytes.fromhex(shares[sender])))
            except (KeyError, ValueError, CryptoError) as exc:
                raise FederatedError(f"Site {self.site!r} got no readable share from {sender!r} in round "
                                     f"{round_id!r}.") from exc
            if plain.get("from") != sender or plain.get("to") != self.site or plain.get("round") != round_id:
                raise FederatedError(f"A share from {sender!r} in round {round_id!r} was redirected.")
            state.own_shares[sender] = (int(plain["mask"], 16), int(plain["seed"], 16))
        state.participants = sorted(participants)
        length = int(words.size)
        masked = np.asarray(words, dtype=np.uint64) + mask_stream(state.seed, round_id, length)
        for other in state.participants:
            if other == self.site:
                continue
            peer = bytes.fromhex(state.directory[other]["mask_pk"])
            stream = mask_stream(_pair_seed(crypto_scalarmult(state.mask_key.encode(), peer), self.site, other,
                                            round_id), round_id, length)
            masked = masked + stream if self.site < other else masked - stream
        return _sign(self.signing_key, {"site": self.site, "round": round_id, "length": length,
                                        "vector": pack_words(masked)})

    def reveal(self, round_id: str, survivors: list[str], dropped: list[str]) -> dict[str, Any]:
        """Shares of the survivors' self-mask seeds and of the dropped sites' mask keys (never both)."""
        state = self._round(round_id)
        if set(survivors) & set(dropped) or not (set(survivors) | set(dropped)) <= set(state.participants):
            raise FederatedError(f"Site {self.site!r} refuses to reveal shares for round {round_id!r}: the survivors "
                                 "and dropped sites overlap or were not participants.")
        if state.revealed:
            raise FederatedError(f"Site {self.site!r} already revealed its shares for round {round_id!r}.")
        state.revealed = True
        x = _positions(state.directory)[self.site]
        seeds = {s: hex(state.own_shares[s][1]) for s in survivors}
        masks = {s: hex(state.own_shares[s][0]) for s in dropped}
        del self._rounds[round_id]
        return _sign(self.signing_key, {"site": self.site, "round": round_id, "x": x, "seeds": seeds,
                                        "masks": masks})


class SecureSumServer:
    """The aggregator's side of one round: checks every message and unmasks only the sum.

    Args:
        round_id: the round's name (bound into every signature and mask).
        verify_keys: each registered site's Ed25519 public key (hex).
        max_dropouts: how many of the round's sites may vanish after sharing with the sum still recovered.
    """

    def __init__(self, round_id: str, verify_keys: dict[str, str], max_dropouts: int) -> None:
        self.round_id = round_id
        self.verify_keys = verify_keys
        self.max_dropouts = max_dropouts
        self.directory: dict[str, dict[str, Any]] = {}
        self.participants: list[str] = []
        self.updates: dict[str, np.ndarray] = {}
        self.length: int | None = None

    @property
    def threshold(self) -> int:
        """Shares needed to reconstruct a secret: the round's sites less the dropouts tolerated."""
        return len(self.directory) - self.max_dropouts

    def _check(self, message: object, what: str) -> dict[str, Any]:
        site = message.get("site") if isinstance(message, dict) else None
        if site not in self.verify_keys:
            raise FederatedError(f"Refused a {what} from an unregistered site {site!r}.")
        body = verify_signed(message, self.verify_keys[site], what)
        if body.get("round") != self.round_id:
            raise FederatedError(f"Refused a {what} of {site!r} for round {body.get('round')!r} during round "
                                 f"{self.round_id!r} (a replay).")
        return body

    def open(self, adverts: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The round's directory of verified key advertisements."""
        for site, advert in adverts.items():
            body = self._check(advert, "key advertisement")
            if body["site"] == site:
                self.directory[site] = advert
        if self.threshold <= len(self.directory) / 2:
            raise FederatedError(
                f"Secure aggregation among {len(self.directory)} sites cannot tolerate {self.max_dropouts} dropouts: "
                "the reconstruction threshold must be a majority of the sites. Lower max_dropouts or add sites.")
        return self.directory

    def route(self, messages: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
        """The encrypted shares addressed to each site, from the sites whose share message verifies."""
        inbox: dict[str, dict[str, str]] = {site: {} for site in self.directory}
        senders = []
        for site, message in messages.items():
            body = self._check(message, "share message")
            others = set(self.directory) - {site}
            if body["site"] != site or site not in self.directory or set(body["shares"]) != others:
                raise FederatedError(f"Refused the share message of {site!r}: it must hold one share per other site.")
            senders.append(site)
            for recipient, ciphertext in body["shares"].items():
                inbox[recipient][site] = ciphertext
        self.participants = sorted(senders)
        return {site: {s: c for s, c in inbox[site].items() if s in senders} for site in self.participants}

    def accept(self, message: object, length: int) -> None:
        """Keep one site's masked update; FederatedError when it is unsigned, tampered or out of place."""
        body = self._check(message, "masked update")
        site = body["site"]
        if site not in self.participants or site in self.updates:
            raise FederatedError(f"Refused an update of {site!r}: not a participant of round {self.round_id!r}, "
                                 "or a second update.")
        if body.get("length") != length:
            raise FederatedError(f"Refused the update of {site!r}: {body.get('length')} words, expected {length}.")
        self.updates[site] = unpack_words(body["vector"], length)
        self.length = length

    def unmask(self, reveals: dict[str, dict[str, Any]]) -> np.ndarray:
        """The exact sum of the survivors' statistics, from their masked updates and the revealed shares."""
        survivors = sorted(self.updates)
        dropped = sorted(set(self.participants) - set(survivors))
        seed_shares: dict[str, dict[int, int]] = {s: {} for s in survivors}
        mask_shares: dict[str, dict[int, int]] = {s: {} for s in dropped}
        positions = _positions(self.directory)
        for site, message in reveals.items():
            try:
                body = self._check(message, "share reveal")
            except FederatedError:
                continue
            if site not in survivors or body["x"] != positions[site] or set(body["seeds"]) != set(survivors) \
                    or set(body["masks"]) != set(dropped):
                continue
            for owner, y in body["seeds"].items():
                seed_shares[owner][body["x"]] = int(y, 16)
            for owner, y in body["masks"].items():
                mask_shares[owner][body["x"]] = int(y, 16)
        answered = sum(1 for m in reveals if m in survivors)
        if len(survivors) < self.threshold or any(len(v) < self.threshold for v in (*seed_shares.values(),
                                                                                     *mask_shares.values())):
            raise FederatedError(
                f"Round {self.round_id!r} cannot be unmasked: {len(dropped)} of {len(self.participants)} sites dropped "
                f"and {answered} revealed shares, but {self.threshold} are needed (at most {self.max_dropouts} "
                "dropouts are tolerated). Nothing was aggregated.")
        total = np.zeros(self.length or 0, dtype=np.uint64)
        for site in survivors:
            total = total + self.updates[site]
            seed = _shamir.combine(dict(list(seed_shares[site].items())[:self.threshold]))
            total = total - mask_stream(seed, self.round_id, total.size)
        for gone in dropped:
            key = _shamir.combine(dict(list(mask_shares[gone].items())[:self.threshold]))
            if PrivateKey(key).public_key.encode().hex() != self.directory[gone]["mask_pk"]:
                raise FederatedError(f"The revealed shares of {gone!r}'s mask key are inconsistent; refusing the "
                                     "round.")
            for site in survivors:
                peer = bytes.fromhex(self.directory[site]["mask_pk"])
                stream = mask_stream(_pair_seed(crypto_scalarmult(key, peer), gone, site, self.round_id),
                                     self.round_id, total.size)
                # The survivor added +stream when its name sorts first, -stream otherwise; take it back out.
                total = total - stream if site < gone else total + stream
        return total
