"""``GET /v1/lineage/verify``: check the whole lineage chain, as ``genesis_lineage_verify()`` does."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify

from genesis_sql.lineage.chain import LineageChain
from genesis_sql.lineage.signing import trusted_key
from genesis_sql.server.db import get_db

bp = Blueprint("v1_lineage", __name__, url_prefix="/v1/lineage")


@bp.get("/verify")
def verify() -> Response:
    """The verification row: ok, blocks, first_bad_block, reason (signatures pinned by GENESIS_LINEAGE_PUBKEY)."""
    return jsonify(LineageChain(get_db()).verify(trusted_key=trusted_key()).as_dict())
