-- Fails on any row that breaks the pushed condition.
SELECT * FROM {{ ref('older_california_workers') }} WHERE NOT (age > 50 AND state = 93)
