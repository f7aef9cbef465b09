-- Cluster variant, derived from clickhouse/migrations/0007_report_views.sql: <table>_local is a Replicated table on every
-- node, <table> a Distributed table over it, views read the Distributed tables and materialized
-- views feed the local ones. See clickhouse/README.md, "Cluster".
-- The seed guide's tables under their own names and column names, as views over the rollups, so
-- its chapter 5 queries run nearly unchanged (the guide's INTERVAL arithmetic aside). Views add up
-- all servers; the tables under them keep Server. Times are UTC; weeks start on Monday.
-- Categories and type names come from the dictionaries at read time.

CREATE VIEW IF NOT EXISTS {{database}}.dns_daily_stats ON CLUSTER '{{cluster}}' AS
SELECT
    Day AS stat_date,
    Question AS domain,
    Apex AS apex_domain,
    sum(Queries) AS hit_count,
    uniqCombinedMerge(12)(Clients) AS unique_clients,
    sum(NXDomain) AS nxdomain_count,
    sum(ServFail) AS servfail_count,
    min(FirstSeen) AS first_seen,
    max(LastSeen) AS last_seen,
    -- the guide keys this table by qtype too; here the queries per qtype are a map: {'A': 12, 'AAAA': 7}
    mapApply((t, n) -> (dictGetOrDefault('{{database}}.dns_type', 'Name', toUInt64(t), concat('TYPE', toString(t))), n),
             sumMap(TypeQueries)) AS qtype_hits
FROM {{database}}.dns_domain_day
GROUP BY Day, Question, Apex;

CREATE VIEW IF NOT EXISTS {{database}}.dns_weekly_stats ON CLUSTER '{{cluster}}' AS
SELECT
    Week AS week_start,
    Week + 6 AS week_end,
    Apex AS apex_domain,
    sum(Queries) AS total_queries,
    uniqCombinedMerge(12)(Clients) AS unique_clients,
    sumMap(DayQueries) AS day_queries,
    -- the busiest day; the earlier one on a tie
    arraySort((d, n) -> (-toInt64(n), d), mapKeys(day_queries), mapValues(day_queries))[1] AS peak_day,
    arrayMax(mapValues(day_queries)) AS peak_day_count,
    sum(NXDomain) AS nxdomain_count,
    dictGet('{{database}}.domain_categories', 'Category', Apex) AS category
FROM {{database}}.dns_apex_week
GROUP BY Week, Apex;

CREATE VIEW IF NOT EXISTS {{database}}.dns_monthly_stats ON CLUSTER '{{cluster}}' AS
SELECT
    formatDateTime(Month, '%Y-%m') AS year_month,
    Apex AS apex_domain,
    sum(Queries) AS total_queries,
    uniqCombinedMerge(12)(Clients) AS unique_clients,
    -- over the days of the month on which the apex was queried
    round(total_queries / greatest(1, bitCount(groupBitOr(ActiveDays))), 2) AS avg_daily,
    rank() OVER (PARTITION BY Month ORDER BY sum(Queries) DESC) AS rank_in_month,
    sum(NXDomain) AS nxdomain_count,
    dictGet('{{database}}.domain_categories', 'Category', Apex) AS category
FROM {{database}}.dns_apex_month
GROUP BY Month, Apex;

CREATE VIEW IF NOT EXISTS {{database}}.dns_hourly_heatmap ON CLUSTER '{{cluster}}' AS
SELECT
    toDate(Time) AS stat_date,
    toHour(Time) AS hour_of_day,
    Apex AS apex_domain,
    sum(Queries) AS query_count
FROM {{database}}.dns_apex_hour
GROUP BY stat_date, hour_of_day, apex_domain;
