"""genesis for dbt: the dbt-duckdb plugin (:mod:`genesis_sql.integrations.dbt.plugin`, named
``genesis_sql.dbt`` in profiles) and the genesis dbt package of macros shipped beside it."""
from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent / "package"
"""The genesis dbt package (macros ``genesis.generate`` and ``genesis.fit``), for a ``local:`` entry in
packages.yml; ``genesis dbt-package`` prints it."""
