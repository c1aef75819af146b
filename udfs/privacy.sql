-- genesis_privacy_budget(): one row per source table (schema.table) that a DP fit spent on or that has a
-- limit: epsilon spent, the limit (10 unless set), what remains, and the number of DP fits.
CREATE OR REPLACE MACRO genesis_privacy_budget() AS TABLE
    WITH spent AS (
        SELECT source, sum(epsilon) AS spent, count(*) AS fits
        FROM genesis.privacy_budget WHERE source IS NOT NULL GROUP BY source)
    SELECT coalesce(s.source, l.source) AS source,
           coalesce(s.spent, 0.0) AS epsilon_spent,
           coalesce(l.epsilon, 10.0) AS epsilon_limit,
           greatest(coalesce(l.epsilon, 10.0) - coalesce(s.spent, 0.0), 0.0) AS epsilon_remaining,
           coalesce(s.fits, 0) AS fits
    FROM spent s FULL OUTER JOIN genesis.privacy_limits l ON s.source = l.source
    ORDER BY 1;

-- genesis_privacy_budget_limit(source, epsilon): the total epsilon DP fits may spend on a source table.
CREATE OR REPLACE MACRO genesis_privacy_budget_limit(source, epsilon) AS
    {python:genesis_privacy_budget_limit}(CAST(source AS VARCHAR), CAST(epsilon AS DOUBLE));
