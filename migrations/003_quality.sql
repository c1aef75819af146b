-- Quality metrics keep the order the evaluator produced them in (the model's column order, then pairs),
-- so that reports and the dashboard list columns the way the model has them.
ALTER TABLE genesis.quality_metrics ADD COLUMN position INTEGER;
