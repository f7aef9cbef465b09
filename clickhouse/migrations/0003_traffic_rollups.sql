-- Message counts per minute by every low-cardinality dimension of DNS_LOG: server, direction (QR),
-- transport, IP version, opcode, class, type, rcode, EDNS and DO. Counting "by qtype" or "by rcode"
-- is a GROUP BY over this table; every grouping column is in ORDER BY, so merges never mix groups.
-- dns_traffic_minute is filled from DNS_LOG; the hour/day/week/month tables are filled from the
-- minute table (an insert into DNS_LOG pays for one view here, not five).
-- Weeks start on Monday; all times are UTC.

CREATE TABLE IF NOT EXISTS {{database}}.dns_traffic_minute
(
    Time DateTime('UTC') CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    QR UInt8 CODEC(ZSTD(3)),
    Protocol LowCardinality(String),
    IPVersion UInt8 CODEC(ZSTD(3)),
    OpCode UInt8 CODEC(ZSTD(3)),
    Class UInt16 CODEC(ZSTD(3)),
    Type UInt16 CODEC(ZSTD(3)),
    ResponseCode UInt16 CODEC(ZSTD(3)),
    Edns0Present UInt8 CODEC(ZSTD(3)),
    DoBit UInt8 CODEC(ZSTD(3)),
    Messages SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Bytes SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    MaxSize SimpleAggregateFunction(max, UInt16) CODEC(ZSTD(3)),
    Truncated SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    IndexTime SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(Time)
ORDER BY (Time, Server, QR, Protocol, IPVersion, OpCode, Class, Type, ResponseCode, Edns0Present, DoBit)
TTL IndexTime + INTERVAL {{ttlMinuteDays}} DAY
COMMENT 'retention:minute';

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_traffic_minute_mv TO {{database}}.dns_traffic_minute AS
SELECT
    toStartOfMinute(log.PacketTime) AS Time,
    log.Server AS Server,
    log.QR AS QR,
    log.Protocol AS Protocol,
    log.IPVersion AS IPVersion,
    log.OpCode AS OpCode,
    log.Class AS Class,
    log.Type AS Type,
    log.ResponseCode AS ResponseCode,
    log.Edns0Present AS Edns0Present,
    log.DoBit AS DoBit,
    count() AS Messages,
    sum(log.Size) AS Bytes,
    max(log.Size) AS MaxSize,
    countIf(log.TC) AS Truncated,
    max(log.IndexTime) AS IndexTime
FROM {{database}}.DNS_LOG AS log
GROUP BY Time, Server, QR, Protocol, IPVersion, OpCode, Class, Type, ResponseCode, Edns0Present, DoBit;

CREATE TABLE IF NOT EXISTS {{database}}.dns_traffic_hour
(
    Time DateTime('UTC') CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    QR UInt8 CODEC(ZSTD(3)),
    Protocol LowCardinality(String),
    IPVersion UInt8 CODEC(ZSTD(3)),
    OpCode UInt8 CODEC(ZSTD(3)),
    Class UInt16 CODEC(ZSTD(3)),
    Type UInt16 CODEC(ZSTD(3)),
    ResponseCode UInt16 CODEC(ZSTD(3)),
    Edns0Present UInt8 CODEC(ZSTD(3)),
    DoBit UInt8 CODEC(ZSTD(3)),
    Messages SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Bytes SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    MaxSize SimpleAggregateFunction(max, UInt16) CODEC(ZSTD(3)),
    Truncated SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    IndexTime SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(Time)
ORDER BY (Time, Server, QR, Protocol, IPVersion, OpCode, Class, Type, ResponseCode, Edns0Present, DoBit)
TTL IndexTime + INTERVAL {{ttlHourDays}} DAY
COMMENT 'retention:hour';

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_traffic_hour_mv TO {{database}}.dns_traffic_hour AS
SELECT
    toStartOfHour(src.Time) AS Time,
    src.Server AS Server,
    src.QR AS QR,
    src.Protocol AS Protocol,
    src.IPVersion AS IPVersion,
    src.OpCode AS OpCode,
    src.Class AS Class,
    src.Type AS Type,
    src.ResponseCode AS ResponseCode,
    src.Edns0Present AS Edns0Present,
    src.DoBit AS DoBit,
    sum(src.Messages) AS Messages,
    sum(src.Bytes) AS Bytes,
    max(src.MaxSize) AS MaxSize,
    sum(src.Truncated) AS Truncated,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_traffic_minute AS src
GROUP BY Time, Server, QR, Protocol, IPVersion, OpCode, Class, Type, ResponseCode, Edns0Present, DoBit;

CREATE TABLE IF NOT EXISTS {{database}}.dns_traffic_day
(
    Time DateTime('UTC') CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    QR UInt8 CODEC(ZSTD(3)),
    Protocol LowCardinality(String),
    IPVersion UInt8 CODEC(ZSTD(3)),
    OpCode UInt8 CODEC(ZSTD(3)),
    Class UInt16 CODEC(ZSTD(3)),
    Type UInt16 CODEC(ZSTD(3)),
    ResponseCode UInt16 CODEC(ZSTD(3)),
    Edns0Present UInt8 CODEC(ZSTD(3)),
    DoBit UInt8 CODEC(ZSTD(3)),
    Messages SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Bytes SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    MaxSize SimpleAggregateFunction(max, UInt16) CODEC(ZSTD(3)),
    Truncated SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    IndexTime SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(Time)
ORDER BY (Time, Server, QR, Protocol, IPVersion, OpCode, Class, Type, ResponseCode, Edns0Present, DoBit)
TTL IndexTime + INTERVAL {{ttlDayDays}} DAY
COMMENT 'retention:day';

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_traffic_day_mv TO {{database}}.dns_traffic_day AS
SELECT
    toStartOfDay(src.Time) AS Time,
    src.Server AS Server,
    src.QR AS QR,
    src.Protocol AS Protocol,
    src.IPVersion AS IPVersion,
    src.OpCode AS OpCode,
    src.Class AS Class,
    src.Type AS Type,
    src.ResponseCode AS ResponseCode,
    src.Edns0Present AS Edns0Present,
    src.DoBit AS DoBit,
    sum(src.Messages) AS Messages,
    sum(src.Bytes) AS Bytes,
    max(src.MaxSize) AS MaxSize,
    sum(src.Truncated) AS Truncated,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_traffic_minute AS src
GROUP BY Time, Server, QR, Protocol, IPVersion, OpCode, Class, Type, ResponseCode, Edns0Present, DoBit;

CREATE TABLE IF NOT EXISTS {{database}}.dns_traffic_week
(
    Time DateTime('UTC') CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    QR UInt8 CODEC(ZSTD(3)),
    Protocol LowCardinality(String),
    IPVersion UInt8 CODEC(ZSTD(3)),
    OpCode UInt8 CODEC(ZSTD(3)),
    Class UInt16 CODEC(ZSTD(3)),
    Type UInt16 CODEC(ZSTD(3)),
    ResponseCode UInt16 CODEC(ZSTD(3)),
    Edns0Present UInt8 CODEC(ZSTD(3)),
    DoBit UInt8 CODEC(ZSTD(3)),
    Messages SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Bytes SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    MaxSize SimpleAggregateFunction(max, UInt16) CODEC(ZSTD(3)),
    Truncated SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    IndexTime SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYear(Time)
ORDER BY (Time, Server, QR, Protocol, IPVersion, OpCode, Class, Type, ResponseCode, Edns0Present, DoBit)
TTL IndexTime + INTERVAL {{ttlWeekDays}} DAY
COMMENT 'retention:week';

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_traffic_week_mv TO {{database}}.dns_traffic_week AS
SELECT
    toDateTime(toStartOfWeek(src.Time, 1), 'UTC') AS Time,
    src.Server AS Server,
    src.QR AS QR,
    src.Protocol AS Protocol,
    src.IPVersion AS IPVersion,
    src.OpCode AS OpCode,
    src.Class AS Class,
    src.Type AS Type,
    src.ResponseCode AS ResponseCode,
    src.Edns0Present AS Edns0Present,
    src.DoBit AS DoBit,
    sum(src.Messages) AS Messages,
    sum(src.Bytes) AS Bytes,
    max(src.MaxSize) AS MaxSize,
    sum(src.Truncated) AS Truncated,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_traffic_minute AS src
GROUP BY Time, Server, QR, Protocol, IPVersion, OpCode, Class, Type, ResponseCode, Edns0Present, DoBit;

CREATE TABLE IF NOT EXISTS {{database}}.dns_traffic_month
(
    Time DateTime('UTC') CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    QR UInt8 CODEC(ZSTD(3)),
    Protocol LowCardinality(String),
    IPVersion UInt8 CODEC(ZSTD(3)),
    OpCode UInt8 CODEC(ZSTD(3)),
    Class UInt16 CODEC(ZSTD(3)),
    Type UInt16 CODEC(ZSTD(3)),
    ResponseCode UInt16 CODEC(ZSTD(3)),
    Edns0Present UInt8 CODEC(ZSTD(3)),
    DoBit UInt8 CODEC(ZSTD(3)),
    Messages SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    Bytes SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    MaxSize SimpleAggregateFunction(max, UInt16) CODEC(ZSTD(3)),
    Truncated SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(3)),
    IndexTime SimpleAggregateFunction(max, DateTime('UTC')) CODEC(ZSTD(3))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYear(Time)
ORDER BY (Time, Server, QR, Protocol, IPVersion, OpCode, Class, Type, ResponseCode, Edns0Present, DoBit)
TTL IndexTime + INTERVAL {{ttlMonthDays}} DAY
COMMENT 'retention:month';

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_traffic_month_mv TO {{database}}.dns_traffic_month AS
SELECT
    toDateTime(toStartOfMonth(src.Time), 'UTC') AS Time,
    src.Server AS Server,
    src.QR AS QR,
    src.Protocol AS Protocol,
    src.IPVersion AS IPVersion,
    src.OpCode AS OpCode,
    src.Class AS Class,
    src.Type AS Type,
    src.ResponseCode AS ResponseCode,
    src.Edns0Present AS Edns0Present,
    src.DoBit AS DoBit,
    sum(src.Messages) AS Messages,
    sum(src.Bytes) AS Bytes,
    max(src.MaxSize) AS MaxSize,
    sum(src.Truncated) AS Truncated,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_traffic_minute AS src
GROUP BY Time, Server, QR, Protocol, IPVersion, OpCode, Class, Type, ResponseCode, Edns0Present, DoBit;

-- Last: rows already in DNS_LOG (an upgrade from a schema without this rollup). The insert
-- into the minute table fills the hour/day/week/month tables through their views.
INSERT INTO {{database}}.dns_traffic_minute
SELECT
    toStartOfMinute(log.PacketTime) AS Time,
    log.Server AS Server,
    log.QR AS QR,
    log.Protocol AS Protocol,
    log.IPVersion AS IPVersion,
    log.OpCode AS OpCode,
    log.Class AS Class,
    log.Type AS Type,
    log.ResponseCode AS ResponseCode,
    log.Edns0Present AS Edns0Present,
    log.DoBit AS DoBit,
    count() AS Messages,
    sum(log.Size) AS Bytes,
    max(log.Size) AS MaxSize,
    countIf(log.TC) AS Truncated,
    max(log.IndexTime) AS IndexTime
FROM {{database}}.DNS_LOG AS log
GROUP BY Time, Server, QR, Protocol, IPVersion, OpCode, Class, Type, ResponseCode, Edns0Present, DoBit;
