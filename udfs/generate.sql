-- genesis_generate: n synthetic rows of a model. genesis_plan validates every argument while DuckDB binds
-- the query (so count(*) and EXPLAIN fail like SELECT *) and returns the SQL that scans the model's rows.
CREATE OR REPLACE MACRO genesis_generate(model, n, seed := NULL, condition := NULL) AS TABLE
    FROM query(genesis_plan(CAST(model AS VARCHAR), CAST(n AS VARCHAR), CAST(seed AS VARCHAR),
                            CAST(condition AS VARCHAR)));

-- genesis_fit: fit and register a model (a new version when the name exists); returns a summary line.
CREATE OR REPLACE MACRO genesis_fit(model, source_sql, method := 'auto', seed := 0, options := NULL) AS
    genesis_fit_impl(CAST(model AS VARCHAR), CAST(source_sql AS VARCHAR), CAST(method AS VARCHAR),
                     CAST(seed AS VARCHAR), CAST(options AS VARCHAR));
