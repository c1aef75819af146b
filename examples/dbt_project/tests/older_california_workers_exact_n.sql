-- Fails (returns a row) unless the model holds exactly the 1000 rows asked for.
SELECT count(*) AS n FROM {{ ref('older_california_workers') }} HAVING count(*) <> 1000
