-- Rollups, second form (issue #12): every view moves to clickhouse/views.sql, which is applied again
-- whenever it or its placeholders (--timezone, the client prefixes) change, with the rollups rebuilt
-- for what DNS_LOG still holds (src/store/views.ts). Here: the views of 0003-0011 are dropped (the
-- tables keep their rows), the per-client latency family (dns_latency_clients_*, 0009) joins the
-- per-client family (dns_clients_*, 0005), which has the same key, and the monthly apex rows lose
-- their client sketch.
DROP VIEW IF EXISTS {{database}}.dns_apex_hour_mv;
DROP VIEW IF EXISTS {{database}}.dns_apex_month_mv;
DROP VIEW IF EXISTS {{database}}.dns_apex_week_mv;
DROP VIEW IF EXISTS {{database}}.dns_clients_day_mv;
DROP VIEW IF EXISTS {{database}}.dns_clients_hour_mv;
DROP VIEW IF EXISTS {{database}}.dns_clients_minute_mv;
DROP VIEW IF EXISTS {{database}}.dns_clients_month_mv;
DROP VIEW IF EXISTS {{database}}.dns_clients_week_mv;
DROP VIEW IF EXISTS {{database}}.dns_domain_day_mv;
DROP VIEW IF EXISTS {{database}}.dns_latency_clients_day_mv;
DROP VIEW IF EXISTS {{database}}.dns_latency_clients_hour_mv;
DROP VIEW IF EXISTS {{database}}.dns_latency_clients_minute_mv;
DROP VIEW IF EXISTS {{database}}.dns_latency_day_mv;
DROP VIEW IF EXISTS {{database}}.dns_latency_hour_mv;
DROP VIEW IF EXISTS {{database}}.dns_latency_minute_mv;
DROP VIEW IF EXISTS {{database}}.dns_name_hour_stage_mv;
DROP VIEW IF EXISTS {{database}}.dns_names_day_mv;
DROP VIEW IF EXISTS {{database}}.dns_names_hour_mv;
DROP VIEW IF EXISTS {{database}}.dns_names_minute_mv;
DROP VIEW IF EXISTS {{database}}.dns_names_month_mv;
DROP VIEW IF EXISTS {{database}}.dns_names_week_mv;
DROP VIEW IF EXISTS {{database}}.dns_traffic_day_mv;
DROP VIEW IF EXISTS {{database}}.dns_traffic_hour_mv;
DROP VIEW IF EXISTS {{database}}.dns_traffic_minute_mv;
DROP VIEW IF EXISTS {{database}}.dns_traffic_month_mv;
DROP VIEW IF EXISTS {{database}}.dns_traffic_week_mv;
DROP VIEW IF EXISTS {{database}}.dns_daily_stats;
DROP VIEW IF EXISTS {{database}}.dns_weekly_stats;
DROP VIEW IF EXISTS {{database}}.dns_monthly_stats;
DROP VIEW IF EXISTS {{database}}.dns_hourly_heatmap;

-- The latency columns of dns_latency_clients_* (0009), on dns_clients_*.
ALTER TABLE {{database}}.dns_clients_minute
    ADD COLUMN IF NOT EXISTS Answered SimpleAggregateFunction(sum, UInt64) DEFAULT 0 CODEC(T64, ZSTD(3)) AFTER Refused,
    ADD COLUMN IF NOT EXISTS Unanswered SimpleAggregateFunction(sum, UInt64) DEFAULT 0 CODEC(T64, ZSTD(3)) AFTER Answered,
    ADD COLUMN IF NOT EXISTS LatencySumUs SimpleAggregateFunction(sum, UInt64) DEFAULT 0 CODEC(T64, ZSTD(3)) AFTER Unanswered,
    ADD COLUMN IF NOT EXISTS LatencyBuckets SimpleAggregateFunction(sumMap, Map(UInt8, UInt64)) CODEC(ZSTD(3)) AFTER LatencySumUs;

ALTER TABLE {{database}}.dns_clients_hour
    ADD COLUMN IF NOT EXISTS Answered SimpleAggregateFunction(sum, UInt64) DEFAULT 0 CODEC(T64, ZSTD(3)) AFTER Refused,
    ADD COLUMN IF NOT EXISTS Unanswered SimpleAggregateFunction(sum, UInt64) DEFAULT 0 CODEC(T64, ZSTD(3)) AFTER Answered,
    ADD COLUMN IF NOT EXISTS LatencySumUs SimpleAggregateFunction(sum, UInt64) DEFAULT 0 CODEC(T64, ZSTD(3)) AFTER Unanswered,
    ADD COLUMN IF NOT EXISTS LatencyBuckets SimpleAggregateFunction(sumMap, Map(UInt8, UInt64)) CODEC(ZSTD(3)) AFTER LatencySumUs;

ALTER TABLE {{database}}.dns_clients_day
    ADD COLUMN IF NOT EXISTS Answered SimpleAggregateFunction(sum, UInt64) DEFAULT 0 CODEC(T64, ZSTD(3)) AFTER Refused,
    ADD COLUMN IF NOT EXISTS Unanswered SimpleAggregateFunction(sum, UInt64) DEFAULT 0 CODEC(T64, ZSTD(3)) AFTER Answered,
    ADD COLUMN IF NOT EXISTS LatencySumUs SimpleAggregateFunction(sum, UInt64) DEFAULT 0 CODEC(T64, ZSTD(3)) AFTER Unanswered,
    ADD COLUMN IF NOT EXISTS LatencyBuckets SimpleAggregateFunction(sumMap, Map(UInt8, UInt64)) CODEC(ZSTD(3)) AFTER LatencySumUs;

ALTER TABLE {{database}}.dns_clients_week
    ADD COLUMN IF NOT EXISTS Answered SimpleAggregateFunction(sum, UInt64) DEFAULT 0 CODEC(T64, ZSTD(3)) AFTER Refused,
    ADD COLUMN IF NOT EXISTS Unanswered SimpleAggregateFunction(sum, UInt64) DEFAULT 0 CODEC(T64, ZSTD(3)) AFTER Answered,
    ADD COLUMN IF NOT EXISTS LatencySumUs SimpleAggregateFunction(sum, UInt64) DEFAULT 0 CODEC(T64, ZSTD(3)) AFTER Unanswered,
    ADD COLUMN IF NOT EXISTS LatencyBuckets SimpleAggregateFunction(sumMap, Map(UInt8, UInt64)) CODEC(ZSTD(3)) AFTER LatencySumUs;

ALTER TABLE {{database}}.dns_clients_month
    ADD COLUMN IF NOT EXISTS Answered SimpleAggregateFunction(sum, UInt64) DEFAULT 0 CODEC(T64, ZSTD(3)) AFTER Refused,
    ADD COLUMN IF NOT EXISTS Unanswered SimpleAggregateFunction(sum, UInt64) DEFAULT 0 CODEC(T64, ZSTD(3)) AFTER Answered,
    ADD COLUMN IF NOT EXISTS LatencySumUs SimpleAggregateFunction(sum, UInt64) DEFAULT 0 CODEC(T64, ZSTD(3)) AFTER Unanswered,
    ADD COLUMN IF NOT EXISTS LatencyBuckets SimpleAggregateFunction(sumMap, Map(UInt8, UInt64)) CODEC(ZSTD(3)) AFTER LatencySumUs;

-- Their rows, once: the guard makes a re-run after a failure half way add nothing twice.
INSERT INTO {{database}}.dns_clients_minute (Time, Server, ClientIPv4, ClientIPv6, Answered, Unanswered, LatencySumUs, LatencyBuckets, IndexTime)
SELECT Time, Server, ClientIPv4, ClientIPv6, Answered, Unanswered, LatencySumUs, LatencyBuckets, IndexTime
FROM {{database}}.dns_latency_clients_minute
WHERE (SELECT count() FROM {{database}}.dns_clients_minute WHERE Answered > 0 OR Unanswered > 0) = 0;

INSERT INTO {{database}}.dns_clients_hour (Time, Server, ClientIPv4, ClientIPv6, Answered, Unanswered, LatencySumUs, LatencyBuckets, IndexTime)
SELECT Time, Server, ClientIPv4, ClientIPv6, Answered, Unanswered, LatencySumUs, LatencyBuckets, IndexTime
FROM {{database}}.dns_latency_clients_hour
WHERE (SELECT count() FROM {{database}}.dns_clients_hour WHERE Answered > 0 OR Unanswered > 0) = 0;

INSERT INTO {{database}}.dns_clients_day (Time, Server, ClientIPv4, ClientIPv6, Answered, Unanswered, LatencySumUs, LatencyBuckets, IndexTime)
SELECT Time, Server, ClientIPv4, ClientIPv6, Answered, Unanswered, LatencySumUs, LatencyBuckets, IndexTime
FROM {{database}}.dns_latency_clients_day
WHERE (SELECT count() FROM {{database}}.dns_clients_day WHERE Answered > 0 OR Unanswered > 0) = 0;
