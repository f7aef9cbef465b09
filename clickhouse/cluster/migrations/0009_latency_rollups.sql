-- Cluster variant, derived from clickhouse/migrations/0009_latency_rollups.sql: <table>_local is a Replicated table on every
-- node, <table> a Distributed table over it, views read the Distributed tables and materialized
-- views feed the local ones. See clickhouse/README.md, "Cluster".
-- Latency and unanswered queries, from query/response matching (src/transforms/match.ts):
-- per minute, hour and day, by DNS server address (dns_latency_*) and by client prefix
-- (dns_latency_clients_*). Answered counts responses that carry a response time; Unanswered counts
-- queries given up after --matchTimeout (both taken from DNS_LOG: a response row at its own time,
-- an unanswered query at the query's time). Unanswered / (Answered + Unanswered) is the share of
-- queries that got nothing back.
-- LatencyBuckets is a histogram of response times: key b counts responses that took from
-- 2^(b/4) to 2^((b+1)/4) microseconds (quarter octaves, so a percentile read from it is within
-- 9% of the exact one; 0 and 1 us fall in bucket 0). It merges exactly, unlike a t-digest state,
-- and is smaller; clickhouse/examples/latency.sql turns it into p50/p95/p99. LatencySumUs / Answered
-- is the mean.
-- Client addresses are cut to /{{clientMaskV4}} and /{{clientMaskV6}} as in dns_clients_* (0005).
-- The hour and day tables are filled from the minute tables.

CREATE TABLE IF NOT EXISTS {{database}}.dns_latency_minute_local ON CLUSTER '{{cluster}}'
(
    Time DateTime('UTC') CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    ServerIPv4 IPv4 CODEC(ZSTD(3)),
    ServerIPv6 IPv6 CODEC(ZSTD(3)),
    Answered SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Unanswered SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    LatencySumUs SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    LatencyBuckets SimpleAggregateFunction(sumMap, Map(UInt8, UInt64)) CODEC(ZSTD(3)),
    IndexTime SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3))
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{{database}}/dns_latency_minute_local', '{replica}')
PARTITION BY toYYYYMM(Time)
ORDER BY (Time, Server, ServerIPv4, ServerIPv6)
TTL IndexTime + INTERVAL {{ttlMinuteDays}} DAY
COMMENT 'retention:minute';

CREATE TABLE IF NOT EXISTS {{database}}.dns_latency_minute ON CLUSTER '{{cluster}}'
AS {{database}}.dns_latency_minute_local
ENGINE = Distributed('{{cluster}}', '{{database}}', 'dns_latency_minute_local', rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_latency_minute_mv ON CLUSTER '{{cluster}}' TO {{database}}.dns_latency_minute_local AS
SELECT
    toStartOfMinute(log.PacketTime) AS Time,
    log.Server AS Server,
    log.ServerIPv4 AS ServerIPv4,
    log.ServerIPv6 AS ServerIPv6,
    countIf(log.QR = 1 AND log.ResponseTimeUs IS NOT NULL) AS Answered,
    countIf(log.QR = 0 AND log.Unanswered = 1) AS Unanswered,
    sumIf(toUInt64(assumeNotNull(log.ResponseTimeUs)), log.QR = 1 AND log.ResponseTimeUs IS NOT NULL) AS LatencySumUs,
    sumMapIf(map(toUInt8(least(255, floor(4 * log2(greatest(assumeNotNull(log.ResponseTimeUs), 1))))), toUInt64(1)), log.QR = 1 AND log.ResponseTimeUs IS NOT NULL) AS LatencyBuckets,
    max(log.IndexTime) AS IndexTime
FROM {{database}}.DNS_LOG_local AS log
WHERE (log.QR = 1 AND log.ResponseTimeUs IS NOT NULL) OR (log.QR = 0 AND log.Unanswered = 1)
GROUP BY Time, Server, ServerIPv4, ServerIPv6;

CREATE TABLE IF NOT EXISTS {{database}}.dns_latency_hour_local ON CLUSTER '{{cluster}}'
(
    Time DateTime('UTC') CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    ServerIPv4 IPv4 CODEC(ZSTD(3)),
    ServerIPv6 IPv6 CODEC(ZSTD(3)),
    Answered SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Unanswered SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    LatencySumUs SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    LatencyBuckets SimpleAggregateFunction(sumMap, Map(UInt8, UInt64)) CODEC(ZSTD(3)),
    IndexTime SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3))
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{{database}}/dns_latency_hour_local', '{replica}')
PARTITION BY toYYYYMM(Time)
ORDER BY (Time, Server, ServerIPv4, ServerIPv6)
TTL IndexTime + INTERVAL {{ttlHourDays}} DAY
COMMENT 'retention:hour';

CREATE TABLE IF NOT EXISTS {{database}}.dns_latency_hour ON CLUSTER '{{cluster}}'
AS {{database}}.dns_latency_hour_local
ENGINE = Distributed('{{cluster}}', '{{database}}', 'dns_latency_hour_local', rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_latency_hour_mv ON CLUSTER '{{cluster}}' TO {{database}}.dns_latency_hour_local AS
SELECT
    toStartOfHour(src.Time) AS Time,
    src.Server AS Server,
    src.ServerIPv4 AS ServerIPv4,
    src.ServerIPv6 AS ServerIPv6,
    sum(src.Answered) AS Answered,
    sum(src.Unanswered) AS Unanswered,
    sum(src.LatencySumUs) AS LatencySumUs,
    sumMap(src.LatencyBuckets) AS LatencyBuckets,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_latency_minute_local AS src
GROUP BY Time, Server, ServerIPv4, ServerIPv6;

CREATE TABLE IF NOT EXISTS {{database}}.dns_latency_day_local ON CLUSTER '{{cluster}}'
(
    Time DateTime('UTC') CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    ServerIPv4 IPv4 CODEC(ZSTD(3)),
    ServerIPv6 IPv6 CODEC(ZSTD(3)),
    Answered SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Unanswered SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    LatencySumUs SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    LatencyBuckets SimpleAggregateFunction(sumMap, Map(UInt8, UInt64)) CODEC(ZSTD(3)),
    IndexTime SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3))
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{{database}}/dns_latency_day_local', '{replica}')
PARTITION BY toYYYYMM(Time)
ORDER BY (Time, Server, ServerIPv4, ServerIPv6)
TTL IndexTime + INTERVAL {{ttlDayDays}} DAY
COMMENT 'retention:day';

CREATE TABLE IF NOT EXISTS {{database}}.dns_latency_day ON CLUSTER '{{cluster}}'
AS {{database}}.dns_latency_day_local
ENGINE = Distributed('{{cluster}}', '{{database}}', 'dns_latency_day_local', rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_latency_day_mv ON CLUSTER '{{cluster}}' TO {{database}}.dns_latency_day_local AS
SELECT
    toStartOfDay(src.Time) AS Time,
    src.Server AS Server,
    src.ServerIPv4 AS ServerIPv4,
    src.ServerIPv6 AS ServerIPv6,
    sum(src.Answered) AS Answered,
    sum(src.Unanswered) AS Unanswered,
    sum(src.LatencySumUs) AS LatencySumUs,
    sumMap(src.LatencyBuckets) AS LatencyBuckets,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_latency_minute_local AS src
GROUP BY Time, Server, ServerIPv4, ServerIPv6;

CREATE TABLE IF NOT EXISTS {{database}}.dns_latency_clients_minute_local ON CLUSTER '{{cluster}}'
(
    Time DateTime('UTC') CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    ClientIPv4 IPv4 CODEC(ZSTD(3)),
    ClientIPv6 IPv6 CODEC(ZSTD(3)),
    Answered SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Unanswered SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    LatencySumUs SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    LatencyBuckets SimpleAggregateFunction(sumMap, Map(UInt8, UInt64)) CODEC(ZSTD(3)),
    IndexTime SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3))
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{{database}}/dns_latency_clients_minute_local', '{replica}')
PARTITION BY toYYYYMM(Time)
ORDER BY (Time, Server, ClientIPv4, ClientIPv6)
TTL IndexTime + INTERVAL {{ttlMinuteDays}} DAY
COMMENT 'retention:minute';

CREATE TABLE IF NOT EXISTS {{database}}.dns_latency_clients_minute ON CLUSTER '{{cluster}}'
AS {{database}}.dns_latency_clients_minute_local
ENGINE = Distributed('{{cluster}}', '{{database}}', 'dns_latency_clients_minute_local', rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_latency_clients_minute_mv ON CLUSTER '{{cluster}}' TO {{database}}.dns_latency_clients_minute_local AS
SELECT
    toStartOfMinute(log.PacketTime) AS Time,
    log.Server AS Server,
    tupleElement(IPv4CIDRToRange(log.ClientIPv4, {{clientMaskV4}}), 1) AS ClientIPv4,
    tupleElement(IPv6CIDRToRange(log.ClientIPv6, {{clientMaskV6}}), 1) AS ClientIPv6,
    countIf(log.QR = 1 AND log.ResponseTimeUs IS NOT NULL) AS Answered,
    countIf(log.QR = 0 AND log.Unanswered = 1) AS Unanswered,
    sumIf(toUInt64(assumeNotNull(log.ResponseTimeUs)), log.QR = 1 AND log.ResponseTimeUs IS NOT NULL) AS LatencySumUs,
    sumMapIf(map(toUInt8(least(255, floor(4 * log2(greatest(assumeNotNull(log.ResponseTimeUs), 1))))), toUInt64(1)), log.QR = 1 AND log.ResponseTimeUs IS NOT NULL) AS LatencyBuckets,
    max(log.IndexTime) AS IndexTime
FROM {{database}}.DNS_LOG_local AS log
WHERE (log.QR = 1 AND log.ResponseTimeUs IS NOT NULL) OR (log.QR = 0 AND log.Unanswered = 1)
GROUP BY Time, Server, ClientIPv4, ClientIPv6;

CREATE TABLE IF NOT EXISTS {{database}}.dns_latency_clients_hour_local ON CLUSTER '{{cluster}}'
(
    Time DateTime('UTC') CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    ClientIPv4 IPv4 CODEC(ZSTD(3)),
    ClientIPv6 IPv6 CODEC(ZSTD(3)),
    Answered SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Unanswered SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    LatencySumUs SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    LatencyBuckets SimpleAggregateFunction(sumMap, Map(UInt8, UInt64)) CODEC(ZSTD(3)),
    IndexTime SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3))
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{{database}}/dns_latency_clients_hour_local', '{replica}')
PARTITION BY toYYYYMM(Time)
ORDER BY (Time, Server, ClientIPv4, ClientIPv6)
TTL IndexTime + INTERVAL {{ttlHourDays}} DAY
COMMENT 'retention:hour';

CREATE TABLE IF NOT EXISTS {{database}}.dns_latency_clients_hour ON CLUSTER '{{cluster}}'
AS {{database}}.dns_latency_clients_hour_local
ENGINE = Distributed('{{cluster}}', '{{database}}', 'dns_latency_clients_hour_local', rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_latency_clients_hour_mv ON CLUSTER '{{cluster}}' TO {{database}}.dns_latency_clients_hour_local AS
SELECT
    toStartOfHour(src.Time) AS Time,
    src.Server AS Server,
    src.ClientIPv4 AS ClientIPv4,
    src.ClientIPv6 AS ClientIPv6,
    sum(src.Answered) AS Answered,
    sum(src.Unanswered) AS Unanswered,
    sum(src.LatencySumUs) AS LatencySumUs,
    sumMap(src.LatencyBuckets) AS LatencyBuckets,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_latency_clients_minute_local AS src
GROUP BY Time, Server, ClientIPv4, ClientIPv6;

CREATE TABLE IF NOT EXISTS {{database}}.dns_latency_clients_day_local ON CLUSTER '{{cluster}}'
(
    Time DateTime('UTC') CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    ClientIPv4 IPv4 CODEC(ZSTD(3)),
    ClientIPv6 IPv6 CODEC(ZSTD(3)),
    Answered SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Unanswered SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    LatencySumUs SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    LatencyBuckets SimpleAggregateFunction(sumMap, Map(UInt8, UInt64)) CODEC(ZSTD(3)),
    IndexTime SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3))
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{{database}}/dns_latency_clients_day_local', '{replica}')
PARTITION BY toYYYYMM(Time)
ORDER BY (Time, Server, ClientIPv4, ClientIPv6)
TTL IndexTime + INTERVAL {{ttlDayDays}} DAY
COMMENT 'retention:day';

CREATE TABLE IF NOT EXISTS {{database}}.dns_latency_clients_day ON CLUSTER '{{cluster}}'
AS {{database}}.dns_latency_clients_day_local
ENGINE = Distributed('{{cluster}}', '{{database}}', 'dns_latency_clients_day_local', rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_latency_clients_day_mv ON CLUSTER '{{cluster}}' TO {{database}}.dns_latency_clients_day_local AS
SELECT
    toStartOfDay(src.Time) AS Time,
    src.Server AS Server,
    src.ClientIPv4 AS ClientIPv4,
    src.ClientIPv6 AS ClientIPv6,
    sum(src.Answered) AS Answered,
    sum(src.Unanswered) AS Unanswered,
    sum(src.LatencySumUs) AS LatencySumUs,
    sumMap(src.LatencyBuckets) AS LatencyBuckets,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_latency_clients_minute_local AS src
GROUP BY Time, Server, ClientIPv4, ClientIPv6;

-- Last: rows already in DNS_LOG (an upgrade from a schema without these rollups). The inserts
-- into the minute tables fill the hour and day tables through their views.
INSERT INTO {{database}}.dns_latency_minute
SELECT
    toStartOfMinute(log.PacketTime) AS Time,
    log.Server AS Server,
    log.ServerIPv4 AS ServerIPv4,
    log.ServerIPv6 AS ServerIPv6,
    countIf(log.QR = 1 AND log.ResponseTimeUs IS NOT NULL) AS Answered,
    countIf(log.QR = 0 AND log.Unanswered = 1) AS Unanswered,
    sumIf(toUInt64(assumeNotNull(log.ResponseTimeUs)), log.QR = 1 AND log.ResponseTimeUs IS NOT NULL) AS LatencySumUs,
    sumMapIf(map(toUInt8(least(255, floor(4 * log2(greatest(assumeNotNull(log.ResponseTimeUs), 1))))), toUInt64(1)), log.QR = 1 AND log.ResponseTimeUs IS NOT NULL) AS LatencyBuckets,
    max(log.IndexTime) AS IndexTime
FROM {{database}}.DNS_LOG AS log
WHERE (log.QR = 1 AND log.ResponseTimeUs IS NOT NULL) OR (log.QR = 0 AND log.Unanswered = 1)
GROUP BY Time, Server, ServerIPv4, ServerIPv6;

INSERT INTO {{database}}.dns_latency_clients_minute
SELECT
    toStartOfMinute(log.PacketTime) AS Time,
    log.Server AS Server,
    tupleElement(IPv4CIDRToRange(log.ClientIPv4, {{clientMaskV4}}), 1) AS ClientIPv4,
    tupleElement(IPv6CIDRToRange(log.ClientIPv6, {{clientMaskV6}}), 1) AS ClientIPv6,
    countIf(log.QR = 1 AND log.ResponseTimeUs IS NOT NULL) AS Answered,
    countIf(log.QR = 0 AND log.Unanswered = 1) AS Unanswered,
    sumIf(toUInt64(assumeNotNull(log.ResponseTimeUs)), log.QR = 1 AND log.ResponseTimeUs IS NOT NULL) AS LatencySumUs,
    sumMapIf(map(toUInt8(least(255, floor(4 * log2(greatest(assumeNotNull(log.ResponseTimeUs), 1))))), toUInt64(1)), log.QR = 1 AND log.ResponseTimeUs IS NOT NULL) AS LatencyBuckets,
    max(log.IndexTime) AS IndexTime
FROM {{database}}.DNS_LOG AS log
WHERE (log.QR = 1 AND log.ResponseTimeUs IS NOT NULL) OR (log.QR = 0 AND log.Unanswered = 1)
GROUP BY Time, Server, ClientIPv4, ClientIPv6;
