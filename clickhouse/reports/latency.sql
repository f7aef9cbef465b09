-- `dnslens report latency` (src/reports/latency.ts): response times of queries paired with their
-- responses, and unanswered queries: in all, per DNS server address, per client (prefix) and the
-- slowest names. Percentiles come from the rollups' quarter-octave histogram on every path (bucket
-- b stands for 2^((b + 0.5) / 4) µs, within about 9% of the exact figure), so DNS_LOG and the
-- rollups give the same numbers. {{where}}: the window and filters; {{table}}: a latency or client
-- rollup; {{client_key}}: the client address or prefix (--by); parameter limit.

-- Over DNS_LOG rows that are matched responses or unanswered queries ({{matched}}).
-- name: measures_log
countIf(QR = 1) AS answered, countIf(QR = 0) AS unanswered,
quantilesExactWeightedIf(0.5, 0.95, 0.99)(pow(2, ({{latency_bucket}} + 0.5) / 4), 1, QR = 1) AS q, {{percentiles}}

-- name: measures_rollup
sum(Answered) AS answered, sum(Unanswered) AS unanswered,
quantilesExactWeightedArray(0.5, 0.95, 0.99)(arrayMap(b -> pow(2, (b + 0.5) / 4), mapKeys(LatencyBuckets)), mapValues(LatencyBuckets)) AS q, {{percentiles}}

-- name: percentiles
unanswered / nullIf(answered + unanswered, 0) AS unanswered_share,
if(answered > 0, q[1], NULL) AS p50, if(answered > 0, q[2], NULL) AS p95, if(answered > 0, q[3], NULL) AS p99

-- name: matched
((QR = 1 AND ResponseTimeUs IS NOT NULL) OR (QR = 0 AND Unanswered = 1))

-- name: overall_log
SELECT {{measures_log}}
FROM DNS_LOG
WHERE {{where}} AND {{matched}}

-- name: overall_rollup
SELECT {{measures_rollup}}
FROM {{table}}
WHERE {{where}}

-- name: servers_log
SELECT {{server}} AS server, {{measures_log}}
FROM DNS_LOG
WHERE {{where}} AND {{matched}}
GROUP BY server
ORDER BY answered + unanswered DESC, server
LIMIT {limit:UInt32}

-- name: servers_rollup
SELECT {{server}} AS server, {{measures_rollup}}
FROM {{table}}
WHERE {{where}}
GROUP BY server
ORDER BY answered + unanswered DESC, server
LIMIT {limit:UInt32}

-- name: clients_log
SELECT {{client_key}} AS client, {{measures_log}}
FROM DNS_LOG
WHERE {{where}} AND {{matched}}
GROUP BY client
ORDER BY answered + unanswered DESC, client
LIMIT {limit:UInt32}

-- The client rollups count every message; rows without a matched one are left out.
-- name: clients_rollup
SELECT {{client_prefix}} AS client, {{measures_rollup}}
FROM {{table}}
WHERE {{where}} AND (Answered > 0 OR Unanswered > 0)
GROUP BY client
ORDER BY answered + unanswered DESC, client
LIMIT {limit:UInt32}

-- name: slowest_log
SELECT Question AS domain, {{measures_log}}
FROM DNS_LOG
WHERE {{where}} AND {{matched}}
GROUP BY Question
HAVING answered > 0
ORDER BY p95 DESC, answered DESC, domain
LIMIT {limit:UInt32}
