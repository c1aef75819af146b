-- genesis_models(): one row per stored model version, with its latest quality score when evaluated
-- and the rules its generated rows keep.
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
        m.created_at,
        -- The rules every generated row keeps (detected or declared) and entity keys, one line each.
        coalesce(CAST(json_extract(m.state, '$.rules.described') AS VARCHAR[]), []) AS rules
    FROM genesis.models AS m
    ORDER BY m.name, m.version;
