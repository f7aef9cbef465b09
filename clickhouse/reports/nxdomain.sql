-- `dnslens report nxdomain` (src/reports/nxdomain.ts): NXDOMAIN answers per apex domain (the seed
-- guide's 5.4) and per client: queries, NXDOMAIN responses and their share of the queries.
-- {{where}}: the window and filters; {{client_key}}: the client address or prefix (--by);
-- {{table}}: a client rollup; parameter limit.

-- name: share
nxdomain / nullIf(queries, 0) AS share

-- name: apexes_log
SELECT Apex AS apex, countIf(QR = 0) AS queries, countIf(QR = 1 AND ResponseCode = 3) AS nxdomain, {{share}}
FROM DNS_LOG
WHERE {{where}}
GROUP BY Apex
HAVING nxdomain > 0
ORDER BY nxdomain DESC, apex
LIMIT {limit:UInt32}

-- name: apexes_day
SELECT Apex AS apex, sum(Queries) AS queries, sum(NXDomain) AS nxdomain, {{share}}
FROM dns_domain_day
WHERE {{where}}
GROUP BY Apex
HAVING nxdomain > 0
ORDER BY nxdomain DESC, apex
LIMIT {limit:UInt32}

-- name: clients_log
SELECT {{client_key}} AS client, countIf(QR = 0) AS queries, countIf(QR = 1 AND ResponseCode = 3) AS nxdomain, {{share}}
FROM DNS_LOG
WHERE {{where}}
GROUP BY client
HAVING nxdomain > 0
ORDER BY nxdomain DESC, client
LIMIT {limit:UInt32}

-- name: clients_rollup
SELECT {{client_prefix}} AS client, sum(Queries) AS queries, sum(NXDomain) AS nxdomain, {{share}}
FROM {{table}}
WHERE {{where}}
GROUP BY client
HAVING nxdomain > 0
ORDER BY nxdomain DESC, client
LIMIT {limit:UInt32}
