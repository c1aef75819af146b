"""Differential privacy: the DP copula (``method="dp"``) and the per-source privacy budget ledger.

Importing this package registers ``DPCopula`` as method ``"dp"`` in the models registry, so stored DP
models load: the package sits above ``models`` in the layers and plugs in rather than being imported by it.
"""
from __future__ import annotations

from genesis_sql.models import METHODS
from genesis_sql.privacy.accounting import DEFAULT_DELTA
from genesis_sql.privacy.ledger import DEFAULT_LIMIT, check_spend, record_spend, set_limit, sources_of
from genesis_sql.privacy.mechanism import DPCopula, personal_by_name, public_schema

METHODS.setdefault(DPCopula.method, DPCopula)

__all__ = ["DEFAULT_DELTA", "DEFAULT_LIMIT", "DPCopula", "check_spend", "personal_by_name", "public_schema",
           "record_spend", "set_limit", "sources_of"]
