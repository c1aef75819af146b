-- genesis_generate: n synthetic rows of a model. The planner validates every argument while DuckDB binds
-- the query (so count(*) and EXPLAIN fail like SELECT *) and returns the SQL that scans the model's rows.
-- {python:NAME} is the Python function behind a macro; install() writes its name, which tells a process
-- that never installed genesis what to do (DuckDB's message for a missing function names it).
CREATE OR REPLACE MACRO genesis_generate(model, n, seed := NULL, condition := NULL) AS TABLE
    FROM query({python:genesis_plan}(CAST(model AS VARCHAR), CAST(n AS VARCHAR), CAST(seed AS VARCHAR),
                                     CAST(condition AS VARCHAR)));

-- genesis_fit: fit and register a model (a new version when the name exists); returns a summary line.
CREATE OR REPLACE MACRO genesis_fit(model, source_sql, method := 'auto', seed := 0, options := NULL) AS
    {python:genesis_fit}(CAST(model AS VARCHAR), CAST(source_sql AS VARCHAR), CAST(method AS VARCHAR),
                         CAST(seed AS VARCHAR), CAST(options AS VARCHAR));

-- genesis_drop: removes a model (all versions, or 'm@N' one version); returns what it dropped.
CREATE OR REPLACE MACRO genesis_drop(model) AS {python:genesis_drop}(CAST(model AS VARCHAR));

-- genesis_last_seed: the seed drawn for the latest request with seed := NULL.
CREATE OR REPLACE MACRO genesis_last_seed() AS {python:genesis_last_seed}();
