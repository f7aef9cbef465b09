-- Per client and minute: queries sent, responses received, and how many were NXDOMAIN, SERVFAIL or
-- REFUSED. The client address is cut to a prefix when the view is created: /{{clientMaskV4}} for
-- IPv4 and /{{clientMaskV6}} for IPv6 (dnslens' defaults are /24 and /48: one row per client and
-- minute would cost more than all the other rollups together; DNS_LOG keeps whole addresses, or
-- what --maskSize4/--maskSize6 leave of them). The prefix is fixed when the table is created; a
-- later migration is needed to change it.

CREATE TABLE IF NOT EXISTS {{database}}.dns_clients_minute
(
    Time DateTime('UTC') CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    ClientIPv4 IPv4 CODEC(ZSTD(3)),
    ClientIPv6 IPv6 CODEC(ZSTD(3)),
    Queries SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Responses SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    NXDomain SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    ServFail SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Refused SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    IndexTime SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(Time)
ORDER BY (Time, Server, ClientIPv4, ClientIPv6)
TTL IndexTime + INTERVAL {{ttlMinuteDays}} DAY
COMMENT 'retention:minute';

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_clients_minute_mv TO {{database}}.dns_clients_minute AS
SELECT
    toStartOfMinute(log.PacketTime) AS Time,
    log.Server AS Server,
    tupleElement(IPv4CIDRToRange(log.ClientIPv4, {{clientMaskV4}}), 1) AS ClientIPv4,
    tupleElement(IPv6CIDRToRange(log.ClientIPv6, {{clientMaskV6}}), 1) AS ClientIPv6,
    countIf(log.QR = 0) AS Queries,
    countIf(log.QR = 1) AS Responses,
    countIf(log.QR = 1 AND log.ResponseCode = 3) AS NXDomain,
    countIf(log.QR = 1 AND log.ResponseCode = 2) AS ServFail,
    countIf(log.QR = 1 AND log.ResponseCode = 5) AS Refused,
    max(log.IndexTime) AS IndexTime
FROM {{database}}.DNS_LOG AS log
GROUP BY Time, Server, ClientIPv4, ClientIPv6;

CREATE TABLE IF NOT EXISTS {{database}}.dns_clients_hour
(
    Time DateTime('UTC') CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    ClientIPv4 IPv4 CODEC(ZSTD(3)),
    ClientIPv6 IPv6 CODEC(ZSTD(3)),
    Queries SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Responses SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    NXDomain SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    ServFail SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Refused SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    IndexTime SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(Time)
ORDER BY (Time, Server, ClientIPv4, ClientIPv6)
TTL IndexTime + INTERVAL {{ttlHourDays}} DAY
COMMENT 'retention:hour';

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_clients_hour_mv TO {{database}}.dns_clients_hour AS
SELECT
    toStartOfHour(src.Time) AS Time,
    src.Server AS Server,
    src.ClientIPv4 AS ClientIPv4,
    src.ClientIPv6 AS ClientIPv6,
    sum(src.Queries) AS Queries,
    sum(src.Responses) AS Responses,
    sum(src.NXDomain) AS NXDomain,
    sum(src.ServFail) AS ServFail,
    sum(src.Refused) AS Refused,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_clients_minute AS src
GROUP BY Time, Server, ClientIPv4, ClientIPv6;

CREATE TABLE IF NOT EXISTS {{database}}.dns_clients_day
(
    Time DateTime('UTC') CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    ClientIPv4 IPv4 CODEC(ZSTD(3)),
    ClientIPv6 IPv6 CODEC(ZSTD(3)),
    Queries SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Responses SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    NXDomain SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    ServFail SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Refused SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    IndexTime SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(Time)
ORDER BY (Time, Server, ClientIPv4, ClientIPv6)
TTL IndexTime + INTERVAL {{ttlDayDays}} DAY
COMMENT 'retention:day';

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_clients_day_mv TO {{database}}.dns_clients_day AS
SELECT
    toStartOfDay(src.Time) AS Time,
    src.Server AS Server,
    src.ClientIPv4 AS ClientIPv4,
    src.ClientIPv6 AS ClientIPv6,
    sum(src.Queries) AS Queries,
    sum(src.Responses) AS Responses,
    sum(src.NXDomain) AS NXDomain,
    sum(src.ServFail) AS ServFail,
    sum(src.Refused) AS Refused,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_clients_minute AS src
GROUP BY Time, Server, ClientIPv4, ClientIPv6;

CREATE TABLE IF NOT EXISTS {{database}}.dns_clients_week
(
    Time DateTime('UTC') CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    ClientIPv4 IPv4 CODEC(ZSTD(3)),
    ClientIPv6 IPv6 CODEC(ZSTD(3)),
    Queries SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Responses SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    NXDomain SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    ServFail SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Refused SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    IndexTime SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYear(Time)
ORDER BY (Time, Server, ClientIPv4, ClientIPv6)
TTL IndexTime + INTERVAL {{ttlWeekDays}} DAY
COMMENT 'retention:week';

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_clients_week_mv TO {{database}}.dns_clients_week AS
SELECT
    toDateTime(toStartOfWeek(src.Time, 1), 'UTC') AS Time,
    src.Server AS Server,
    src.ClientIPv4 AS ClientIPv4,
    src.ClientIPv6 AS ClientIPv6,
    sum(src.Queries) AS Queries,
    sum(src.Responses) AS Responses,
    sum(src.NXDomain) AS NXDomain,
    sum(src.ServFail) AS ServFail,
    sum(src.Refused) AS Refused,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_clients_minute AS src
GROUP BY Time, Server, ClientIPv4, ClientIPv6;

CREATE TABLE IF NOT EXISTS {{database}}.dns_clients_month
(
    Time DateTime('UTC') CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    ClientIPv4 IPv4 CODEC(ZSTD(3)),
    ClientIPv6 IPv6 CODEC(ZSTD(3)),
    Queries SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Responses SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    NXDomain SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    ServFail SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Refused SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    IndexTime SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYear(Time)
ORDER BY (Time, Server, ClientIPv4, ClientIPv6)
TTL IndexTime + INTERVAL {{ttlMonthDays}} DAY
COMMENT 'retention:month';

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_clients_month_mv TO {{database}}.dns_clients_month AS
SELECT
    toDateTime(toStartOfMonth(src.Time), 'UTC') AS Time,
    src.Server AS Server,
    src.ClientIPv4 AS ClientIPv4,
    src.ClientIPv6 AS ClientIPv6,
    sum(src.Queries) AS Queries,
    sum(src.Responses) AS Responses,
    sum(src.NXDomain) AS NXDomain,
    sum(src.ServFail) AS ServFail,
    sum(src.Refused) AS Refused,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_clients_minute AS src
GROUP BY Time, Server, ClientIPv4, ClientIPv6;

-- Last: rows already in DNS_LOG (an upgrade from a schema without this rollup). The insert
-- into the minute table fills the hour/day/week/month tables through their views.
INSERT INTO {{database}}.dns_clients_minute
SELECT
    toStartOfMinute(log.PacketTime) AS Time,
    log.Server AS Server,
    tupleElement(IPv4CIDRToRange(log.ClientIPv4, {{clientMaskV4}}), 1) AS ClientIPv4,
    tupleElement(IPv6CIDRToRange(log.ClientIPv6, {{clientMaskV6}}), 1) AS ClientIPv6,
    countIf(log.QR = 0) AS Queries,
    countIf(log.QR = 1) AS Responses,
    countIf(log.QR = 1 AND log.ResponseCode = 3) AS NXDomain,
    countIf(log.QR = 1 AND log.ResponseCode = 2) AS ServFail,
    countIf(log.QR = 1 AND log.ResponseCode = 5) AS Refused,
    max(log.IndexTime) AS IndexTime
FROM {{database}}.DNS_LOG AS log
GROUP BY Time, Server, ClientIPv4, ClientIPv6;
