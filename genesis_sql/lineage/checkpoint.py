"""Checkpoints: a signed tree head (size, Merkle root) of the chain, meant to be kept outside the database.

A chain that was cut at the tail, or rewritten and re-hashed end to end, still verifies on its own; it no
longer matches a checkpoint taken before. Blocks appended after the newest checkpoint are protected by
the hash chain and block signatures only, so take checkpoints regularly and store them elsewhere.

A checkpoint is one line of canonical JSON::

    {"format":"genesis-lineage-checkpoint/1","public_key":"<hex>"|null,"root_hash":"<hex>",
     "signature":"<hex>"|null,"timestamp":"...Z","tip_block_id":"..."|null,"tree_size":N}

The signature is Ed25519 over ``b"genesis-lineage-checkpoint-signature/1\\n"`` followed by the canonical
JSON of every field but ``signature``.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genesis_sql.errors import LineageError
from genesis_sql.lineage.encoding import canonical_bytes, canonical_json
from genesis_sql.lineage.signing import PublicKey, Signer

FORMAT = "genesis-lineage-checkpoint/1"
DOMAIN = b"genesis-lineage-checkpoint-signature/1\n"
_HEX = re.compile(r"^[0-9a-f]*$")


@dataclass(frozen=True)
class Checkpoint:
    """The chain's first ``tree_size`` blocks summarised by their RFC 6962 root, optionally signed."""

    tree_size: int
    root_hash: str
    tip_block_id: str | None
    timestamp: str
    public_key: str | None = None
    signature: str | None = None

    def _body(self) -> dict[str, Any]:
        return {"format": FORMAT, "tree_size": self.tree_size, "root_hash": self.root_hash,
                "tip_block_id": self.tip_block_id, "timestamp": self.timestamp, "public_key": self.public_key}

    def signed_message(self) -> bytes:
        """The bytes the signature covers."""
        return DOMAIN + canonical_bytes(self._body())

    def sign(self, signer: Signer) -> Checkpoint:
        """This checkpoint signed by ``signer`` (its public key is recorded alongside)."""
        unsigned = dataclasses.replace(self, public_key=signer.public_key.hex, signature=None)
        return dataclasses.replace(unsigned, signature=signer.sign(unsigned.signed_message()).hex())

    def signature_problem(self, trusted: PublicKey | None) -> str | None:
        """Why the signature cannot be trusted, or None when it can (or when nothing needs to be trusted).

        With a trusted key the checkpoint must be signed by it. Without one, a signature present must
        still be valid for the key recorded next to it, but an unsigned checkpoint is accepted.
        """
        if self.signature is None or self.public_key is None:
            return "the checkpoint is not signed, but a trusted key was given" if trusted else None
        if trusted is not None and self.public_key != trusted.hex:
            return (f"the checkpoint is signed by key {PublicKey.from_hex(self.public_key).fingerprint}, "
                    f"not by the trusted key {trusted.fingerprint}")
        if not PublicKey.from_hex(self.public_key).verify(self.signed_message(), bytes.fromhex(self.signature)):
            return "the checkpoint's signature does not verify: the checkpoint was altered"
        return None

    def to_dict(self) -> dict[str, Any]:
        """Every field, as written to a checkpoint file."""
        return {**self._body(), "signature": self.signature}

    def to_json(self) -> str:
        """The checkpoint file's one line (canonical JSON)."""
        return canonical_json(self.to_dict())

    @classmethod
    def from_dict(cls, data: Any) -> Checkpoint:
        """A checkpoint from its JSON fields, checked for shape; raises LineageError when malformed."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise LineageError(f"Not a lineage checkpoint: expected an object with \"format\": {FORMAT!r}.")
        size, root = data.get("tree_size"), data.get("root_hash")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise LineageError(f"The checkpoint's tree_size must be a non-negative integer; got {size!r}.")
        for name, length in (("root_hash", 64), ("public_key", 64), ("signature", 128)):
            value = data.get(name)
            if (value is None and name != "root_hash") or (
                    isinstance(value, str) and len(value) == length and _HEX.match(value)):
                continue
            raise LineageError(f"The checkpoint's {name} must be {length} lower-case hex digits; got {value!r:.80}.")
        return cls(size, root, data.get("tip_block_id"), str(data.get("timestamp", "")),
                   data.get("public_key"), data.get("signature"))

    @classmethod
    def from_json(cls, text: str) -> Checkpoint:
        """Parse a checkpoint file's text."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LineageError(f"A checkpoint is one line of JSON; this does not parse: {exc}.") from exc
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Checkpoint:
        """Read a checkpoint file written by ``genesis lineage checkpoint``."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise LineageError(f"Cannot read the checkpoint file {str(path)!r}: {exc.strerror}.") from exc
        return cls.from_json(text)
