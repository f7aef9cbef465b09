-- `dnslens report top` (src/reports/top.ts): the most queried apex domains, or names, with their
-- share of all queries, queries per day (over the days they were queried), category, provider and
-- cache priority: the seed guide's 5.1. One section per table that can answer (src/reports/named.ts
-- picks it). {{where}}: the window and filters; {{domain_key}}: Apex or Question (--by);
-- parameters tz (the report's zone) and limit.

-- name: labels
{{category}} AS category, {{provider}} AS provider, {{cache_priority}} AS cache_priority

-- name: log
SELECT {{domain_key}} AS domain, count() AS queries, queries / sum(queries) OVER () AS share,
       queries / uniqExact(toDate(PacketTime, {tz:String})) AS per_day, {{labels}}
FROM DNS_LOG
WHERE {{where}} AND QR = 0
GROUP BY {{domain_key}}, Apex
ORDER BY queries DESC, domain
LIMIT {limit:UInt32}

-- Rows whose queries are 0 hold responses only.
-- name: day
SELECT {{domain_key}} AS domain, sum(Queries) AS queries, queries / sum(queries) OVER () AS share,
       queries / uniqExact(Day) AS per_day, {{labels}}
FROM dns_domain_day
WHERE {{where}} AND Queries > 0
GROUP BY {{domain_key}}, Apex
ORDER BY queries DESC, domain
LIMIT {limit:UInt32}

-- dns_apex_week's queries per day (DayQueries, days in the store's zone), for the days of the window.
-- name: week
SELECT Apex AS domain, sum(DayCount) AS queries, queries / sum(queries) OVER () AS share,
       queries / uniqExact(Day) AS per_day, {{labels}}
FROM dns_apex_week ARRAY JOIN mapKeys(DayQueries) AS Day, mapValues(DayQueries) AS DayCount
WHERE {{where}} AND DayCount > 0
GROUP BY Apex
ORDER BY queries DESC, domain
LIMIT {limit:UInt32}

-- name: hour
SELECT Apex AS domain, sum(Queries) AS queries, queries / sum(queries) OVER () AS share,
       queries / uniqExact(toDate(Time, {tz:String})) AS per_day, {{labels}}
FROM dns_apex_hour
WHERE {{where}}
GROUP BY Apex
ORDER BY queries DESC, domain
LIMIT {limit:UInt32}
