-- depends_on: {{ ref('workers_model') }}
-- A view works too: each read generates again, the same rows for the same seed.
{{ config(materialized='view') }}
SELECT age, sex, married, tenure FROM genesis_generate('workers', 500, seed := 2)
WHERE sex = 'female' AND age BETWEEN 20 AND 29
