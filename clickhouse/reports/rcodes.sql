-- `dnslens report rcodes` (src/reports/rcodes.ts): responses per response code and their share.
-- {{where}}: the window and filters; {{table}}: a traffic rollup; parameter limit.

-- name: log
SELECT {{rcode}} AS rcode, count() AS responses, responses / sum(responses) OVER () AS share
FROM DNS_LOG
WHERE {{where}} AND QR = 1
GROUP BY ResponseCode
ORDER BY responses DESC, ResponseCode
LIMIT {limit:UInt32}

-- name: rollup
SELECT {{rcode}} AS rcode, sum(Messages) AS responses, responses / sum(responses) OVER () AS share
FROM {{table}}
WHERE {{where}} AND QR = 1
GROUP BY ResponseCode
ORDER BY responses DESC, ResponseCode
LIMIT {limit:UInt32}
