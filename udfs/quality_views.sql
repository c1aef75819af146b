-- The quality views: what the dashboard and reports read. One row per run, per column, per column pair,
-- per privacy metric, per projected point. Unavailable metrics have value NULL and a reason.

CREATE OR REPLACE VIEW genesis.quality_summary AS
SELECT
    r.run_id,
    r.model,
    r.model_version,
    r.created_at,
    r.n_real,
    r.n_synthetic,
    r.seed,
    r.target,
    r.real_sql,
    r.holdout_sql,
    r.overall,
    (r.scores ->> 'column_shapes')::DOUBLE AS column_shapes,
    (r.scores ->> 'column_pair_trends')::DOUBLE AS column_pair_trends,
    (r.scores ->> 'missing_values')::DOUBLE AS missing_values,
    (r.scores ->> 'coverage')::DOUBLE AS coverage,
    (r.scores ->> 'detection')::DOUBLE AS detection,
    (d.detail ->> 'auc')::DOUBLE AS detection_auc,
    (r.scores ->> 'utility')::DOUBLE AS utility,
    u.detail ->> 'task' AS utility_task,
    u.detail ->> 'metric' AS utility_metric,
    (u.detail ->> 'tstr')::DOUBLE AS utility_tstr,
    (u.detail ->> 'trtr')::DOUBLE AS utility_trtr,
    u.detail ->> 'reason' AS utility_reason,
    u.detail ->> 'protocol' AS utility_protocol,
    (r.scores ->> 'rules_kept')::DOUBLE AS rules_kept,
    (r.scores ->> 'exact_copy_rate')::DOUBLE AS exact_copy_rate,
    (r.scores ->> 'holdout_copy_rate')::DOUBLE AS holdout_copy_rate,
    (r.scores ->> 'dcr_ratio')::DOUBLE AS dcr_ratio,
    (r.scores ->> 'dcr_overfitting_protection')::DOUBLE AS dcr_overfitting_protection,
    (r.scores ->> 'membership_inference_auc')::DOUBLE AS membership_inference_auc,
    (r.scores ->> 'privacy_passed')::BOOLEAN AS privacy_passed,
    (r.scores ->> 'singling_out_univariate_risk')::DOUBLE AS singling_out_univariate_risk,
    (r.scores ->> 'singling_out_multivariate_risk')::DOUBLE AS singling_out_multivariate_risk,
    (r.scores ->> 'linkability_risk')::DOUBLE AS linkability_risk,
    (r.scores ->> 'inference_risk')::DOUBLE AS inference_risk,
    r.scores ->> 'inference_risk_column' AS inference_risk_column,
    r.scores
FROM genesis.quality_runs AS r
LEFT JOIN genesis.quality_metrics AS d ON d.run_id = r.run_id AND d.category = 'detection'
LEFT JOIN genesis.quality_metrics AS u ON u.run_id = r.run_id AND u.category = 'utility';

CREATE OR REPLACE VIEW genesis.quality_columns AS
SELECT
    s.run_id,
    r.model,
    r.model_version,
    s.position,
    s.column_1 AS column_name,
    s.metric AS shape_metric,
    s.value AS shape,
    s.available,
    s.detail ->> 'reason' AS reason,
    m.value AS missing_value_similarity,
    (m.detail ->> 'real_rate')::DOUBLE AS real_null_rate,
    (m.detail ->> 'synthetic_rate')::DOUBLE AS synthetic_null_rate,
    c.metric AS coverage_metric,
    c.value AS coverage,
    s.detail -> 'distribution' AS distribution
FROM genesis.quality_metrics AS s
JOIN genesis.quality_runs AS r ON r.run_id = s.run_id
LEFT JOIN genesis.quality_metrics AS m
    ON m.run_id = s.run_id AND m.category = 'missing_values' AND m.column_1 = s.column_1
LEFT JOIN genesis.quality_metrics AS c
    ON c.run_id = s.run_id AND c.category = 'coverage' AND c.column_1 = s.column_1
WHERE s.category = 'column_shape';

CREATE OR REPLACE VIEW genesis.quality_pairs AS
SELECT
    p.run_id,
    r.model,
    r.model_version,
    p.position,
    p.column_1,
    p.column_2,
    p.metric,
    p.value AS score,
    p.available,
    p.detail ->> 'reason' AS reason,
    p.detail ->> 'statistic' AS statistic,
    (p.detail ->> 'real')::DOUBLE AS real_value,
    (p.detail ->> 'synthetic')::DOUBLE AS synthetic_value,
    (p.detail ->> 'meets_threshold')::BOOLEAN AS meets_threshold
FROM genesis.quality_metrics AS p
JOIN genesis.quality_runs AS r ON r.run_id = p.run_id
WHERE p.category = 'column_pair';

CREATE OR REPLACE VIEW genesis.quality_privacy AS
SELECT
    p.run_id,
    r.model,
    r.model_version,
    p.position,
    p.metric,
    p.column_1 AS column_name,
    p.value,
    p.available,
    p.detail ->> 'reason' AS reason,
    p.detail
FROM genesis.quality_metrics AS p
JOIN genesis.quality_runs AS r ON r.run_id = p.run_id
WHERE p.category = 'privacy';

-- Attack-based risks (Anonymeter's singling out, linkability and inference), one row per attack (inference: per
-- secret column): the risk and its confidence interval; the same attack's success rate on the training rows and
-- on the holdout rows (the holdout baseline; NULL without a holdout, and the risk is then the attack's rate);
-- blind guessing's rate; the counts.
CREATE OR REPLACE VIEW genesis.quality_risks AS
SELECT
    k.run_id,
    r.model,
    r.model_version,
    k.position,
    regexp_replace(k.metric, '_risk$', '') AS attack,
    k.column_1 AS secret_column,
    k.value AS risk,
    (k.detail ->> 'risk_low')::DOUBLE AS risk_low,
    (k.detail ->> 'risk_high')::DOUBLE AS risk_high,
    (k.detail ->> 'confidence')::DOUBLE AS confidence,
    (k.detail ->> 'relative_to_holdout')::BOOLEAN AS relative_to_holdout,
    (k.detail ->> 'attack_rate')::DOUBLE AS attack_rate,
    (k.detail ->> 'attack_rate_low')::DOUBLE AS attack_rate_low,
    (k.detail ->> 'attack_rate_high')::DOUBLE AS attack_rate_high,
    (k.detail ->> 'holdout_rate')::DOUBLE AS holdout_rate,
    (k.detail ->> 'holdout_rate_low')::DOUBLE AS holdout_rate_low,
    (k.detail ->> 'holdout_rate_high')::DOUBLE AS holdout_rate_high,
    (k.detail ->> 'random_rate')::DOUBLE AS random_rate,
    (k.detail ->> 'attacks')::INTEGER AS attacks,
    (k.detail ->> 'successes')::INTEGER AS successes,
    (k.detail ->> 'holdout_attacks')::INTEGER AS holdout_attacks,
    (k.detail ->> 'holdout_successes')::INTEGER AS holdout_successes,
    k.available,
    k.detail ->> 'reason' AS reason,
    k.detail ->> 'holdout_reason' AS holdout_reason,
    k.detail ->> 'warning' AS warning,
    k.detail
FROM genesis.quality_metrics AS k
JOIN genesis.quality_runs AS r ON r.run_id = k.run_id
WHERE k.category = 'privacy'
  AND k.metric IN ('singling_out_univariate_risk', 'singling_out_multivariate_risk', 'linkability_risk',
                   'inference_risk');

-- The stored sample of the PCA projection (components fitted on the real rows), one row per point.
CREATE OR REPLACE VIEW genesis.quality_projection AS
SELECT run_id, source, point[1] AS x, point[2] AS y, explained_variance
FROM (
    SELECT run_id, 'real' AS source, unnest((detail -> 'real')::DOUBLE[][]) AS point,
           (detail -> 'explained_variance')::DOUBLE[] AS explained_variance
    FROM genesis.quality_metrics WHERE category = 'projection'
    UNION ALL
    SELECT run_id, 'synthetic' AS source, unnest((detail -> 'synthetic')::DOUBLE[][]) AS point,
           (detail -> 'explained_variance')::DOUBLE[] AS explained_variance
    FROM genesis.quality_metrics WHERE category = 'projection'
);

-- Rules kept: per relation that holds in every real row (an order, equality, offset, sum or function of a
-- code), the share of synthetic rows that keep it; the summary's rules_kept is the lowest share.
CREATE OR REPLACE VIEW genesis.quality_rules AS
SELECT
    k.run_id,
    r.model,
    r.model_version,
    k.column_1 AS rule,
    k.column_2 AS kind,
    k.value AS kept,
    k.detail -> 'columns' AS columns
FROM genesis.quality_metrics AS k
JOIN genesis.quality_runs AS r ON r.run_id = k.run_id
WHERE k.category = 'rules';
