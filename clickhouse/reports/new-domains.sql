-- `dnslens report new-domains` (src/reports/new-domains.ts): apex domains (or names) seen in the
-- window and not in the look-back before it: read from the look-back's start ({{where}} begins
-- there), kept when first seen at or after {since}. Queries and distinct clients count the window
-- only (a kept domain has no earlier rows). {{domain_key}}: Apex or Question (--by); parameter limit.

-- name: log
SELECT {{domain_key}} AS domain, toString(toDateTime(min(PacketTime))) AS first_seen, countIf(QR = 0) AS queries,
       uniqCombined(12)(ClientIPv4, ClientIPv6) AS clients, {{category}} AS category
FROM DNS_LOG
WHERE {{where}}
GROUP BY {{domain_key}}, Apex
HAVING min(PacketTime) >= {since:DateTime64(6, 'UTC')}
ORDER BY queries DESC, first_seen, domain
LIMIT {limit:UInt32}

-- name: day
SELECT {{domain_key}} AS domain, toString(min(FirstSeen)) AS first_seen, sum(Queries) AS queries,
       uniqCombinedMerge(12)(Clients) AS clients, {{category}} AS category
FROM dns_domain_day
WHERE {{where}}
GROUP BY {{domain_key}}, Apex
HAVING min(FirstSeen) >= {since:DateTime64(6, 'UTC')}
ORDER BY queries DESC, first_seen, domain
LIMIT {limit:UInt32}
