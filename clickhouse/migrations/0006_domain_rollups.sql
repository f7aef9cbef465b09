-- The seed guide's rollups in ClickHouse form (its chapter 2 tables, chapter 4 jobs):
--   dns_domain_day  per day, server and name: queries (in all and per qtype), responses, NXDOMAIN
--                   and SERVFAIL responses, distinct clients, first and last seen
--   dns_apex_hour   per hour, server and apex: queries (the heatmap)
--   dns_apex_week   per week, server and apex: totals, distinct clients, queries per day
--   dns_apex_month  per month, server and apex: totals, distinct clients, days with queries
--
-- One view reads DNS_LOG for this whole family (each view on DNS_LOG costs insert throughput):
-- it sums each insert per hour, server and name into dns_name_hour_stage, a Null table that stores
-- nothing. dns_domain_day and dns_apex_hour are fed from that stage, dns_apex_week and
-- dns_apex_month from dns_domain_day.
--
-- Unlike the guide, qtype is not part of dns_domain_day's key: TypeQueries holds the queries per
-- qtype, and distinct clients are counted per name. One row per (name, qtype) with a client sketch
-- each took 1.7 times the space (clickhouse/README.md).
-- Apex is the registrable domain from the public suffix list, computed when the row is written
-- (src/store/rowbinary.ts); it is always a suffix of Question, so dns_domain_day stores only its
-- length (ApexLength) and reads Apex as an ALIAS. Categories are looked up when read (views in
-- 0007), so editing clickhouse/dictionaries/domain_categories.tsv re-labels past data too.
-- "Queries" counts messages with QR = 0; NXDomain and ServFail count responses with that rcode.

CREATE TABLE IF NOT EXISTS {{database}}.dns_name_hour_stage
(
    Time DateTime('UTC'),
    Server LowCardinality(String),
    Question String,
    ApexLength UInt16,
    Queries UInt64,
    Responses UInt64,
    NXDomain UInt64,
    ServFail UInt64,
    TypeQueries Map(UInt16, UInt64),
    Clients AggregateFunction(uniqCombined(12), IPv4, IPv6),
    FirstSeen DateTime('UTC'),
    LastSeen DateTime('UTC'),
    IndexTime DateTime('UTC'),
    QueryIndexTime DateTime('UTC')
)
ENGINE = Null;

CREATE TABLE IF NOT EXISTS {{database}}.dns_domain_day
(
    Day Date CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    Question String CODEC(ZSTD(9)),
    ApexLength SimpleAggregateFunction(any, UInt16) CODEC(ZSTD(3)),
    Apex String ALIAS substring(Question, length(Question) - ApexLength + 1),
    Queries SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Responses SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    NXDomain SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    ServFail SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    TypeQueries SimpleAggregateFunction(sumMap, Map(UInt16, UInt64)) CODEC(ZSTD(3)),
    Clients AggregateFunction(uniqCombined(12), IPv4, IPv6) CODEC(ZSTD(9)),
    FirstSeen SimpleAggregateFunction(min, DateTime('UTC')) CODEC(T64, ZSTD(3)),
    LastSeen SimpleAggregateFunction(max, DateTime('UTC')) CODEC(T64, ZSTD(3)),
    IndexTime SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(Day)
ORDER BY (Day, Server, reverse(Question))
TTL IndexTime + INTERVAL {{ttlDayDays}} DAY
SETTINGS min_bytes_for_wide_part = 0
COMMENT 'retention:day';

CREATE TABLE IF NOT EXISTS {{database}}.dns_apex_hour
(
    Time DateTime('UTC') CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    Apex String CODEC(ZSTD(3)),
    Queries SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    IndexTime SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(Time)
ORDER BY (Time, Server, Apex)
TTL IndexTime + INTERVAL {{ttlHourDays}} DAY
SETTINGS min_bytes_for_wide_part = 0
COMMENT 'retention:hour';

CREATE TABLE IF NOT EXISTS {{database}}.dns_apex_week
(
    Week Date CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    Apex String CODEC(ZSTD(3)),
    Queries SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    NXDomain SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    ServFail SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Clients AggregateFunction(uniqCombined(12), IPv4, IPv6) CODEC(ZSTD(9)),
    DayQueries SimpleAggregateFunction(sumMap, Map(Date, UInt64)) CODEC(ZSTD(3)),
    IndexTime SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYear(Week)
ORDER BY (Week, Server, Apex)
TTL IndexTime + INTERVAL {{ttlWeekDays}} DAY
SETTINGS min_bytes_for_wide_part = 0
COMMENT 'retention:week';

-- The month needs only which days had queries (for the average per day), not each day's count:
-- ActiveDays has bit d-1 set for day d of the month.
CREATE TABLE IF NOT EXISTS {{database}}.dns_apex_month
(
    Month Date CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    Apex String CODEC(ZSTD(3)),
    Queries SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    NXDomain SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    ServFail SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Clients AggregateFunction(uniqCombined(12), IPv4, IPv6) CODEC(ZSTD(9)),
    ActiveDays SimpleAggregateFunction(groupBitOr, UInt32) CODEC(ZSTD(3)),
    IndexTime SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYear(Month)
ORDER BY (Month, Server, Apex)
TTL IndexTime + INTERVAL {{ttlMonthDays}} DAY
SETTINGS min_bytes_for_wide_part = 0
COMMENT 'retention:month';

-- Every table here keeps wide parts (one file per column) at any size: compact parts, the default
-- below 10 MB, compress these columns 5-10% worse (clickhouse/README.md).

-- Views from the end of the chain to its start, so no level misses rows while the next is created.
CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_apex_week_mv TO {{database}}.dns_apex_week AS
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
FROM {{database}}.dns_domain_day AS src
GROUP BY Week, Server, Apex;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_apex_month_mv TO {{database}}.dns_apex_month AS
SELECT
    toStartOfMonth(src.Day) AS Month,
    src.Server AS Server,
    src.Apex AS Apex,
    sum(src.Queries) AS Queries,
    sum(src.NXDomain) AS NXDomain,
    sum(src.ServFail) AS ServFail,
    uniqCombinedMergeState(12)(src.Clients) AS Clients,
    groupBitOr(if(src.Queries > 0, bitShiftLeft(toUInt32(1), toDayOfMonth(src.Day) - 1), toUInt32(0))) AS ActiveDays,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_domain_day AS src
GROUP BY Month, Server, Apex;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_domain_day_mv TO {{database}}.dns_domain_day AS
SELECT
    toDate(src.Time) AS Day,
    src.Server AS Server,
    src.Question AS Question,
    any(src.ApexLength) AS ApexLength,
    sum(src.Queries) AS Queries,
    sum(src.Responses) AS Responses,
    sum(src.NXDomain) AS NXDomain,
    sum(src.ServFail) AS ServFail,
    sumMap(src.TypeQueries) AS TypeQueries,
    uniqCombinedMergeState(12)(src.Clients) AS Clients,
    min(src.FirstSeen) AS FirstSeen,
    max(src.LastSeen) AS LastSeen,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_name_hour_stage AS src
GROUP BY Day, Server, Question;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_apex_hour_mv TO {{database}}.dns_apex_hour AS
SELECT
    src.Time AS Time,
    src.Server AS Server,
    substring(src.Question, length(src.Question) - src.ApexLength + 1) AS Apex,
    sum(src.Queries) AS Queries,
    max(src.QueryIndexTime) AS IndexTime
FROM {{database}}.dns_name_hour_stage AS src
WHERE src.Queries > 0
GROUP BY Time, Server, Apex;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_name_hour_stage_mv TO {{database}}.dns_name_hour_stage AS
SELECT
    toStartOfHour(toDateTime(log.PacketTime)) AS Time,
    log.Server AS Server,
    log.Question AS Question,
    any(log.ApexLength) AS ApexLength,
    countIf(log.QR = 0) AS Queries,
    countIf(log.QR = 1) AS Responses,
    countIf(log.QR = 1 AND log.ResponseCode = 3) AS NXDomain,
    countIf(log.QR = 1 AND log.ResponseCode = 2) AS ServFail,
    sumMapIf(map(log.Type, toUInt64(1)), log.QR = 0) AS TypeQueries,
    uniqCombinedState(12)(log.ClientIPv4, log.ClientIPv6) AS Clients,
    min(toDateTime(log.PacketTime)) AS FirstSeen,
    max(toDateTime(log.PacketTime)) AS LastSeen,
    max(log.IndexTime) AS IndexTime,
    maxIf(log.IndexTime, log.QR = 0) AS QueryIndexTime
FROM {{database}}.DNS_LOG AS log
GROUP BY Time, Server, Question;

-- Last: rows already in DNS_LOG (an upgrade from a schema without these rollups). Through the
-- stage's views this fills all four tables.
INSERT INTO {{database}}.dns_name_hour_stage
SELECT
    toStartOfHour(toDateTime(log.PacketTime)) AS Time,
    log.Server AS Server,
    log.Question AS Question,
    any(log.ApexLength) AS ApexLength,
    countIf(log.QR = 0) AS Queries,
    countIf(log.QR = 1) AS Responses,
    countIf(log.QR = 1 AND log.ResponseCode = 3) AS NXDomain,
    countIf(log.QR = 1 AND log.ResponseCode = 2) AS ServFail,
    sumMapIf(map(log.Type, toUInt64(1)), log.QR = 0) AS TypeQueries,
    uniqCombinedState(12)(log.ClientIPv4, log.ClientIPv6) AS Clients,
    min(toDateTime(log.PacketTime)) AS FirstSeen,
    max(toDateTime(log.PacketTime)) AS LastSeen,
    max(log.IndexTime) AS IndexTime,
    maxIf(log.IndexTime, log.QR = 0) AS QueryIndexTime
FROM {{database}}.DNS_LOG AS log
GROUP BY Time, Server, Question;
