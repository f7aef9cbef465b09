-- `dnslens report categories` (src/reports/categories.ts): queries per domain category, with the
-- number of apex domains queried in each (the seed guide's 5.2). {{where}}: the window and
-- filters; {{table}}: dns_apex_hour; parameter limit.

-- name: log
SELECT {{category}} AS category, uniqExact(Apex) AS domains, count() AS queries, queries / sum(queries) OVER () AS share
FROM DNS_LOG
WHERE {{where}} AND QR = 0
GROUP BY category
ORDER BY queries DESC, category
LIMIT {limit:UInt32}

-- Rows whose queries are 0 hold responses only.
-- name: rollup
SELECT {{category}} AS category, uniqExact(Apex) AS domains, sum(Queries) AS queries, queries / sum(queries) OVER () AS share
FROM {{table}}
WHERE {{where}} AND Queries > 0
GROUP BY category
ORDER BY queries DESC, category
LIMIT {limit:UInt32}

-- dns_apex_week's queries per day (DayQueries, days in the store's zone), for the days of the window.
-- name: week
SELECT {{category}} AS category, uniqExact(Apex) AS domains, sum(DayCount) AS queries, queries / sum(queries) OVER () AS share
FROM dns_apex_week ARRAY JOIN mapKeys(DayQueries) AS Day, mapValues(DayQueries) AS DayCount
WHERE {{where}} AND DayCount > 0
GROUP BY category
ORDER BY queries DESC, category
LIMIT {limit:UInt32}
