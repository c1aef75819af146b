from __future__ import annotations

import re
import stat

import pytest

from genesis_sql.errors import LineageError
from genesis_sql.lineage.signing import PublicKey, Signer, block_message, parse_signature, trusted_key


def test_keygen_writes_a_private_secret_and_a_public_file(tmp_path):
    secret, public = Signer.generate().write(tmp_path / "k")
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert public == tmp_path / "k.pub"
    assert Signer.load(secret).public_key == PublicKey.load(public)
    assert public.read_text().startswith("genesis-lineage-public-key ed25519 ")


def test_keys_are_never_overwritten(tmp_path):
    Signer.generate().write(tmp_path / "k")
    with pytest.raises(LineageError, match="already exists; a lineage key is never overwritten"):
        Signer.generate().write(tmp_path / "k")
    with pytest.raises(LineageError, match="Cannot write the key file .*No such file or directory"):
        Signer.generate().write(tmp_path / "missing" / "k")


def test_the_halves_of_a_pair_are_not_confused(tmp_path):
    secret, public = Signer.generate().write(tmp_path / "k")
    with pytest.raises(LineageError, match="It is the other half of a key pair"):
        PublicKey.load(secret)
    with pytest.raises(LineageError, match="It is the other half of a key pair"):
        Signer.load(public)
    with pytest.raises(LineageError, match=re.escape("Create one with `genesis lineage keygen`")):
        Signer.load(tmp_path / "missing")


def test_block_signatures_name_their_key_and_verify(signer):
    text = signer.sign_block_hash("ab" * 32)
    key, raw = parse_signature(text)
    assert key == signer.public_key.hex
    assert signer.public_key.verify(block_message("ab" * 32), raw)
    assert not signer.public_key.verify(block_message("ac" * 32), raw)


@pytest.mark.parametrize("text", ["rsa:00", "ed25519:" + "0" * 64, "ed25519:" + "0" * 64 + ":" + "zz" * 64,
                                  "ed25519:" + "0" * 64 + ":" + "AB" * 64])
def test_malformed_signatures_are_rejected(text):
    with pytest.raises(LineageError):
        parse_signature(text)


def test_trusted_key_from_option_or_environment(tmp_path, monkeypatch, signer):
    _, public = signer.write(tmp_path / "k")
    assert trusted_key() is None
    assert trusted_key(public) == signer.public_key
    monkeypatch.setenv("GENESIS_LINEAGE_PUBKEY", str(public))
    assert trusted_key() == signer.public_key
    monkeypatch.setenv("GENESIS_LINEAGE_PUBKEY", signer.public_key.hex.upper())
    assert trusted_key() == signer.public_key


def test_signer_from_environment(tmp_path, monkeypatch, signer):
    assert Signer.from_env() is None
    secret, _ = signer.write(tmp_path / "k")
    monkeypatch.setenv("GENESIS_LINEAGE_KEY", str(secret))
    assert Signer.from_env() == signer
    assert signer.seed.hex() not in repr(signer) and repr(signer.seed) not in repr(signer)
