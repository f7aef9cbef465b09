-- Per server and minute: distinct names and clients, and the most queried names and apexes.
-- Distinct counts are HyperLogLog sketches (uniqCombined(12), about 1.6% error at large counts, exact
-- below a few hundred); merging minute sketches into an hour gives exactly the sketch of the hour.
-- Top lists are topK(10) summaries: exact while a period has few distinct names, approximate above.
-- Read with uniqCombinedMerge(12)(UniqueNames) and topKIfMerge(10)(TopNames) after GROUP BY.
-- TopNames/TopApexes count queries (QR = 0); the distinct counts use queries and responses alike.

CREATE TABLE IF NOT EXISTS {{database}}.dns_names_minute
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
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(Time)
ORDER BY (Time, Server)
TTL IndexTime + INTERVAL {{ttlMinuteDays}} DAY
COMMENT 'retention:minute';

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_names_minute_mv TO {{database}}.dns_names_minute AS
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

CREATE TABLE IF NOT EXISTS {{database}}.dns_names_hour
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
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(Time)
ORDER BY (Time, Server)
TTL IndexTime + INTERVAL {{ttlHourDays}} DAY
COMMENT 'retention:hour';

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_names_hour_mv TO {{database}}.dns_names_hour AS
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
FROM {{database}}.dns_names_minute AS src
GROUP BY Time, Server;

CREATE TABLE IF NOT EXISTS {{database}}.dns_names_day
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
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(Time)
ORDER BY (Time, Server)
TTL IndexTime + INTERVAL {{ttlDayDays}} DAY
COMMENT 'retention:day';

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_names_day_mv TO {{database}}.dns_names_day AS
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
FROM {{database}}.dns_names_minute AS src
GROUP BY Time, Server;

CREATE TABLE IF NOT EXISTS {{database}}.dns_names_week
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
ENGINE = AggregatingMergeTree
PARTITION BY toYear(Time)
ORDER BY (Time, Server)
TTL IndexTime + INTERVAL {{ttlWeekDays}} DAY
COMMENT 'retention:week';

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_names_week_mv TO {{database}}.dns_names_week AS
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
FROM {{database}}.dns_names_minute AS src
GROUP BY Time, Server;

CREATE TABLE IF NOT EXISTS {{database}}.dns_names_month
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
ENGINE = AggregatingMergeTree
PARTITION BY toYear(Time)
ORDER BY (Time, Server)
TTL IndexTime + INTERVAL {{ttlMonthDays}} DAY
COMMENT 'retention:month';

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_names_month_mv TO {{database}}.dns_names_month AS
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
FROM {{database}}.dns_names_minute AS src
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
