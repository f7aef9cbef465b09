-- Apex domains with the highest NXDOMAIN share over the last 7 days of data (the seed guide's 5.4).
-- The guide keeps only domains with more than 10 failures; lower the threshold for small captures.
SELECT
    apex_domain,
    sum(hit_count) AS total,
    sum(nxdomain_count) AS failures,
    round(failures * 100 / nullIf(total, 0), 1) AS fail_pct
FROM dns_daily_stats
WHERE stat_date > (SELECT max(stat_date) FROM dns_daily_stats) - 7 AND nxdomain_count > 0
GROUP BY apex_domain
HAVING failures > 10
ORDER BY fail_pct DESC, failures DESC
LIMIT 30
