"""Optional dependencies of the reports and the dashboard, imported on first use."""
from __future__ import annotations

import importlib
from types import ModuleType

from genesis_sql.errors import MissingDependencyError


def require(module: str) -> ModuleType:
    """Import an optional dependency of the reports, or say which extra provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"Quality reports need the {module.split('.')[0]!r} package: pip install 'genesis-sql[dashboard]'."
        ) from exc
