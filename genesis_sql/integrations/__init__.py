"""Integrations with the tools that run SQL for their users: dbt (``genesis_sql.dbt``) and SQLAlchemy
(``duckdb+genesis://`` URLs). Each installs genesis on the connections the tool opens and routes the
tool's statements through the same WHERE pushdown as :func:`genesis_sql.connect`."""
