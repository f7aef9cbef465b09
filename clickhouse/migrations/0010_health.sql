-- dnslens' own counters, so one datasource (Grafana's) shows the DNS data and the health of what
-- collects it. Every --metricFlushInterval a dnslens process writes one snapshot (src/store/health.ts):
--   Kind 'counter': Value is the increase since the process' previous snapshot (packets, bytes,
--     dnsMessages, notDns, malformed, and per Reason: malformed, unsupported, dropped (stage:reason),
--     ClickHouse writer insertedRows, failedInserts, spooledRows, replayedRows), so sum(Value) over
--     any range is the total and restarts need no special case;
--   Kind 'gauge': Value is the reading at Time (queueRows: rows accepted but not yet in the store;
--     insertLatencyUs: how long the last insert took).
-- Server is --serverName; Sensor tells apart processes writing under the same name (host:pid).
-- Retention is the minute rollups' (IndexTime is the snapshot's hour).
CREATE TABLE IF NOT EXISTS {{database}}.dnslens_health
(
    Time DateTime64(3, 'UTC') CODEC(Delta, ZSTD(3)),
    Server LowCardinality(String),
    Sensor LowCardinality(String),
    Kind Enum8('counter' = 1, 'gauge' = 2),
    Counter LowCardinality(String),
    Reason LowCardinality(String) DEFAULT '',
    Value UInt64 CODEC(T64, ZSTD(3)),
    IndexTime DateTime('UTC') DEFAULT toStartOfHour(toDateTime(Time)) CODEC(ZSTD(3))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(Time)
ORDER BY (Server, Counter, Reason, Time)
TTL IndexTime + INTERVAL {{ttlMinuteDays}} DAY
COMMENT 'retention:minute';
