-- Top 50 apex domains over the last 7 days of data (the seed guide's 5.1), with share, average per day
-- and their category. "Last 7 days" counts back from the newest day stored, so an imported capture works too.
SELECT
    apex_domain,
    dictGetOrDefault('domain_categories', 'Category', apex_domain, 'uncategorised') AS category,
    dictGetOrDefault('domain_categories', 'Provider', apex_domain, '') AS provider,
    dictGetOrDefault('domain_categories', 'CachePriority', apex_domain, toUInt8(5)) AS cache_priority,
    sum(hit_count) AS total_queries,
    round(total_queries * 100 / sum(total_queries) OVER (), 2) AS pct,
    round(total_queries / uniqExact(stat_date), 0) AS avg_per_day
FROM dns_daily_stats
WHERE stat_date > (SELECT max(stat_date) FROM dns_daily_stats) - 7
GROUP BY apex_domain
ORDER BY total_queries DESC
LIMIT 50
