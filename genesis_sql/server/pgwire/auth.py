"""Who may connect: the user table, and the server side of SCRAM-SHA-256 (RFC 5802, RFC 7677).

Users come from a file (one ``user:secret`` per line, ``#`` comments) or from the environment
(``GENESIS_PG_USER``, default ``genesis``, with ``GENESIS_PG_PASSWORD``). A secret is a password or, so
that no password needs to be stored, a Postgres SCRAM verifier as ``scram_verifier()`` writes it
(``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>``, the format of ``pg_authid``).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from genesis_sql.errors import InvalidArgumentError

MECHANISM = "SCRAM-SHA-256"
ITERATIONS = 4096


@dataclass(frozen=True)
class Verifier:
    """What the server keeps of a password: salt, iterations, StoredKey and ServerKey."""

    salt: bytes
    iterations: int
    stored_key: bytes
    server_key: bytes


def _hmac(key: bytes, text: bytes) -> bytes:
    return hmac.new(key, text, hashlib.sha256).digest()


def make_verifier(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> Verifier:
    """The SCRAM verifier of ``password`` (a fresh random salt unless given)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    client_key = _hmac(salted, b"Client Key")
    return Verifier(salt, iterations, hashlib.sha256(client_key).digest(), _hmac(salted, b"Server Key"))


def scram_verifier(password: str) -> str:
    """``password`` as a storable Postgres-format SCRAM-SHA-256 verifier."""
    v = make_verifier(password)
    b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    return f"{MECHANISM}${v.iterations}:{b64(v.salt)}${b64(v.stored_key)}:{b64(v.server_key)}"


def parse_secret(secret: str) -> Verifier:
    """A verifier from a stored secret: a Postgres-format verifier, or else a password."""
    if not secret.startswith(MECHANISM + "$"):
        return make_verifier(secret)
    try:
        _, head, keys = secret.split("$")
        iterations, salt = head.split(":")
        stored, server = keys.split(":")
        return Verifier(base64.b64decode(salt, validate=True), int(iterations),
                        base64.b64decode(stored, validate=True), base64.b64decode(server, validate=True))
    except ValueError as exc:
        raise InvalidArgumentError(
            f"Malformed SCRAM verifier {secret[:24]!r}...: expected "
            "'SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>' (base64 fields).") from exc


def load_users(path: str | os.PathLike | None = None, environ: dict[str, str] | None = None) -> dict[str, str]:
    """Users and secrets from ``path`` (``user:secret`` lines) or else from the environment.

    Raises:
        InvalidArgumentError: the file is missing or a line has no ``user:secret`` shape.
    """
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise InvalidArgumentError(f"Users file {str(file)!r} does not exist; write one 'user:password' "
                                       "(or 'user:SCRAM-SHA-256$...') per line.")
        users: dict[str, str] = {}
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            user, sep, secret = line.partition(":")
            if not sep or not user.strip() or not secret:
                raise InvalidArgumentError(f"{file}:{number}: expected 'user:password', got {line[:40]!r}.")
            users[user.strip()] = secret
        return users
    env = os.environ if environ is None else environ
    password = env.get("GENESIS_PG_PASSWORD")
    return {env.get("GENESIS_PG_USER", "genesis"): password} if password else {}


class ScramExchange:
    """One SCRAM-SHA-256 conversation: ``first()`` answers client-first, ``final()`` client-final.

    Channel binding is not offered, so the client's GS2 header is ``n,,`` or ``y,,``.
    """

    def __init__(self, verifier: Verifier | None) -> None:
        # With no verifier (unknown user) the exchange runs with a random one and fails at the proof,
        # so the client cannot tell unknown users from wrong passwords.
        self.verifier = verifier or make_verifier(secrets.token_hex(16))
        self.known = verifier is not None
        self.server_nonce = base64.b64encode(secrets.token_bytes(18)).decode()

    def first(self, client_first: bytes) -> bytes:
        """The server-first message for the client-first message."""
        text = client_first.decode("utf-8")
        header, _, bare = text.partition(",")
        authzid, _, self.client_first_bare = bare.partition(",")
        if header not in ("n", "y") or authzid:
            raise ValueError("unsupported GS2 header (channel binding is not offered)")
        self.gs2_header = f"{header},{authzid},"
        attrs = dict(part.split("=", 1) for part in self.client_first_bare.split(","))
        self.nonce = attrs["r"] + self.server_nonce
        salt = base64.b64encode(self.verifier.salt).decode()
        self.server_first = f"r={self.nonce},s={salt},i={self.verifier.iterations}"
        return self.server_first.encode()

    def final(self, client_final: bytes) -> bytes | None:
        """The server-final message, or None when the proof is wrong."""
        text = client_final.decode("utf-8")
        without_proof, _, proof_part = text.rpartition(",p=")
        attrs = dict(part.split("=", 1) for part in without_proof.split(","))
        if attrs.get("r") != self.nonce or base64.b64decode(attrs.get("c", "")) != self.gs2_header.encode():
            return None
        auth_message = f"{self.client_first_bare},{self.server_first},{without_proof}".encode()
        signature = _hmac(self.verifier.stored_key, auth_message)
        proof = base64.b64decode(proof_part)
        client_key = bytes(a ^ b for a, b in zip(proof, signature))
        if not self.known or not hmac.compare_digest(hashlib.sha256(client_key).digest(), self.verifier.stored_key):
            return None
        server_signature = _hmac(self.verifier.server_key, auth_message)
        return b"v=" + base64.b64encode(server_signature)
