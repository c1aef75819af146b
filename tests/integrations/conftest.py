"""Integration tests use the dialect through its entry point; a checkout that was not reinstalled since
the entry point was added registers it the same way the entry point does."""
from sqlalchemy.dialects import registry

registry.register("duckdb.genesis", "genesis_sql.integrations.sqlalchemy", "GenesisDialect")
