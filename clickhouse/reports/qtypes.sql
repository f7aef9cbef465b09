-- `dnslens report qtypes` (src/reports/qtypes.ts): messages per query type, queries and responses
-- among them, and each type's share of the messages. {{where}}: the window and filters;
-- {{table}}: a traffic rollup; parameter limit.

-- name: log
SELECT {{qtype}} AS qtype, count() AS messages, countIf(QR = 0) AS queries, countIf(QR = 1) AS responses, messages / sum(messages) OVER () AS share
FROM DNS_LOG
WHERE {{where}}
GROUP BY Type
ORDER BY messages DESC, Type
LIMIT {limit:UInt32}

-- name: rollup
SELECT {{qtype}} AS qtype, sum(Messages) AS messages, sumIf(Messages, QR = 0) AS queries, sumIf(Messages, QR = 1) AS responses, messages / sum(messages) OVER () AS share
FROM {{table}}
WHERE {{where}}
GROUP BY Type
ORDER BY messages DESC, Type
LIMIT {limit:UInt32}
