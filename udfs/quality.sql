-- genesis_evaluate(model, real_sql, n, target, holdout_sql): evaluate a model against real rows, store the
-- run in genesis.quality_runs / genesis.quality_metrics and return its run id. Named parameters live in
-- this macro because Python UDFs cannot have them; every argument travels as text (NULL included) and is
-- validated in Python, so a bad n is a GenesisError rather than a cast error.
CREATE OR REPLACE MACRO genesis_evaluate(model, real_sql, n := NULL, target := NULL, holdout_sql := NULL) AS
    {python:genesis_evaluate}(CAST(model AS VARCHAR), CAST(real_sql AS VARCHAR), CAST(n AS VARCHAR),
                          CAST(target AS VARCHAR), CAST(holdout_sql AS VARCHAR));
