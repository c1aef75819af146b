from __future__ import annotations

import dataclasses

import pytest

from genesis_sql.errors import LineageError
from genesis_sql.lineage import Checkpoint


def checkpoint() -> Checkpoint:
    return Checkpoint(5, "ab" * 32, "tip", "2025-01-01T00:00:00.000000Z")


def test_signed_checkpoint_round_trips_and_verifies(signer, tmp_path):
    signed = checkpoint().sign(signer)
    path = tmp_path / "cp.json"
    path.write_text(signed.to_json())
    loaded = Checkpoint.load(path)
    assert loaded == signed
    assert loaded.signature_problem(signer.public_key) is None
    assert loaded.signature_problem(None) is None


def test_signature_problems_are_named(signer, attacker):
    signed = checkpoint().sign(signer)
    assert "not signed, but a trusted key was given" in checkpoint().signature_problem(signer.public_key)
    assert checkpoint().signature_problem(None) is None
    assert "not by the trusted key" in signed.signature_problem(attacker.public_key)
    altered = dataclasses.replace(signed, tree_size=4)
    assert "does not verify" in altered.signature_problem(signer.public_key)
    assert "does not verify" in altered.signature_problem(None)


@pytest.mark.parametrize("text, message", [
    ("not json", "does not parse"),
    ('{"format": "other"}', "Not a lineage checkpoint"),
    ('{"format": "genesis-lineage-checkpoint/1", "tree_size": -1}', "non-negative integer"),
    ('{"format": "genesis-lineage-checkpoint/1", "tree_size": 1, "root_hash": "XY"}', "root_hash must be 64"),
])
def test_malformed_checkpoints_are_rejected(text, message):
    with pytest.raises(LineageError, match=message):
        Checkpoint.from_json(text)
