-- "Why does the internet feel slow when speed tests look fine?" Response-time percentiles and the
-- share of unanswered queries per hour and DNS server, read from the per-minute latency rollup
-- (migration 0009; needs query/response matching, on by default). Percentiles come from the
-- quarter-octave histogram: bucket b holds 2^(b/4) .. 2^((b+1)/4) µs and stands for its geometric
-- middle, so each figure is within about 9% of the exact one. For a client view, read
-- dns_latency_clients_minute and group by ClientIPv4, ClientIPv6 instead.
SELECT
    Hour,
    DnsServer,
    any(n_answered) AS answered,
    any(n_unanswered) AS unanswered,
    round(100 * any(n_unanswered) / (any(n_answered) + any(n_unanswered)), 2) AS unanswered_pct,
    round(any(sum_us) / greatest(any(n_answered), 1) / 1000, 2) AS mean_ms,
    arrayMap(x -> round(x / 1000, 2), quantilesExactWeighted(0.5, 0.95, 0.99)(pow(2, (b + 0.5) / 4), c)) AS p50_p95_p99_ms
FROM
(
    SELECT
        toStartOfHour(Time) AS Hour,
        if(ServerIPv6 = toIPv6('::'), IPv4NumToString(ServerIPv4), IPv6NumToString(ServerIPv6)) AS DnsServer,
        sum(Answered) AS n_answered,
        sum(Unanswered) AS n_unanswered,
        sum(LatencySumUs) AS sum_us,
        sumMap(LatencyBuckets) AS buckets
    FROM dns_latency_minute
    WHERE Time >= (SELECT max(Time) FROM dns_latency_minute) - INTERVAL 1 DAY
    GROUP BY Hour, DnsServer
)
LEFT ARRAY JOIN mapKeys(buckets) AS b, mapValues(buckets) AS c
GROUP BY Hour, DnsServer
ORDER BY Hour, answered + unanswered DESC
