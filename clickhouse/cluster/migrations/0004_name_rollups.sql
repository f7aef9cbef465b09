-- Cluster variant, derived from clickhouse/migrations/0004_name_rollups.sql: <table>_local is a Replicated table on every
-- node, <table> a Distributed table over it, views read the Distributed tables and materialized
-- views feed the local ones. See clickhouse/README.md, "Cluster".
-- Per server and minute: distinct names and clients, and the most queried names and apexes.
-- Distinct counts are HyperLogLog sketches (uniqCombined(12), about 1.6% error at large counts, exact
-- below a few hundred); merging minute sketches into an hour gives exactly the sketch of the hour.
-- Top lists are topK(10) summaries: exact while a period has few distinct names, approximate above.
-- Read with uniqCombinedMerge(12)(UniqueNames) and topKIfMerge(10)(TopNames) after GROUP BY.
-- TopNames/TopApexes count queries (QR = 0); the distinct counts use queries and responses alike.

CREATE TABLE IF NOT EXISTS {{database}}.dns_names_minute_local ON CLUSTER '{{cluster}}'
(
    Time DateTime('UTC') CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    Queries SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Responses SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    UniqueNames AggregateFunction(uniqCombined(12), String) CODEC(ZSTD(3)),
    UniqueClients AggregateFunction(uniqCombined(12), IPv4, IPv6) CODEC(ZSTD(3)),
    TopNames AggregateFunction(topKIf(10), String, UInt8) CODEC(ZSTD(3)),
    TopApexes AggregateFunction(topKIf(10), String, UInt8) CODEC(ZSTD(3)),
    IndexTime SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3))
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{{database}}/dns_names_minute_local', '{replica}')
PARTITION BY toYYYYMM(Time)
ORDER BY (Time, Server)
TTL IndexTime + INTERVAL {{ttlMinuteDays}} DAY
COMMENT 'retention:minute';

CREATE TABLE IF NOT EXISTS {{database}}.dns_names_minute ON CLUSTER '{{cluster}}'
AS {{database}}.dns_names_minute_local
ENGINE = Distributed('{{cluster}}', '{{database}}', 'dns_names_minute_local', rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_names_minute_mv ON CLUSTER '{{cluster}}' TO {{database}}.dns_names_minute_local AS
SELECT
    toStartOfMinute(log.PacketTime) AS Time,
    log.Server AS Server,
    countIf(log.QR = 0) AS Queries,
    countIf(log.QR = 1) AS Responses,
    uniqCombinedState(12)(log.Question) AS UniqueNames,
    uniqCombinedState(12)(log.ClientIPv4, log.ClientIPv6) AS UniqueClients,
    topKIfState(10)(log.Question, log.QR = 0) AS TopNames,
    topKIfState(10)(log.Apex, log.QR = 0) AS TopApexes,
    max(log.IndexTime) AS IndexTime
FROM {{database}}.DNS_LOG_local AS log
GROUP BY Time, Server;

CREATE TABLE IF NOT EXISTS {{database}}.dns_names_hour_local ON CLUSTER '{{cluster}}'
(
    Time DateTime('UTC') CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    Queries SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Responses SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    UniqueNames AggregateFunction(uniqCombined(12), String) CODEC(ZSTD(3)),
    UniqueClients AggregateFunction(uniqCombined(12), IPv4, IPv6) CODEC(ZSTD(3)),
    TopNames AggregateFunction(topKIf(10), String, UInt8) CODEC(ZSTD(3)),
    TopApexes AggregateFunction(topKIf(10), String, UInt8) CODEC(ZSTD(3)),
    IndexTime SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3))
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{{database}}/dns_names_hour_local', '{replica}')
PARTITION BY toYYYYMM(Time)
ORDER BY (Time, Server)
TTL IndexTime + INTERVAL {{ttlHourDays}} DAY
COMMENT 'retention:hour';

CREATE TABLE IF NOT EXISTS {{database}}.dns_names_hour ON CLUSTER '{{cluster}}'
AS {{database}}.dns_names_hour_local
ENGINE = Distributed('{{cluster}}', '{{database}}', 'dns_names_hour_local', rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_names_hour_mv ON CLUSTER '{{cluster}}' TO {{database}}.dns_names_hour_local AS
SELECT
    toStartOfHour(src.Time) AS Time,
    src.Server AS Server,
    sum(src.Queries) AS Queries,
    sum(src.Responses) AS Responses,
    uniqCombinedMergeState(12)(src.UniqueNames) AS UniqueNames,
    uniqCombinedMergeState(12)(src.UniqueClients) AS UniqueClients,
    topKIfMergeState(10)(src.TopNames) AS TopNames,
    topKIfMergeState(10)(src.TopApexes) AS TopApexes,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_names_minute_local AS src
GROUP BY Time, Server;

CREATE TABLE IF NOT EXISTS {{database}}.dns_names_day_local ON CLUSTER '{{cluster}}'
(
    Time DateTime('UTC') CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    Queries SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Responses SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    UniqueNames AggregateFunction(uniqCombined(12), String) CODEC(ZSTD(3)),
    UniqueClients AggregateFunction(uniqCombined(12), IPv4, IPv6) CODEC(ZSTD(3)),
    TopNames AggregateFunction(topKIf(10), String, UInt8) CODEC(ZSTD(3)),
    TopApexes AggregateFunction(topKIf(10), String, UInt8) CODEC(ZSTD(3)),
    IndexTime SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3))
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{{database}}/dns_names_day_local', '{replica}')
PARTITION BY toYYYYMM(Time)
ORDER BY (Time, Server)
TTL IndexTime + INTERVAL {{ttlDayDays}} DAY
COMMENT 'retention:day';

CREATE TABLE IF NOT EXISTS {{database}}.dns_names_day ON CLUSTER '{{cluster}}'
AS {{database}}.dns_names_day_local
ENGINE = Distributed('{{cluster}}', '{{database}}', 'dns_names_day_local', rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_names_day_mv ON CLUSTER '{{cluster}}' TO {{database}}.dns_names_day_local AS
SELECT
    toStartOfDay(src.Time) AS Time,
    src.Server AS Server,
    sum(src.Queries) AS Queries,
    sum(src.Responses) AS Responses,
    uniqCombinedMergeState(12)(src.UniqueNames) AS UniqueNames,
    uniqCombinedMergeState(12)(src.UniqueClients) AS UniqueClients,
    topKIfMergeState(10)(src.TopNames) AS TopNames,
    topKIfMergeState(10)(src.TopApexes) AS TopApexes,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_names_minute_local AS src
GROUP BY Time, Server;

CREATE TABLE IF NOT EXISTS {{database}}.dns_names_week_local ON CLUSTER '{{cluster}}'
(
    Time DateTime('UTC') CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    Queries SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Responses SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    UniqueNames AggregateFunction(uniqCombined(12), String) CODEC(ZSTD(3)),
    UniqueClients AggregateFunction(uniqCombined(12), IPv4, IPv6) CODEC(ZSTD(3)),
    TopNames AggregateFunction(topKIf(10), String, UInt8) CODEC(ZSTD(3)),
    TopApexes AggregateFunction(topKIf(10), String, UInt8) CODEC(ZSTD(3)),
    IndexTime SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3))
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{{database}}/dns_names_week_local', '{replica}')
PARTITION BY toYear(Time)
ORDER BY (Time, Server)
TTL IndexTime + INTERVAL {{ttlWeekDays}} DAY
COMMENT 'retention:week';

CREATE TABLE IF NOT EXISTS {{database}}.dns_names_week ON CLUSTER '{{cluster}}'
AS {{database}}.dns_names_week_local
ENGINE = Distributed('{{cluster}}', '{{database}}', 'dns_names_week_local', rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_names_week_mv ON CLUSTER '{{cluster}}' TO {{database}}.dns_names_week_local AS
SELECT
    toDateTime(toStartOfWeek(src.Time, 1), 'UTC') AS Time,
    src.Server AS Server,
    sum(src.Queries) AS Queries,
    sum(src.Responses) AS Responses,
    uniqCombinedMergeState(12)(src.UniqueNames) AS UniqueNames,
    uniqCombinedMergeState(12)(src.UniqueClients) AS UniqueClients,
    topKIfMergeState(10)(src.TopNames) AS TopNames,
    topKIfMergeState(10)(src.TopApexes) AS TopApexes,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_names_minute_local AS src
GROUP BY Time, Server;

CREATE TABLE IF NOT EXISTS {{database}}.dns_names_month_local ON CLUSTER '{{cluster}}'
(
    Time DateTime('UTC') CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    Queries SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Responses SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    UniqueNames AggregateFunction(uniqCombined(12), String) CODEC(ZSTD(3)),
    UniqueClients AggregateFunction(uniqCombined(12), IPv4, IPv6) CODEC(ZSTD(3)),
    TopNames AggregateFunction(topKIf(10), String, UInt8) CODEC(ZSTD(3)),
    TopApexes AggregateFunction(topKIf(10), String, UInt8) CODEC(ZSTD(3)),
    IndexTime SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3))
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{{database}}/dns_names_month_local', '{replica}')
PARTITION BY toYear(Time)
ORDER BY (Time, Server)
TTL IndexTime + INTERVAL {{ttlMonthDays}} DAY
COMMENT 'retention:month';

CREATE TABLE IF NOT EXISTS {{database}}.dns_names_month ON CLUSTER '{{cluster}}'
AS {{database}}.dns_names_month_local
ENGINE = Distributed('{{cluster}}', '{{database}}', 'dns_names_month_local', rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_names_month_mv ON CLUSTER '{{cluster}}' TO {{database}}.dns_names_month_local AS
SELECT
    toDateTime(toStartOfMonth(src.Time), 'UTC') AS Time,
    src.Server AS Server,
    sum(src.Queries) AS Queries,
    sum(src.Responses) AS Responses,
    uniqCombinedMergeState(12)(src.UniqueNames) AS UniqueNames,
    uniqCombinedMergeState(12)(src.UniqueClients) AS UniqueClients,
    topKIfMergeState(10)(src.TopNames) AS TopNames,
    topKIfMergeState(10)(src.TopApexes) AS TopApexes,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_names_minute_local AS src
GROUP BY Time, Server;

-- Last: rows already in DNS_LOG (an upgrade from a schema without this rollup). The insert
-- into the minute table fills the hour/day/week/month tables through their views.
INSERT INTO {{database}}.dns_names_minute
SELECT
    toStartOfMinute(log.PacketTime) AS Time,
    log.Server AS Server,
    countIf(log.QR = 0) AS Queries,
    countIf(log.QR = 1) AS Responses,
    uniqCombinedState(12)(log.Question) AS UniqueNames,
    uniqCombinedState(12)(log.ClientIPv4, log.ClientIPv6) AS UniqueClients,
    topKIfState(10)(log.Question, log.QR = 0) AS TopNames,
    topKIfState(10)(log.Apex, log.QR = 0) AS TopApexes,
    max(log.IndexTime) AS IndexTime
FROM {{database}}.DNS_LOG AS log
GROUP BY Time, Server;
