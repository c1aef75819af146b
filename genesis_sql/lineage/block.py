"""LineageBlock: one row of ``genesis.lineage``, and the hash that links it to the one before.

The hash of a block is SHA-256 over its seven stored fields (``seq``, ``block_id``, ``block_type``,
``timestamp``, ``previous_hash``, ``data_hash``, ``content``), each as its UTF-8 text exactly as stored
(``seq`` in decimal), length-prefixed so that no two blocks share a preimage::

    b"genesis-lineage-block/1" + struct.pack(">7Q", *(len(f) for f in fields)) + b"".join(fields)

DuckDB keeps VARCHAR as UTF-8 and hands it back unchanged, so hashing ``content.encode("utf-8")`` hashes
the stored bytes: a block is never re-serialised before it is checked, and an edit of a single byte
changes its hash. The signature is not part of the hash; it signs the hash (see
:mod:`genesis_sql.lineage.signing`).

:data:`HASH_SQL` is the same hash as a DuckDB expression over those columns (``strlen`` counts bytes,
``printf('%016x')`` writes the big-endian lengths, ``encode`` gives a VARCHAR's stored UTF-8 bytes), so
that verification hashes 100,000 blocks inside DuckDB, without the GIL, instead of row by row in Python;
the tests hold the two to the same result on empty, non-ASCII, NUL-containing and long fields.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import struct
import uuid
from dataclasses import dataclass
from typing import Any

from genesis_sql.errors import LineageError
from genesis_sql.lineage.encoding import canonical_json

BLOCK_TYPES: tuple[str, ...] = ("genesis", "source", "transform", "fit", "generation", "quality")
ZERO_HASH = "0" * 64
HASH_DOMAIN = b"genesis-lineage-block/1"
_LENGTHS = struct.Struct(">7Q")
COLUMNS: tuple[str, ...] = (
    "seq", "block_id", "block_type", "timestamp", "previous_hash", "data_hash", "content", "hash", "signature",
)
_HASHED_SQL = ("seq::VARCHAR", *COLUMNS[1:7])
HASH_SQL = (f"sha256('{HASH_DOMAIN.decode()}'::BLOB"
            f" || unhex(printf('{'%016x' * len(_HASHED_SQL)}', {', '.join(f'strlen({f})' for f in _HASHED_SQL)}))"
            f" || {' || '.join(f'encode({f})' for f in _HASHED_SQL)})")
""":func:`block_hash` as a DuckDB SQL expression over the columns of :data:`COLUMNS` (lower-case hex)."""


def block_hash(seq: int, block_id: str, block_type: str, timestamp: str, previous_hash: str, data_hash: str,
               content: str) -> str:
    """The hex SHA-256 of a block's stored fields (see the module docstring for the exact bytes)."""
    fields = (str(seq).encode(), block_id.encode(), block_type.encode(), timestamp.encode(), previous_hash.encode(),
              data_hash.encode(), content.encode())
    lengths = _LENGTHS.pack(*map(len, fields))
    return hashlib.sha256(b"".join((HASH_DOMAIN, lengths, *fields))).hexdigest()


def utc_timestamp() -> str:
    """Now, as ISO 8601 UTC with microseconds: ``2025-01-31T12:00:00.123456Z``."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class BlockDraft:
    """What a writer wants recorded; the chain assigns position, links, hash and signature on append."""

    block_type: str
    content: dict[str, Any]
    data_hash: str = ZERO_HASH
    block_id: str = ""

    def with_id(self) -> BlockDraft:
        """This draft with a fresh random block id when it has none, so that later drafts can refer to it."""
        if self.block_id:
            return self
        return BlockDraft(self.block_type, self.content, self.data_hash, str(uuid.uuid4()))


@dataclass(frozen=True)
class LineageBlock:
    """One stored block. ``content`` is the canonical JSON text exactly as stored; ``payload`` parses it."""

    seq: int
    block_id: str
    block_type: str
    timestamp: str
    previous_hash: str
    data_hash: str
    content: str
    hash: str
    signature: str | None = None

    @classmethod
    def build(cls, draft: BlockDraft, *, seq: int, previous_hash: str, timestamp: str) -> LineageBlock:
        """An unsigned block at position ``seq`` after the block whose hash is ``previous_hash``."""
        draft = draft.with_id()
        content = canonical_json(draft.content)
        digest = block_hash(seq, draft.block_id, draft.block_type, timestamp, previous_hash, draft.data_hash, content)
        return cls(seq, draft.block_id, draft.block_type, timestamp, previous_hash, draft.data_hash, content, digest)

    @classmethod
    def from_row(cls, row: tuple) -> LineageBlock:
        """A block from a row of :data:`COLUMNS`, in that order."""
        return cls(*row)

    @classmethod
    def from_dict(cls, data: Any) -> LineageBlock:
        """A block from its fields by column name (an export line, a proof), checked for shape.

        Raises:
            LineageError: a field is missing, unknown or of the wrong type.
        """
        if not isinstance(data, dict) or set(data) != set(COLUMNS):
            raise LineageError(f"A lineage block is an object with exactly the fields {list(COLUMNS)}.")
        seq = data["seq"]
        if not isinstance(seq, int) or isinstance(seq, bool) or not -2**63 <= seq < 2**63:
            raise LineageError(f"A block's seq must be an integer that fits the BIGINT column; got {seq!r:.40}.")
        for name in COLUMNS[1:]:
            value = data[name]
            if not isinstance(value, str) and not (name == "signature" and value is None):
                raise LineageError(f"A block's {name} must be text; got {value!r:.40}.")
        return cls(**data)

    def as_row(self) -> tuple:
        """The block as a row of :data:`COLUMNS`, in that order."""
        return (self.seq, self.block_id, self.block_type, self.timestamp, self.previous_hash, self.data_hash,
                self.content, self.hash, self.signature)

    def as_dict(self) -> dict[str, Any]:
        """The stored fields by column name (``content`` stays text, so its bytes survive a JSON round trip)."""
        return dict(zip(COLUMNS, self.as_row()))

    def compute_hash(self) -> str:
        """The hash of the stored fields, recomputed."""
        return block_hash(self.seq, self.block_id, self.block_type, self.timestamp, self.previous_hash,
                          self.data_hash, self.content)

    def verify(self) -> bool:
        """Whether the stored hash matches the stored fields (links and signatures are the chain's job)."""
        return self.compute_hash() == self.hash

    @property
    def payload(self) -> dict[str, Any]:
        """The parsed content, for reading; never used for hashing."""
        return json.loads(self.content)
