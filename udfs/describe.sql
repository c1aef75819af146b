-- genesis_describe(model): one row per column of a model (latest version, or 'm@N'): name, sql_type, kind,
-- null_share, min, max, values (top 50 with shares), other_values, labels, description, unit, rules, pii (the
-- PII style of a personal column, generated as Faker fakes and never copied; NULL for other columns).
CREATE OR REPLACE MACRO genesis_describe(model) AS TABLE
    SELECT unnest(genesis_column) FROM (
        SELECT unnest({python:genesis_describe}(CAST(model AS VARCHAR))) AS genesis_column);

-- genesis_label(model, column_name, value, label): a human label for a stored value (93 -> 'California'),
-- kept across refits of the model name; read by genesis_describe and ask.
CREATE OR REPLACE MACRO genesis_label(model, column_name, value, label) AS
    {python:genesis_label}(CAST(model AS VARCHAR), CAST(column_name AS VARCHAR), CAST(value AS VARCHAR),
                           CAST(label AS VARCHAR));
