-- `dnslens report clients` (src/reports/clients.ts): the busiest clients, as stored (masked as
-- the capture was told to) or cut to the client rollups' prefixes (--by prefix): queries, their
-- share, responses, NXDOMAIN, SERVFAIL and REFUSED. {{where}}: the window and filters;
-- {{client_key}}: the address or prefix; {{table}}: a client rollup; parameter limit.

-- name: log
SELECT {{client_key}} AS client, countIf(QR = 0) AS queries, queries / sum(queries) OVER () AS share, countIf(QR = 1) AS responses,
       countIf(QR = 1 AND ResponseCode = 3) AS nxdomain, countIf(QR = 1 AND ResponseCode = 2) AS servfail, countIf(QR = 1 AND ResponseCode = 5) AS refused
FROM DNS_LOG
WHERE {{where}}
GROUP BY client
ORDER BY queries DESC, responses DESC, client
LIMIT {limit:UInt32}

-- name: rollup
SELECT {{client_prefix}} AS client, sum(Queries) AS queries, queries / sum(queries) OVER () AS share, sum(Responses) AS responses,
       sum(NXDomain) AS nxdomain, sum(ServFail) AS servfail, sum(Refused) AS refused
FROM {{table}}
WHERE {{where}}
GROUP BY client
ORDER BY queries DESC, responses DESC, client
LIMIT {limit:UInt32}
