"""``genesis lineage ...``: verify the chain, show a model's history, checkpoint, prove, export, keys."""
from __future__ import annotations

import json
import os

import click

from genesis_sql.cli._base import cli, database
from genesis_sql.lineage import Checkpoint, InclusionProof, LineageChain, Signer, trusted_key
from genesis_sql.lineage.manifest import DataLineage
from genesis_sql.lineage.openlineage import openlineage_events
from genesis_sql.lineage.signing import KEY_ENV, PUBKEY_ENV

_FILE = click.Path(exists=True, dir_okay=False)
_TRUSTED_KEY = click.option("--trusted-key", "key_path", type=_FILE,
                            help=f"Public key file to trust (default: ${PUBKEY_ENV}). Without one, signatures "
                                 "prove nothing: whoever rewrites the chain can re-sign it.")


@cli.group()
def lineage() -> None:
    """The tamper-evident lineage chain (genesis.lineage)."""


@lineage.command()
@click.option("--checkpoint", "checkpoint_path", type=_FILE,
              help="A checkpoint kept outside the database: catches truncation and whole-chain rewrites.")
@_TRUSTED_KEY
@click.pass_context
def verify(ctx: click.Context, checkpoint_path: str | None, key_path: str | None) -> None:
    """Check every link, hash and signature; exit 0 when intact, else name the first bad block."""
    checkpoint = Checkpoint.load(checkpoint_path) if checkpoint_path else None
    key = trusted_key(key_path)
    with database(ctx, read_only=True) as con:
        report = LineageChain(con).verify(trusted_key=key, checkpoint=checkpoint)
    report.raise_if_failed()
    click.echo(f"ok: {report.blocks} blocks, {report.reason}")


@lineage.command()
@click.argument("model")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
@click.pass_context
def show(ctx: click.Context, model: str, as_json: bool) -> None:
    """MODEL's history: sources -> transforms -> fits -> generations -> quality checks."""
    with database(ctx, read_only=True) as con:
        manifest = DataLineage(LineageChain(con), model).create_manifest()
    click.echo(json.dumps(manifest.to_dict(), indent=2) if as_json else manifest.render())


@lineage.command()
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@click.pass_context
def export(ctx: click.Context, path: str) -> None:
    """Write the chain to PATH as JSON lines (LineageChain.load verifies it again)."""
    with database(ctx, read_only=True) as con:
        count = LineageChain(con).export(path)
    click.echo(f"exported {count} blocks to {path}")


@lineage.command()
@click.option("--key", "key_path", type=_FILE, help=f"Secret key file to sign with (default: ${KEY_ENV}).")
@click.pass_context
def checkpoint(ctx: click.Context, key_path: str | None) -> None:
    """Print a checkpoint (tree size, Merkle root, signature) of the chain as it is now, as JSON."""
    signer = Signer.load(key_path) if key_path else Signer.from_env()
    with database(ctx, read_only=True) as con:
        head = LineageChain(con).checkpoint(signer=signer)
    click.echo(head.to_json())


@lineage.command()
@click.argument("block_id")
@click.option("--checkpoint", "checkpoint_path", type=_FILE, required=True,
              help="The checkpoint to prove inclusion in.")
@click.pass_context
def prove(ctx: click.Context, block_id: str, checkpoint_path: str) -> None:
    """Print an inclusion proof of BLOCK_ID in the checkpoint, verifiable offline with verify-proof."""
    head = Checkpoint.load(checkpoint_path)
    with database(ctx, read_only=True) as con:
        proof = LineageChain(con).prove(block_id, head)
    click.echo(proof.to_json())


@lineage.command("verify-proof")
@click.argument("path", type=_FILE)
@_TRUSTED_KEY
def verify_proof(path: str, key_path: str | None) -> None:
    """Check an inclusion proof file offline (no database needed)."""
    proof = InclusionProof.load(path)
    key = trusted_key(key_path)
    proof.verify(trusted_key=key)
    pinned = f"signed by trusted key {key.fingerprint}" if key else "checkpoint signer not pinned"
    click.echo(f"ok: block {proof.block.block_id} is leaf {proof.block.seq} of the checkpoint of "
               f"{proof.checkpoint.tree_size} blocks ({pinned})")


@lineage.command()
@click.argument("path", required=False, type=click.Path(dir_okay=False))
def keygen(path: str | None) -> None:
    """Write a new Ed25519 signing key to PATH (default: $GENESIS_LINEAGE_KEY or ./genesis-lineage.key)."""
    target = path or os.environ.get(KEY_ENV) or "genesis-lineage.key"
    secret, public = Signer.generate().write(target)
    click.echo(f"wrote {secret} (secret: keep it outside the database) and {public} (public: pin it)\n"
               f"sign new blocks:  export {KEY_ENV}={os.path.abspath(secret)}\n"
               f"verify:           genesis lineage verify --trusted-key {public}")


@lineage.command()
@click.argument("model")
@click.pass_context
def openlineage(ctx: click.Context, model: str) -> None:
    """MODEL's runs as OpenLineage run events (START/COMPLETE), one JSON object per line."""
    with database(ctx, read_only=True) as con:
        manifest = DataLineage(LineageChain(con), model).create_manifest()
    for event in openlineage_events(manifest):
        click.echo(json.dumps(event, sort_keys=True))
