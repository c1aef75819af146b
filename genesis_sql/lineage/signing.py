"""Ed25519 keys for lineage: the signing key lives in a file outside the database, the trusted key is pinned.

Key files are one line of text each::

    genesis-lineage-secret-key ed25519 <64 hex digits: the 32-byte seed>
    genesis-lineage-public-key ed25519 <64 hex digits: the 32-byte public key>

``genesis lineage keygen`` writes both (the secret one readable by its owner only). Writers sign when
``GENESIS_LINEAGE_KEY`` names the secret key file. A signature stored in the chain reads
``ed25519:<public key hex>:<signature hex>``; the public key in it only says who claims to have signed.
Verification trusts a key pinned outside the database: ``--trusted-key FILE`` or ``GENESIS_LINEAGE_PUBKEY``
(the public key file, or the 64 hex digits themselves).

Signed messages carry a domain prefix, so a block signature can never be replayed as a checkpoint's.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import nacl.bindings
import nacl.exceptions
import nacl.signing

from genesis_sql.errors import LineageError

KEY_ENV = "GENESIS_LINEAGE_KEY"
PUBKEY_ENV = "GENESIS_LINEAGE_PUBKEY"
SECRET_HEADER = "genesis-lineage-secret-key ed25519"
PUBLIC_HEADER = "genesis-lineage-public-key ed25519"
BLOCK_DOMAIN = b"genesis-lineage-block-signature/1\n"
SIGNATURE_PREFIX = "ed25519:"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class PublicKey:
    """An Ed25519 public key (32 bytes)."""

    raw: bytes

    @property
    def hex(self) -> str:
        """The key as 64 lower-case hex digits."""
        return self.raw.hex()

    @property
    def fingerprint(self) -> str:
        """A short name for messages: the first 16 hex digits of SHA-256 of the key."""
        return hashlib.sha256(self.raw).hexdigest()[:16]

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is this key's Ed25519 signature of ``message``."""
        try:
            nacl.bindings.crypto_sign_open(signature + message, self.raw)
        except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, nacl.exceptions.TypeError):
            return False
        return True

    @classmethod
    def from_hex(cls, text: str) -> PublicKey:
        """A key from 64 hex digits."""
        text = text.strip().lower()
        if not _HEX64.match(text):
            raise LineageError(f"A public key is 64 hex digits; got {text[:80]!r}.")
        return cls(bytes.fromhex(text))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> PublicKey:
        """Read a public key file written by ``genesis lineage keygen``."""
        return cls.from_hex(_read_key_file(path, PUBLIC_HEADER))

    def to_file_text(self) -> str:
        """The public key file's one line."""
        return f"{PUBLIC_HEADER} {self.hex}\n"


@dataclass(frozen=True)
class Signer:
    """An Ed25519 signing key. Keep its file outside the database: whoever holds it can sign history."""

    seed: bytes = field(repr=False)
    public_key: PublicKey = field(init=False, compare=False)
    _key: nacl.signing.SigningKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        key = nacl.signing.SigningKey(self.seed)
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "public_key", PublicKey(bytes(key.verify_key)))

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        return self._key.sign(message).signature

    def sign_block_hash(self, block_hash: str) -> str:
        """The text stored in a block's ``signature`` column for a block with this hash."""
        signature = self.sign(block_message(block_hash))
        return f"{SIGNATURE_PREFIX}{self.public_key.hex}:{signature.hex()}"

    @classmethod
    def generate(cls) -> Signer:
        """A fresh random key."""
        return cls(bytes(nacl.signing.SigningKey.generate()))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Signer:
        """Read a secret key file written by ``genesis lineage keygen``."""
        text = _read_key_file(path, SECRET_HEADER)
        if not _HEX64.match(text):
            raise LineageError(f"The key file {str(path)!r} is damaged: expected 64 hex digits after the header.")
        return cls(bytes.fromhex(text))

    @classmethod
    def from_env(cls) -> Signer | None:
        """The key named by ``GENESIS_LINEAGE_KEY``, or None when it is unset (blocks are then unsigned)."""
        path = os.environ.get(KEY_ENV, "").strip()
        return cls.load(path) if path else None

    def write(self, path: str | os.PathLike[str]) -> tuple[Path, Path]:
        """Write the secret key file (mode 0600) and ``<path>.pub``; refuses to overwrite a key."""
        secret, public = Path(path), Path(f"{path}.pub")
        for target in (secret, public):
            if target.exists():
                raise LineageError(
                    f"{str(target)!r} already exists; a lineage key is never overwritten. Choose another path "
                    "or move the old key away (chains it signed still need its public key to verify)."
                )
        try:
            fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(f"{SECRET_HEADER} {self.seed.hex()}\n")
            public.write_text(self.public_key.to_file_text(), encoding="utf-8")
        except OSError as exc:
            raise LineageError(f"Cannot write the key file {exc.filename!r}: {exc.strerror}.") from exc
        return secret, public


def block_message(block_hash: str) -> bytes:
    """The bytes a block signature signs: a domain prefix and the block's 32-byte hash."""
    return BLOCK_DOMAIN + bytes.fromhex(block_hash)


def parse_signature(text: str) -> tuple[str, bytes]:
    """Split a stored block signature into (public key hex, signature bytes); raises LineageError if malformed."""
    if not text.startswith(SIGNATURE_PREFIX):
        raise LineageError(f"signature does not start with {SIGNATURE_PREFIX!r}")
    key, _, signature = text[len(SIGNATURE_PREFIX):].partition(":")
    if not _HEX64.match(key) or len(signature) != 128:
        raise LineageError("signature is not 'ed25519:<64 hex key>:<128 hex signature>'")
    try:
        raw = bytes.fromhex(signature)
    except ValueError as exc:
        raise LineageError("signature is not hex") from exc
    if raw.hex() != signature:
        raise LineageError("signature is not lower-case hex")
    return key, raw


def trusted_key(path: str | os.PathLike[str] | None = None) -> PublicKey | None:
    """The pinned public key: ``path`` when given, else ``GENESIS_LINEAGE_PUBKEY`` (a file or 64 hex), else None."""
    if path is not None:
        return PublicKey.load(path)
    value = os.environ.get(PUBKEY_ENV, "").strip()
    if not value:
        return None
    if _HEX64.match(value.lower()):
        return PublicKey.from_hex(value)
    return PublicKey.load(value)


def _read_key_file(path: str | os.PathLike[str], header: str) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise LineageError(f"Cannot read the lineage key file {str(path)!r}: {exc.strerror}. "
                           "Create one with `genesis lineage keygen`.") from exc
    if not text.startswith(header + " "):
        other = PUBLIC_HEADER if header == SECRET_HEADER else SECRET_HEADER
        hint = " It is the other half of a key pair." if text.startswith(other) else ""
        raise LineageError(f"{str(path)!r} is not a {header.split()[0]} file.{hint} "
                           f"Expected one line starting with {header!r}.")
    return text[len(header) + 1:].strip().lower()
