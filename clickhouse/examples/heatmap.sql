-- Queries by hour of day (UTC) over the last 7 days of data, with a bar (the seed guide's 5.3).
SELECT
    concat(leftPad(toString(hour_of_day), 2, '0'), ':00') AS hour,
    sum(query_count) AS queries,
    bar(queries, 0, max(queries) OVER (), 40) AS bar
FROM dns_hourly_heatmap
WHERE stat_date > (SELECT max(stat_date) FROM dns_hourly_heatmap) - 7
GROUP BY hour_of_day
ORDER BY hour_of_day
