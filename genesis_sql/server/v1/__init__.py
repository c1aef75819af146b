"""The ``/v1`` HTTP API, one blueprint per resource; described by :mod:`genesis_sql.server.openapi`."""
from __future__ import annotations

from genesis_sql.server.v1 import ask, fit, lineage, models, quality, sql

BLUEPRINTS = (models.bp, sql.bp, ask.bp, fit.bp, quality.bp, lineage.bp)
