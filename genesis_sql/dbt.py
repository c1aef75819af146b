"""The dbt-duckdb plugin module named in profiles (``plugins: [{module: genesis_sql.dbt}]``)."""
from genesis_sql.integrations.dbt.plugin import Plugin

__all__ = ["Plugin"]
