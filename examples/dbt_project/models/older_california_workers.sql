-- depends_on: {{ ref('workers_model') }}
-- The WHERE is pushed into the generator: 1000 rows, every one over 50 and in California (93).
SELECT * FROM genesis_generate('workers', 1000, seed := 1) WHERE age > 50 AND state = 93
