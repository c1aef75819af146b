-- Fits (or keeps) the genesis model `workers` on the seeded real rows. skip_unchanged: a second
-- `dbt run` over the same rows keeps the stored version instead of adding one.
{{ config(materialized='table') }}
SELECT genesis_fit('workers', 'SELECT * FROM {{ ref("benefits") }}',
                   options := '{"skip_unchanged": true}') AS fit_summary
