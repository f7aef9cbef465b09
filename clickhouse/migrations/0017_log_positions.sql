-- Read positions of resolver logs (issue #13): --bindLogFile, --dnsmasqLogFile, read once or followed.
--
-- A log file is one import in dnslens_imports (0013), named by the SHA-256 of its first line
-- (LogFirstLineSha256: the same content under another name after a rotation, or a copy) with its
-- inode. LogOffset is where its stored events end; LogHoldFrom is where to start reading to rebuild
-- the queries that waited for their reply at LogOffset (dnsmasq pairs a query line with a later reply
-- line). State complete: read to its end (a file read once).
--
-- dnslens_log_chunks records each chunk of lines before its events go out (write-ahead): lines
-- [StartOffset, EndOffset) of one file become one insert whose deduplication token names that range,
-- and whose rows carry IndexTime. A run after a crash cuts every chunk recorded beyond LogOffset again
-- at the same offsets, so a chunk that was stored is dropped by the store and one that was not is
-- stored now: no gap and no duplicate (src/outputs/clickhouse/logledger.ts).
ALTER TABLE {{database}}.dnslens_imports
    ADD COLUMN IF NOT EXISTS LogHoldFrom UInt64 DEFAULT 0;

CREATE TABLE IF NOT EXISTS {{database}}.dnslens_log_chunks
(
    ImportId String,
    StartOffset UInt64,
    EndOffset UInt64,
    HoldFrom UInt64,
    IndexTime DateTime('UTC'),
    CutAt DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (ImportId, StartOffset)
TTL toDateTime(CutAt) + INTERVAL 30 DAY;

-- What resolver logs tell beyond the message (docs/event.md); '' for packets and dnstap:
--  Resolution: cached, stale, forwarded, local or blocked (dnsmasq, Pi-hole);
--  Upstream: the server a forwarded query went to; EventHash: the stable identity of a log event;
--  RawLine: the log line(s), with --keepRawLine.
ALTER TABLE {{database}}.DNS_LOG
    ADD COLUMN IF NOT EXISTS Resolution LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS Upstream LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS EventHash String DEFAULT '' CODEC(ZSTD(3)),
    ADD COLUMN IF NOT EXISTS RawLine String DEFAULT '' CODEC(ZSTD(6));
