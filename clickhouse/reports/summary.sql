-- The end-of-run report and `dnslens report` (src/reports/summary.ts), over DNS_LOG.
-- Parameters (bound, never pasted into the SQL): since and until, the PacketTime range
-- [since, until) in UTC, each NULL for an open end; top, rows in each top list.
-- {{qtype}}, {{rcode}}, {{category}}, {{server}}: expressions from names.sql.

-- name: totals
SELECT count() AS messages, countIf(QR = 0) AS queries, countIf(QR = 1) AS responses,
       uniqExact(Question) AS domains, uniqExact(ClientIP) AS clients,
       toString(min(PacketTime)) AS first, toString(max(PacketTime)) AS last,
       dateDiff('microsecond', min(PacketTime), max(PacketTime)) / 1e6 AS span
FROM DNS_LOG
WHERE ({since:Nullable(DateTime64(6, 'UTC'))} IS NULL OR PacketTime >= {since:Nullable(DateTime64(6, 'UTC'))}) AND ({until:Nullable(DateTime64(6, 'UTC'))} IS NULL OR PacketTime < {until:Nullable(DateTime64(6, 'UTC'))})

-- name: domains
SELECT Question AS domain, count() AS messages, countIf(QR = 0) AS queries, countIf(QR = 1) AS responses
FROM DNS_LOG
WHERE ({since:Nullable(DateTime64(6, 'UTC'))} IS NULL OR PacketTime >= {since:Nullable(DateTime64(6, 'UTC'))}) AND ({until:Nullable(DateTime64(6, 'UTC'))} IS NULL OR PacketTime < {until:Nullable(DateTime64(6, 'UTC'))})
GROUP BY Question ORDER BY messages DESC, domain LIMIT {top:UInt32}

-- name: apexes
SELECT Apex AS apex, {{category}} AS category, count() AS messages, uniqExact(Question) AS names
FROM DNS_LOG
WHERE ({since:Nullable(DateTime64(6, 'UTC'))} IS NULL OR PacketTime >= {since:Nullable(DateTime64(6, 'UTC'))}) AND ({until:Nullable(DateTime64(6, 'UTC'))} IS NULL OR PacketTime < {until:Nullable(DateTime64(6, 'UTC'))})
GROUP BY Apex ORDER BY messages DESC, apex LIMIT {top:UInt32}

-- name: rcodes
SELECT {{rcode}} AS rcode, count() AS responses
FROM DNS_LOG
WHERE ({since:Nullable(DateTime64(6, 'UTC'))} IS NULL OR PacketTime >= {since:Nullable(DateTime64(6, 'UTC'))}) AND ({until:Nullable(DateTime64(6, 'UTC'))} IS NULL OR PacketTime < {until:Nullable(DateTime64(6, 'UTC'))}) AND QR = 1
GROUP BY ResponseCode ORDER BY responses DESC, ResponseCode

-- name: qtypes
SELECT {{qtype}} AS qtype, count() AS messages, countIf(QR = 0) AS queries
FROM DNS_LOG
WHERE ({since:Nullable(DateTime64(6, 'UTC'))} IS NULL OR PacketTime >= {since:Nullable(DateTime64(6, 'UTC'))}) AND ({until:Nullable(DateTime64(6, 'UTC'))} IS NULL OR PacketTime < {until:Nullable(DateTime64(6, 'UTC'))})
GROUP BY Type ORDER BY messages DESC, Type LIMIT {top:UInt32}

-- Response times of matched pairs, and unanswered queries (query/response matching).
-- name: latency
SELECT countIf(QR = 1) AS answered, countIf(QR = 0) AS unanswered,
       quantilesIf(0.5, 0.95, 0.99)(ResponseTimeUs, QR = 1) AS q
FROM DNS_LOG
WHERE ({since:Nullable(DateTime64(6, 'UTC'))} IS NULL OR PacketTime >= {since:Nullable(DateTime64(6, 'UTC'))}) AND ({until:Nullable(DateTime64(6, 'UTC'))} IS NULL OR PacketTime < {until:Nullable(DateTime64(6, 'UTC'))})
  AND ((QR = 1 AND ResponseTimeUs IS NOT NULL) OR (QR = 0 AND Unanswered = 1))

-- name: latency_by_server
SELECT {{server}} AS server, countIf(QR = 1) AS answered, countIf(QR = 0) AS unanswered,
       quantilesIf(0.5, 0.95, 0.99)(ResponseTimeUs, QR = 1) AS q
FROM DNS_LOG
WHERE ({since:Nullable(DateTime64(6, 'UTC'))} IS NULL OR PacketTime >= {since:Nullable(DateTime64(6, 'UTC'))}) AND ({until:Nullable(DateTime64(6, 'UTC'))} IS NULL OR PacketTime < {until:Nullable(DateTime64(6, 'UTC'))})
  AND ((QR = 1 AND ResponseTimeUs IS NOT NULL) OR (QR = 0 AND Unanswered = 1))
GROUP BY server ORDER BY answered + unanswered DESC, server LIMIT {top:UInt32}
