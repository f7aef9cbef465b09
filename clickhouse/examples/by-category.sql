-- Queries by domain category over the last 7 days of data (the seed guide's 5.2).
SELECT
    dictGetOrDefault('domain_categories', 'Category', apex_domain, 'uncategorised') AS category,
    uniqExact(apex_domain) AS domains,
    sum(hit_count) AS total_queries,
    round(total_queries * 100 / sum(total_queries) OVER (), 2) AS pct
FROM dns_daily_stats
WHERE stat_date > (SELECT max(stat_date) FROM dns_daily_stats) - 7
GROUP BY category
ORDER BY total_queries DESC
