-- Every view of the schema: the materialized views that fill the rollups and the seed guide's report
-- views. Unlike the numbered migrations this file is applied again whenever its text, rendered with
-- the placeholders, changes: a new --timezone, other client prefixes, or an edit here. Then dnslens
-- drops these views, rebuilds the rollups for the periods DNS_LOG backs, and creates them again
-- (src/store/views.ts; writers must be stopped meanwhile). Every materialized view has one source, named "FROM <table> AS log" (DNS_LOG)
-- or "FROM <table> AS src" (a finer rollup): the rebuild composes a rollup's query from them.
--
-- Periods: minutes are the same in every zone; hours, days, weeks (from Monday) and months start at
-- their local start in {{timezone}}. Time columns hold that instant (DateTime('UTC')); Date columns
-- the local date.
-- Each family has one view on DNS_LOG; the hour, day, week and month tables are fed from the inserts
-- into its minute table (for the seed guide's per-name and per-apex tables, the hour stage), never
-- from DNS_LOG again.

-- Traffic: messages per minute by every low-cardinality dimension (0003).
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

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_traffic_hour_mv TO {{database}}.dns_traffic_hour AS
SELECT
    toStartOfHour(src.Time, '{{timezone}}') AS Time,
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

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_traffic_day_mv TO {{database}}.dns_traffic_day AS
SELECT
    toStartOfDay(src.Time, '{{timezone}}') AS Time,
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

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_traffic_week_mv TO {{database}}.dns_traffic_week AS
SELECT
    toDateTime(toStartOfWeek(src.Time, 1, '{{timezone}}'), '{{timezone}}') AS Time,
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

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_traffic_month_mv TO {{database}}.dns_traffic_month AS
SELECT
    toDateTime(toStartOfMonth(src.Time, '{{timezone}}'), '{{timezone}}') AS Time,
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

-- Names: distinct names and clients per server and minute (0004; no top lists since 0019).
CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_names_minute_mv TO {{database}}.dns_names_minute AS
SELECT
    toStartOfMinute(log.PacketTime) AS Time,
    log.Server AS Server,
    countIf(log.QR = 0) AS Queries,
    countIf(log.QR = 1) AS Responses,
    uniqCombinedState(12)(log.Question) AS UniqueNames,
    uniqCombinedState(12)(log.ClientIPv4, log.ClientIPv6) AS UniqueClients,
    max(log.IndexTime) AS IndexTime
FROM {{database}}.DNS_LOG AS log
GROUP BY Time, Server;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_names_hour_mv TO {{database}}.dns_names_hour AS
SELECT
    toStartOfHour(src.Time, '{{timezone}}') AS Time,
    src.Server AS Server,
    sum(src.Queries) AS Queries,
    sum(src.Responses) AS Responses,
    uniqCombinedMergeState(12)(src.UniqueNames) AS UniqueNames,
    uniqCombinedMergeState(12)(src.UniqueClients) AS UniqueClients,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_names_minute AS src
GROUP BY Time, Server;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_names_day_mv TO {{database}}.dns_names_day AS
SELECT
    toStartOfDay(src.Time, '{{timezone}}') AS Time,
    src.Server AS Server,
    sum(src.Queries) AS Queries,
    sum(src.Responses) AS Responses,
    uniqCombinedMergeState(12)(src.UniqueNames) AS UniqueNames,
    uniqCombinedMergeState(12)(src.UniqueClients) AS UniqueClients,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_names_minute AS src
GROUP BY Time, Server;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_names_week_mv TO {{database}}.dns_names_week AS
SELECT
    toDateTime(toStartOfWeek(src.Time, 1, '{{timezone}}'), '{{timezone}}') AS Time,
    src.Server AS Server,
    sum(src.Queries) AS Queries,
    sum(src.Responses) AS Responses,
    uniqCombinedMergeState(12)(src.UniqueNames) AS UniqueNames,
    uniqCombinedMergeState(12)(src.UniqueClients) AS UniqueClients,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_names_minute AS src
GROUP BY Time, Server;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_names_month_mv TO {{database}}.dns_names_month AS
SELECT
    toDateTime(toStartOfMonth(src.Time, '{{timezone}}'), '{{timezone}}') AS Time,
    src.Server AS Server,
    sum(src.Queries) AS Queries,
    sum(src.Responses) AS Responses,
    uniqCombinedMergeState(12)(src.UniqueNames) AS UniqueNames,
    uniqCombinedMergeState(12)(src.UniqueClients) AS UniqueClients,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_names_minute AS src
GROUP BY Time, Server;

-- Clients: per client prefix and minute, queries, responses, failures (0005), and the response times
-- and unanswered queries that dns_latency_clients_* held (0009; those names are now views below).
-- LatencyBuckets: the distinct buckets of the group, each with its count (cheaper than summing a
-- map per message: 0.03 against 0.11 CPU-s per million messages).
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
    countIf(log.QR = 1 AND log.ResponseTimeUs IS NOT NULL) AS Answered,
    countIf(log.QR = 0 AND log.Unanswered = 1) AS Unanswered,
    sumIf(toUInt64(assumeNotNull(log.ResponseTimeUs)), log.QR = 1 AND log.ResponseTimeUs IS NOT NULL) AS LatencySumUs,
    mapFromArrays(
        arraySort(arrayDistinct(groupArrayIf(toUInt8(least(255, floor(4 * log2(greatest(assumeNotNull(log.ResponseTimeUs), 1))))), log.QR = 1 AND log.ResponseTimeUs IS NOT NULL))),
        arrayMap(b -> toUInt64(countEqual(groupArrayIf(toUInt8(least(255, floor(4 * log2(greatest(assumeNotNull(log.ResponseTimeUs), 1))))), log.QR = 1 AND log.ResponseTimeUs IS NOT NULL), b)), arraySort(arrayDistinct(groupArrayIf(toUInt8(least(255, floor(4 * log2(greatest(assumeNotNull(log.ResponseTimeUs), 1))))), log.QR = 1 AND log.ResponseTimeUs IS NOT NULL))))
    ) AS LatencyBuckets,
    max(log.IndexTime) AS IndexTime
FROM {{database}}.DNS_LOG AS log
GROUP BY Time, Server, ClientIPv4, ClientIPv6;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_clients_hour_mv TO {{database}}.dns_clients_hour AS
SELECT
    toStartOfHour(src.Time, '{{timezone}}') AS Time,
    src.Server AS Server,
    src.ClientIPv4 AS ClientIPv4,
    src.ClientIPv6 AS ClientIPv6,
    sum(src.Queries) AS Queries,
    sum(src.Responses) AS Responses,
    sum(src.NXDomain) AS NXDomain,
    sum(src.ServFail) AS ServFail,
    sum(src.Refused) AS Refused,
    sum(src.Answered) AS Answered,
    sum(src.Unanswered) AS Unanswered,
    sum(src.LatencySumUs) AS LatencySumUs,
    sumMap(src.LatencyBuckets) AS LatencyBuckets,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_clients_minute AS src
GROUP BY Time, Server, ClientIPv4, ClientIPv6;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_clients_day_mv TO {{database}}.dns_clients_day AS
SELECT
    toStartOfDay(src.Time, '{{timezone}}') AS Time,
    src.Server AS Server,
    src.ClientIPv4 AS ClientIPv4,
    src.ClientIPv6 AS ClientIPv6,
    sum(src.Queries) AS Queries,
    sum(src.Responses) AS Responses,
    sum(src.NXDomain) AS NXDomain,
    sum(src.ServFail) AS ServFail,
    sum(src.Refused) AS Refused,
    sum(src.Answered) AS Answered,
    sum(src.Unanswered) AS Unanswered,
    sum(src.LatencySumUs) AS LatencySumUs,
    sumMap(src.LatencyBuckets) AS LatencyBuckets,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_clients_minute AS src
GROUP BY Time, Server, ClientIPv4, ClientIPv6;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_clients_week_mv TO {{database}}.dns_clients_week AS
SELECT
    toDateTime(toStartOfWeek(src.Time, 1, '{{timezone}}'), '{{timezone}}') AS Time,
    src.Server AS Server,
    src.ClientIPv4 AS ClientIPv4,
    src.ClientIPv6 AS ClientIPv6,
    sum(src.Queries) AS Queries,
    sum(src.Responses) AS Responses,
    sum(src.NXDomain) AS NXDomain,
    sum(src.ServFail) AS ServFail,
    sum(src.Refused) AS Refused,
    sum(src.Answered) AS Answered,
    sum(src.Unanswered) AS Unanswered,
    sum(src.LatencySumUs) AS LatencySumUs,
    sumMap(src.LatencyBuckets) AS LatencyBuckets,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_clients_minute AS src
GROUP BY Time, Server, ClientIPv4, ClientIPv6;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_clients_month_mv TO {{database}}.dns_clients_month AS
SELECT
    toDateTime(toStartOfMonth(src.Time, '{{timezone}}'), '{{timezone}}') AS Time,
    src.Server AS Server,
    src.ClientIPv4 AS ClientIPv4,
    src.ClientIPv6 AS ClientIPv6,
    sum(src.Queries) AS Queries,
    sum(src.Responses) AS Responses,
    sum(src.NXDomain) AS NXDomain,
    sum(src.ServFail) AS ServFail,
    sum(src.Refused) AS Refused,
    sum(src.Answered) AS Answered,
    sum(src.Unanswered) AS Unanswered,
    sum(src.LatencySumUs) AS LatencySumUs,
    sumMap(src.LatencyBuckets) AS LatencyBuckets,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_clients_minute AS src
GROUP BY Time, Server, ClientIPv4, ClientIPv6;

CREATE VIEW IF NOT EXISTS {{database}}.dns_latency_clients_minute AS
SELECT Time, Server, ClientIPv4, ClientIPv6, Answered, Unanswered, LatencySumUs, LatencyBuckets, IndexTime
FROM {{database}}.dns_clients_minute
WHERE Answered > 0 OR Unanswered > 0;

CREATE VIEW IF NOT EXISTS {{database}}.dns_latency_clients_hour AS
SELECT Time, Server, ClientIPv4, ClientIPv6, Answered, Unanswered, LatencySumUs, LatencyBuckets, IndexTime
FROM {{database}}.dns_clients_hour
WHERE Answered > 0 OR Unanswered > 0;

CREATE VIEW IF NOT EXISTS {{database}}.dns_latency_clients_day AS
SELECT Time, Server, ClientIPv4, ClientIPv6, Answered, Unanswered, LatencySumUs, LatencyBuckets, IndexTime
FROM {{database}}.dns_clients_day
WHERE Answered > 0 OR Unanswered > 0;

-- Latency per DNS server address (0009).
CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_latency_minute_mv TO {{database}}.dns_latency_minute AS
SELECT
    toStartOfMinute(log.PacketTime) AS Time,
    log.Server AS Server,
    log.ServerIPv4 AS ServerIPv4,
    log.ServerIPv6 AS ServerIPv6,
    countIf(log.QR = 1 AND log.ResponseTimeUs IS NOT NULL) AS Answered,
    countIf(log.QR = 0 AND log.Unanswered = 1) AS Unanswered,
    sumIf(toUInt64(assumeNotNull(log.ResponseTimeUs)), log.QR = 1 AND log.ResponseTimeUs IS NOT NULL) AS LatencySumUs,
    mapFromArrays(
        arraySort(arrayDistinct(groupArrayIf(toUInt8(least(255, floor(4 * log2(greatest(assumeNotNull(log.ResponseTimeUs), 1))))), log.QR = 1 AND log.ResponseTimeUs IS NOT NULL))),
        arrayMap(b -> toUInt64(countEqual(groupArrayIf(toUInt8(least(255, floor(4 * log2(greatest(assumeNotNull(log.ResponseTimeUs), 1))))), log.QR = 1 AND log.ResponseTimeUs IS NOT NULL), b)), arraySort(arrayDistinct(groupArrayIf(toUInt8(least(255, floor(4 * log2(greatest(assumeNotNull(log.ResponseTimeUs), 1))))), log.QR = 1 AND log.ResponseTimeUs IS NOT NULL))))
    ) AS LatencyBuckets,
    max(log.IndexTime) AS IndexTime
FROM {{database}}.DNS_LOG AS log
WHERE (log.QR = 1 AND log.ResponseTimeUs IS NOT NULL) OR (log.QR = 0 AND log.Unanswered = 1)
GROUP BY Time, Server, ServerIPv4, ServerIPv6;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_latency_hour_mv TO {{database}}.dns_latency_hour AS
SELECT
    toStartOfHour(src.Time, '{{timezone}}') AS Time,
    src.Server AS Server,
    src.ServerIPv4 AS ServerIPv4,
    src.ServerIPv6 AS ServerIPv6,
    sum(src.Answered) AS Answered,
    sum(src.Unanswered) AS Unanswered,
    sum(src.LatencySumUs) AS LatencySumUs,
    sumMap(src.LatencyBuckets) AS LatencyBuckets,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_latency_minute AS src
GROUP BY Time, Server, ServerIPv4, ServerIPv6;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_latency_day_mv TO {{database}}.dns_latency_day AS
SELECT
    toStartOfDay(src.Time, '{{timezone}}') AS Time,
    src.Server AS Server,
    src.ServerIPv4 AS ServerIPv4,
    src.ServerIPv6 AS ServerIPv6,
    sum(src.Answered) AS Answered,
    sum(src.Unanswered) AS Unanswered,
    sum(src.LatencySumUs) AS LatencySumUs,
    sumMap(src.LatencyBuckets) AS LatencyBuckets,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_latency_minute AS src
GROUP BY Time, Server, ServerIPv4, ServerIPv6;

-- The seed guide's tables (0006): per hour, server and name into the Null stage; from there the
-- day per name (dns_domain_day) and the hour per apex (dns_apex_hour); from the day, the week and
-- month per apex. Queries per qtype: the group's distinct types, each with its count (0011).
CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_name_hour_stage_mv TO {{database}}.dns_name_hour_stage AS
SELECT
    toStartOfHour(toDateTime(log.PacketTime), '{{timezone}}') AS Time,
    log.Server AS Server,
    log.Question AS Question,
    any(log.ApexLength) AS ApexLength,
    countIf(log.QR = 0) AS Queries,
    countIf(log.QR = 1) AS Responses,
    countIf(log.QR = 1 AND log.ResponseCode = 3) AS NXDomain,
    countIf(log.QR = 1 AND log.ResponseCode = 2) AS ServFail,
    mapFromArrays(
        arraySort(arrayDistinct(groupArrayIf(log.Type, log.QR = 0))),
        arrayMap(t -> toUInt64(countEqual(groupArrayIf(log.Type, log.QR = 0), t)), arraySort(arrayDistinct(groupArrayIf(log.Type, log.QR = 0))))
    ) AS TypeQueries,
    uniqCombinedState(12)(log.ClientIPv4, log.ClientIPv6) AS Clients,
    min(toDateTime(log.PacketTime)) AS FirstSeen,
    max(toDateTime(log.PacketTime)) AS LastSeen,
    max(log.IndexTime) AS IndexTime,
    maxIf(log.IndexTime, log.QR = 0) AS QueryIndexTime
FROM {{database}}.DNS_LOG AS log
GROUP BY Time, Server, Question;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_domain_day_mv TO {{database}}.dns_domain_day AS
SELECT
    toDate(src.Time, '{{timezone}}') AS Day,
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

-- DayQueries: summed as arrays and made a map once per group (a map per row costs more).
CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_apex_week_mv TO {{database}}.dns_apex_week AS
SELECT
    toStartOfWeek(src.Day, 1) AS Week,
    src.Server AS Server,
    src.Apex AS Apex,
    sum(src.Queries) AS Queries,
    sum(src.NXDomain) AS NXDomain,
    sum(src.ServFail) AS ServFail,
    uniqCombinedMergeState(12)(src.Clients) AS Clients,
    mapFromArrays(tupleElement(sumMap([src.Day], [toUInt64(src.Queries)]) AS days, 1), tupleElement(days, 2)) AS DayQueries,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_domain_day AS src
GROUP BY Week, Server, Apex;

-- No client sketch per month (0014): it cost more than the rest of the row.
CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.dns_apex_month_mv TO {{database}}.dns_apex_month AS
SELECT
    toStartOfMonth(src.Day) AS Month,
    src.Server AS Server,
    src.Apex AS Apex,
    sum(src.Queries) AS Queries,
    sum(src.NXDomain) AS NXDomain,
    sum(src.ServFail) AS ServFail,
    groupBitOr(if(src.Queries > 0, bitShiftLeft(toUInt32(1), toDayOfMonth(src.Day) - 1), toUInt32(0))) AS ActiveDays,
    max(src.IndexTime) AS IndexTime
FROM {{database}}.dns_domain_day AS src
GROUP BY Month, Server, Apex;

-- The seed guide's tables under their own names and column names, as views over the rollups, so
-- its chapter 5 queries run nearly unchanged (0007). Views add up all servers; the tables under
-- them keep Server. Days, weeks (from Monday), months and hours are {{timezone}}'s.
-- Categories and type names come from the dictionaries at read time.
CREATE VIEW IF NOT EXISTS {{database}}.dns_daily_stats AS
SELECT
    Day AS stat_date,
    Question AS domain,
    Apex AS apex_domain,
    sum(Queries) AS hit_count,
    uniqCombinedMerge(12)(Clients) AS unique_clients,
    sum(NXDomain) AS nxdomain_count,
    sum(ServFail) AS servfail_count,
    min(FirstSeen) AS first_seen,
    max(LastSeen) AS last_seen,
    -- the guide keys this table by qtype too; here the queries per qtype are a map: {'A': 12, 'AAAA': 7}
    mapApply((t, n) -> (dictGetOrDefault('{{database}}.dns_type', 'Name', toUInt64(t), concat('TYPE', toString(t))), n),
             sumMap(TypeQueries)) AS qtype_hits
FROM {{database}}.dns_domain_day
GROUP BY Day, Question, Apex;

CREATE VIEW IF NOT EXISTS {{database}}.dns_weekly_stats AS
SELECT
    Week AS week_start,
    Week + 6 AS week_end,
    Apex AS apex_domain,
    sum(Queries) AS total_queries,
    uniqCombinedMerge(12)(Clients) AS unique_clients,
    sumMap(DayQueries) AS day_queries,
    -- the busiest day; the earlier one on a tie
    arraySort((d, n) -> (-toInt64(n), d), mapKeys(day_queries), mapValues(day_queries))[1] AS peak_day,
    arrayMax(mapValues(day_queries)) AS peak_day_count,
    sum(NXDomain) AS nxdomain_count,
    dictGet('{{database}}.domain_categories', 'Category', Apex) AS category
FROM {{database}}.dns_apex_week
GROUP BY Week, Apex;

-- unique_clients: from the days of the month, while dns_domain_day keeps them (the month rows have
-- no client sketch); 0 for months older than that.
CREATE VIEW IF NOT EXISTS {{database}}.dns_monthly_stats AS
SELECT
    formatDateTime(m.Month, '%Y-%m') AS year_month,
    m.Apex AS apex_domain,
    m.total_queries AS total_queries,
    c.unique_clients AS unique_clients,
    m.avg_daily AS avg_daily,
    m.rank_in_month AS rank_in_month,
    m.nxdomain_count AS nxdomain_count,
    m.category AS category
FROM (
    SELECT
        Month,
        Apex,
        sum(Queries) AS total_queries,
        -- over the days of the month on which the apex was queried
        round(total_queries / greatest(1, bitCount(groupBitOr(ActiveDays))), 2) AS avg_daily,
        rank() OVER (PARTITION BY Month ORDER BY sum(Queries) DESC) AS rank_in_month,
        sum(NXDomain) AS nxdomain_count,
        dictGet('{{database}}.domain_categories', 'Category', Apex) AS category
    FROM {{database}}.dns_apex_month
    GROUP BY Month, Apex
) AS m
LEFT JOIN (
    SELECT toStartOfMonth(Day) AS Month, Apex, uniqCombinedMerge(12)(Clients) AS unique_clients
    FROM {{database}}.dns_domain_day
    GROUP BY Month, Apex
) AS c ON c.Month = m.Month AND c.Apex = m.Apex;

CREATE VIEW IF NOT EXISTS {{database}}.dns_hourly_heatmap AS
SELECT
    toDate(Time, '{{timezone}}') AS stat_date,
    toHour(Time, '{{timezone}}') AS hour_of_day,
    Apex AS apex_domain,
    sum(Queries) AS query_count
FROM {{database}}.dns_apex_hour
GROUP BY stat_date, hour_of_day, apex_domain;
