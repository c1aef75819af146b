-- genesis_query: one SELECT (text) run with WHERE pushdown in any connection. the planner checks that
-- the text is one read-only SELECT and rewrites it while DuckDB binds the query, so CREATE TABLE AS, views
-- and CTEs over genesis_query push like a GenesisConnection does.
CREATE OR REPLACE MACRO genesis_query(sql) AS TABLE
    FROM query({python:genesis_query}(CAST(sql AS VARCHAR)));
