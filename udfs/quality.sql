-- genesis_evaluate(model, real_sql, n, target, holdout_sql): evaluate a model against real rows, store the
-- run in genesis.quality_runs / genesis.quality_metrics and return its run id. Named parameters live in
-- this macro because Python UDFs cannot have them.
CREATE OR REPLACE MACRO genesis_evaluate(model, real_sql, n := NULL, target := NULL, holdout_sql := NULL) AS
    genesis_evaluate_impl(model, real_sql, n, target, holdout_sql);
