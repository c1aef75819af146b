SELECT count(*) AS n FROM {{ ref('young_women_view') }} HAVING count(*) <> 500
