-- Cluster variant, derived from clickhouse/migrations/0006_domain_rollups.sql: <table>_local is a Replicated table on every
-- node, <table> a Distributed table over it, views read the Distributed tables and materialized
-- views feed the local ones. See clickhouse/README.md, "Cluster".
-- The seed guide's rollups in ClickHouse form (its chapter 2 tables, chapter 4 jobs):
--   dns_domain_day  per day, server and name: queries (in all and per qtype), responses, NXDOMAIN
--                   and SERVFAIL responses, distinct clients, first and last seen   (from DNS_LOG)
--   dns_apex_hour   per hour, server and apex: queries (the heatmap)              (from DNS_LOG)
--   dns_apex_week   per week, server and apex: totals, distinct clients, queries per day
--   dns_apex_month  per month, server and apex: the same                (both from dns_domain_day)
-- Unlike the guide, qtype is not part of dns_domain_day's key: TypeQueries holds the queries per
-- qtype, and distinct clients are counted per name. One row per (name, qtype) with a client sketch
-- each took 1.7 times the space (clickhouse/README.md).
-- Apex is the registrable domain from the public suffix list, computed when the row is written
-- (src/store/rowbinary.ts). Categories are looked up when read (views in 0007), so editing
-- clickhouse/dictionaries/domain_categories.tsv re-labels past data too.
-- "Queries" counts messages with QR = 0; NXDomain and ServFail count responses with that rcode.

CREATE TABLE IF NOT EXISTS {{database}}.dns_domain_day_local ON CLUSTER '{{cluster}}'
(
    Day Date CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    Apex String CODEC(ZSTD(3)),
    Question String CODEC(ZSTD(3)),
    Queries SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Responses SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    NXDomain SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    ServFail SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    TypeQueries SimpleAggregateFunction(sumMap, Map(UInt16, UInt64)) CODEC(ZSTD(3)),
    Clients AggregateFunction(uniqCombined(12), IPv4, IPv6) CODEC(ZSTD(3)),
    FirstSeen SimpleAggregateFunction(min, DateTime('UTC')) CODEC(ZSTD(3)),
    LastSeen SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3)),
    IndexTime SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3))
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{{database}}/dns_domain_day_local', '{replica}')
PARTITION BY toYYYYMM(Day)
ORDER BY (Day, Server, Apex, Question)
TTL IndexTime + INTERVAL {{ttlDayDays}} DAY
COMMENT 'retention:day';

CREATE TABLE IF NOT EXISTS {{database}}.dns_domain_day ON CLUSTER '{{cluster}}'
AS {{database}}.dns_domain_day_local
ENGINE = Distributed('{{cluster}}', '{{database}}', 'dns_domain_day_local', rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_domain_day_mv ON CLUSTER '{{cluster}}' TO {{database}}.dns_domain_day_local AS
SELECT
    toDate(log.PacketTime) AS Day,
    log.Server AS Server,
    log.Apex AS Apex,
    log.Question AS Question,
    countIf(log.QR = 0) AS Queries,
    countIf(log.QR = 1) AS Responses,
    countIf(log.QR = 1 AND log.ResponseCode = 3) AS NXDomain,
    countIf(log.QR = 1 AND log.ResponseCode = 2) AS ServFail,
    sumMapIf(map(log.Type, toUInt64(1)), log.QR = 0) AS TypeQueries,
    uniqCombinedState(12)(log.ClientIPv4, log.ClientIPv6) AS Clients,
    min(toDateTime(log.PacketTime)) AS FirstSeen,
    max(toDateTime(log.PacketTime)) AS LastSeen,
    max(log.IndexTime) AS IndexTime
FROM {{database}}.DNS_LOG_local AS log
GROUP BY Day, Server, Apex, Question;

CREATE TABLE IF NOT EXISTS {{database}}.dns_apex_hour_local ON CLUSTER '{{cluster}}'
(
    Time DateTime('UTC') CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    Apex String CODEC(ZSTD(3)),
    Queries SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    IndexTime SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3))
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{{database}}/dns_apex_hour_local', '{replica}')
PARTITION BY toYYYYMM(Time)
ORDER BY (Time, Server, Apex)
TTL IndexTime + INTERVAL {{ttlHourDays}} DAY
COMMENT 'retention:hour';

CREATE TABLE IF NOT EXISTS {{database}}.dns_apex_hour ON CLUSTER '{{cluster}}'
AS {{database}}.dns_apex_hour_local
ENGINE = Distributed('{{cluster}}', '{{database}}', 'dns_apex_hour_local', rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_apex_hour_mv ON CLUSTER '{{cluster}}' TO {{database}}.dns_apex_hour_local AS
SELECT
    toStartOfHour(log.PacketTime) AS Time,
    log.Server AS Server,
    log.Apex AS Apex,
    count() AS Queries,
    max(log.IndexTime) AS IndexTime
FROM {{database}}.DNS_LOG_local AS log
WHERE log.QR = 0
GROUP BY Time, Server, Apex;

CREATE TABLE IF NOT EXISTS {{database}}.dns_apex_week_local ON CLUSTER '{{cluster}}'
(
    Week Date CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    Apex String CODEC(ZSTD(3)),
    Queries SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    NXDomain SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    ServFail SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Clients AggregateFunction(uniqCombined(12), IPv4, IPv6) CODEC(ZSTD(3)),
    DayQueries SimpleAggregateFunction(sumMap, Map(Date, UInt64)) CODEC(ZSTD(3)),
    IndexTime SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3))
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{{database}}/dns_apex_week_local', '{replica}')
PARTITION BY toYear(Week)
ORDER BY (Week, Server, Apex)
TTL IndexTime + INTERVAL {{ttlWeekDays}} DAY
COMMENT 'retention:week';

CREATE TABLE IF NOT EXISTS {{database}}.dns_apex_week ON CLUSTER '{{cluster}}'
AS {{database}}.dns_apex_week_local
ENGINE = Distributed('{{cluster}}', '{{database}}', 'dns_apex_week_local', rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_apex_week_mv ON CLUSTER '{{cluster}}' TO {{database}}.dns_apex_week_local AS
SELECT
    toStartOfWeek(src.Day, 1) AS Week,
    src.Server AS Server,
    src.Apex AS Apex,
    sum(src.Queries) AS Queries,
    sum(src.NXDomain) AS NXDomain,
    sum(src.ServFail) AS ServFail,
    uniqCombinedMergeState(12)(src.Clients) AS Clients,
    sumMap(map(src.Day, src.Queries)) AS DayQueries,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_domain_day_local AS src
GROUP BY Week, Server, Apex;

CREATE TABLE IF NOT EXISTS {{database}}.dns_apex_month_local ON CLUSTER '{{cluster}}'
(
    Month Date CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    Apex String CODEC(ZSTD(3)),
    Queries SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    NXDomain SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    ServFail SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Clients AggregateFunction(uniqCombined(12), IPv4, IPv6) CODEC(ZSTD(3)),
    DayQueries SimpleAggregateFunction(sumMap, Map(Date, UInt64)) CODEC(ZSTD(3)),
    IndexTime SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3))
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{{database}}/dns_apex_month_local', '{replica}')
PARTITION BY toYear(Month)
ORDER BY (Month, Server, Apex)
TTL IndexTime + INTERVAL {{ttlMonthDays}} DAY
COMMENT 'retention:month';

CREATE TABLE IF NOT EXISTS {{database}}.dns_apex_month ON CLUSTER '{{cluster}}'
AS {{database}}.dns_apex_month_local
ENGINE = Distributed('{{cluster}}', '{{database}}', 'dns_apex_month_local', rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_apex_month_mv ON CLUSTER '{{cluster}}' TO {{database}}.dns_apex_month_local AS
SELECT
    toStartOfMonth(src.Day) AS Month,
    src.Server AS Server,
    src.Apex AS Apex,
    sum(src.Queries) AS Queries,
    sum(src.NXDomain) AS NXDomain,
    sum(src.ServFail) AS ServFail,
    uniqCombinedMergeState(12)(src.Clients) AS Clients,
    sumMap(map(src.Day, src.Queries)) AS DayQueries,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_domain_day_local AS src
GROUP BY Month, Server, Apex;

-- Last: rows already in DNS_LOG (an upgrade from a schema without these rollups). The insert into
-- dns_domain_day fills dns_apex_week and dns_apex_month through their views.
INSERT INTO {{database}}.dns_domain_day
SELECT
    toDate(log.PacketTime) AS Day,
    log.Server AS Server,
    log.Apex AS Apex,
    log.Question AS Question,
    countIf(log.QR = 0) AS Queries,
    countIf(log.QR = 1) AS Responses,
    countIf(log.QR = 1 AND log.ResponseCode = 3) AS NXDomain,
    countIf(log.QR = 1 AND log.ResponseCode = 2) AS ServFail,
    sumMapIf(map(log.Type, toUInt64(1)), log.QR = 0) AS TypeQueries,
    uniqCombinedState(12)(log.ClientIPv4, log.ClientIPv6) AS Clients,
    min(toDateTime(log.PacketTime)) AS FirstSeen,
    max(toDateTime(log.PacketTime)) AS LastSeen,
    max(log.IndexTime) AS IndexTime
FROM {{database}}.DNS_LOG AS log
GROUP BY Day, Server, Apex, Question;

INSERT INTO {{database}}.dns_apex_hour
SELECT
    toStartOfHour(log.PacketTime) AS Time,
    log.Server AS Server,
    log.Apex AS Apex,
    count() AS Queries,
    max(log.IndexTime) AS IndexTime
FROM {{database}}.DNS_LOG AS log
WHERE log.QR = 0
GROUP BY Time, Server, Apex;
