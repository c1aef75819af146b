-- genesis_models(): one row per stored model version, with its latest quality score when evaluated.
CREATE OR REPLACE MACRO genesis_models() AS TABLE
    SELECT
        m.name,
        m.version,
        m.version = max(m.version) OVER (PARTITION BY m.name) AS is_latest,
        m.method,
        json_array_length(m.columns) AS columns,
        m.training_rows,
        round(m.fit_seconds, 3) AS fit_seconds,
        (SELECT q.overall FROM genesis.quality_runs AS q
          WHERE q.model = m.name AND q.model_version = m.version
          ORDER BY q.created_at DESC LIMIT 1) AS quality,
        m.created_at
    FROM genesis.models AS m
    ORDER BY m.name, m.version;
