-- The highest version ever given to each model name. A number once given is never given to another
-- model of that name (fit m, fit m, drop m@2, fit m gives m@3), so 'm@2' in lineage, dbt models and saved
-- queries keeps naming what it named. Dropping every version of a name forgets it, as a model registry
-- forgets a deleted model.
CREATE TABLE genesis.model_versions (name VARCHAR PRIMARY KEY, last_version INTEGER NOT NULL);
INSERT INTO genesis.model_versions SELECT name, max(version) FROM genesis.models GROUP BY name;
