-- Signals (issue #14): what the detections in clickhouse/signals/*.sql found (src/signals/).
-- One row per signal that fired, for one subject, over one window of DNS time:
--   Time         when dnslens evaluated it (wall clock)
--   Signal       its name (nxdomain-client, tunnel, ...: README "Signals")
--   Subject      what it is about: a client address, an apex domain, a DNS server address, a day
--   Client       the client it concerns when the subject is a domain ('' otherwise)
--   Server       the capture's --serverName the evaluation was limited to ('' = every server)
--   WindowStart, WindowEnd  the DNS time it looked at, [start, end)
--   Score        how far past its threshold: 1 is at the threshold (each signal's README entry)
--   Evidence     the counts and ratios that made it fire, by name
--   Examples     example names (or clients) behind it
--   Sensor       the process that evaluated it (host:pid)
-- A subject fires once per window: a later evaluation whose window overlaps a stored row of the
-- same signal, subject and client is not stored again.
CREATE TABLE IF NOT EXISTS {{database}}.dns_signals
(
    Time DateTime64(3, 'UTC') CODEC(Delta, ZSTD(3)),
    Signal LowCardinality(String),
    Subject String CODEC(ZSTD(3)),
    Client String DEFAULT '' CODEC(ZSTD(3)),
    Server LowCardinality(String),
    WindowStart DateTime64(3, 'UTC') CODEC(Delta, ZSTD(3)),
    WindowEnd DateTime64(3, 'UTC') CODEC(Delta, ZSTD(3)),
    Score Float64 CODEC(ZSTD(3)),
    Evidence Map(LowCardinality(String), Float64) CODEC(ZSTD(3)),
    Examples Array(String) CODEC(ZSTD(3)),
    Sensor LowCardinality(String),
    IndexTime DateTime('UTC') DEFAULT toStartOfHour(toDateTime(Time)) CODEC(ZSTD(3))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(IndexTime)
ORDER BY (Signal, Subject, WindowStart)
TTL IndexTime + INTERVAL {{ttlDayDays}} DAY
COMMENT 'retention:day';

-- The character model of the DGA signal (clickhouse/signals/dga.sql): ln P(c | ab) per trigram abc,
-- and per context ab the score of a character never seen after it; loaded from
-- clickhouse/dictionaries/dga_ngrams.tsv (trained by src/signals/train-ngrams.ts on benign words
-- and names), read through the dga_ngrams dictionary.
CREATE TABLE IF NOT EXISTS {{database}}.dict_dga_ngrams
(
    Gram String,
    LogP Float32
)
ENGINE = MergeTree
ORDER BY Gram;
