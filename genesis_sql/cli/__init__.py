"""The ``genesis`` command: a click group whose commands live one module each in this package."""
from __future__ import annotations

import importlib

from genesis_sql.cli._base import cli, main

COMMAND_MODULES: tuple[str, ...] = (
    "genesis_sql.cli.core",
    "genesis_sql.cli.federated",
    "genesis_sql.cli.integrations",
    "genesis_sql.cli.portable",
    "genesis_sql.cli.lineage",
    "genesis_sql.cli.quality",
    "genesis_sql.cli.serve",
    "genesis_sql.cli.stream",
    "genesis_sql.cli.nl",
)

for _module in COMMAND_MODULES:
    importlib.import_module(_module)

__all__ = ["cli", "main"]
