-- Cheaper materialized views, same results (measured with 976,456 bench messages inserted as 2 x 500k
-- Native rows; clickhouse/README.md, "Rollups").
--
-- dns_name_hour_stage_mv: queries per qtype were sumMapIf(map(Type, 1), QR = 0), which builds a map
-- per message and merges it into a generic per-group map: the view's SELECT took 0.080 CPU-s per
-- 500k messages for that column alone, its whole GROUP BY 0.112. Now the group collects its query
-- types (groupArrayIf) and counts each distinct one (countEqual): 0.048 s, and the same map, keys
-- ascending (checked equal on the bench capture's 71,555 groups; test/rollups.test.ts compares every
-- rollup with DNS_LOG). Replacing a view keeps its target's rows; nothing else changes.
DROP VIEW IF EXISTS {{database}}.dns_name_hour_stage_mv;

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
