-- Cluster variant, derived from clickhouse/migrations/0005_client_rollups.sql: <table>_local is a Replicated table on every
-- node, <table> a Distributed table over it, views read the Distributed tables and materialized
-- views feed the local ones. See clickhouse/README.md, "Cluster".
-- Per client and minute: queries sent, responses received, and how many were NXDOMAIN, SERVFAIL or
-- REFUSED. The client address is cut to a prefix when the view is created: /{{clientMaskV4}} for
-- IPv4 and /{{clientMaskV6}} for IPv6 (dnslens' defaults are /24 and /48: one row per client and
-- minute would cost more than all the other rollups together; DNS_LOG keeps whole addresses, or
-- what --maskSize4/--maskSize6 leave of them). The prefix is fixed when the table is created; a
-- later migration is needed to change it.

CREATE TABLE IF NOT EXISTS {{database}}.dns_clients_minute_local ON CLUSTER '{{cluster}}'
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
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{{database}}/dns_clients_minute_local', '{replica}')
PARTITION BY toYYYYMM(Time)
ORDER BY (Time, Server, ClientIPv4, ClientIPv6)
TTL IndexTime + INTERVAL {{ttlMinuteDays}} DAY
COMMENT 'retention:minute';

CREATE TABLE IF NOT EXISTS {{database}}.dns_clients_minute ON CLUSTER '{{cluster}}'
AS {{database}}.dns_clients_minute_local
ENGINE = Distributed('{{cluster}}', '{{database}}', 'dns_clients_minute_local', rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_clients_minute_mv ON CLUSTER '{{cluster}}' TO {{database}}.dns_clients_minute_local AS
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
FROM {{database}}.DNS_LOG_local AS log
GROUP BY Time, Server, ClientIPv4, ClientIPv6;

CREATE TABLE IF NOT EXISTS {{database}}.dns_clients_hour_local ON CLUSTER '{{cluster}}'
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
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{{database}}/dns_clients_hour_local', '{replica}')
PARTITION BY toYYYYMM(Time)
ORDER BY (Time, Server, ClientIPv4, ClientIPv6)
TTL IndexTime + INTERVAL {{ttlHourDays}} DAY
COMMENT 'retention:hour';

CREATE TABLE IF NOT EXISTS {{database}}.dns_clients_hour ON CLUSTER '{{cluster}}'
AS {{database}}.dns_clients_hour_local
ENGINE = Distributed('{{cluster}}', '{{database}}', 'dns_clients_hour_local', rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_clients_hour_mv ON CLUSTER '{{cluster}}' TO {{database}}.dns_clients_hour_local AS
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
FROM {{database}}.dns_clients_minute_local AS src
GROUP BY Time, Server, ClientIPv4, ClientIPv6;

CREATE TABLE IF NOT EXISTS {{database}}.dns_clients_day_local ON CLUSTER '{{cluster}}'
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
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{{database}}/dns_clients_day_local', '{replica}')
PARTITION BY toYYYYMM(Time)
ORDER BY (Time, Server, ClientIPv4, ClientIPv6)
TTL IndexTime + INTERVAL {{ttlDayDays}} DAY
COMMENT 'retention:day';

CREATE TABLE IF NOT EXISTS {{database}}.dns_clients_day ON CLUSTER '{{cluster}}'
AS {{database}}.dns_clients_day_local
ENGINE = Distributed('{{cluster}}', '{{database}}', 'dns_clients_day_local', rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_clients_day_mv ON CLUSTER '{{cluster}}' TO {{database}}.dns_clients_day_local AS
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
FROM {{database}}.dns_clients_minute_local AS src
GROUP BY Time, Server, ClientIPv4, ClientIPv6;

CREATE TABLE IF NOT EXISTS {{database}}.dns_clients_week_local ON CLUSTER '{{cluster}}'
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
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{{database}}/dns_clients_week_local', '{replica}')
PARTITION BY toYear(Time)
ORDER BY (Time, Server, ClientIPv4, ClientIPv6)
TTL IndexTime + INTERVAL {{ttlWeekDays}} DAY
COMMENT 'retention:week';

CREATE TABLE IF NOT EXISTS {{database}}.dns_clients_week ON CLUSTER '{{cluster}}'
AS {{database}}.dns_clients_week_local
ENGINE = Distributed('{{cluster}}', '{{database}}', 'dns_clients_week_local', rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_clients_week_mv ON CLUSTER '{{cluster}}' TO {{database}}.dns_clients_week_local AS
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
FROM {{database}}.dns_clients_minute_local AS src
GROUP BY Time, Server, ClientIPv4, ClientIPv6;

CREATE TABLE IF NOT EXISTS {{database}}.dns_clients_month_local ON CLUSTER '{{cluster}}'
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
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{{database}}/dns_clients_month_local', '{replica}')
PARTITION BY toYear(Time)
ORDER BY (Time, Server, ClientIPv4, ClientIPv6)
TTL IndexTime + INTERVAL {{ttlMonthDays}} DAY
COMMENT 'retention:month';

CREATE TABLE IF NOT EXISTS {{database}}.dns_clients_month ON CLUSTER '{{cluster}}'
AS {{database}}.dns_clients_month_local
ENGINE = Distributed('{{cluster}}', '{{database}}', 'dns_clients_month_local', rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_clients_month_mv ON CLUSTER '{{cluster}}' TO {{database}}.dns_clients_month_local AS
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
FROM {{database}}.dns_clients_minute_local AS src
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
