-- Imports (issue #12): importing the same data twice never counts twice.
--
-- dnslens_imports records every file dnslens imports into this store (src/outputs/clickhouse/imports.ts):
-- a file whose import is complete is skipped (--reimport imports it again), and an interrupted one is
-- completed by running the same command again. Each change of an import is a new row with a higher
-- Version; the highest is its state (read with FINAL). Rows stay: a file imported before the raw
-- rows' retention removed them still has its rollups, which an import again would count twice.
--   ImportId        one per import: a resumed import keeps it, --reimport starts a new one
--   FileSize, FileSha256, PacketLimit  what was imported: the whole file's content (and --packetLimit, 0 = all of it)
--   Path            the path as given; InputKind: pcap, dnstap (log: below)
--   FirstPacket, LastPacket  the packet time range of its messages (NULL before the first)
--   Rows, Batches   rows stored in DNS_LOG, in that many batches of BatchRows rows from the file's start
--   IndexTime       the IndexTime of every row (a resumed import writes the same, so a batch sent again is recognised)
--   State           partial until every batch is stored, then complete
-- Log inputs (query logs followed like tail -F, a later issue) record where reading stopped instead of
-- a whole-file hash: the file's inode (LogInode), the SHA-256 of its first line (to notice a rotated
-- file under the same inode, LogFirstLineSha256) and the byte offset read up to (LogOffset).
-- Unused (0, '') for whole files.
CREATE TABLE IF NOT EXISTS {{database}}.dnslens_imports
(
    ImportId String,
    Version UInt64,
    State Enum8('partial' = 1, 'complete' = 2),
    InputKind LowCardinality(String),
    Path String,
    FileSize UInt64,
    FileSha256 String,
    PacketLimit UInt64 DEFAULT 0,
    Server LowCardinality(String),
    FirstPacket Nullable(DateTime64(6, 'UTC')),
    LastPacket Nullable(DateTime64(6, 'UTC')),
    Rows UInt64,
    Batches UInt32,
    BatchRows UInt32,
    IndexTime DateTime('UTC'),
    StartedAt DateTime64(3, 'UTC'),
    FinishedAt Nullable(DateTime64(3, 'UTC')),
    UpdatedAt DateTime64(3, 'UTC') DEFAULT now64(3),
    LogInode UInt64 DEFAULT 0,
    LogFirstLineSha256 String DEFAULT '',
    LogOffset UInt64 DEFAULT 0
)
ENGINE = ReplacingMergeTree(Version)
ORDER BY ImportId;

-- Insert deduplication for file imports. A file import cuts the file into batches by row count and
-- gives each the token <ImportId>:<batch number>; the store keeps the tokens of the last 1000 blocks
-- each table took, and drops a block whose token it holds. Sent again after a crash, a batch is
-- dropped where it landed and stored where it did not (insert_deduplicate with
-- deduplicate_blocks_in_dependent_materialized_views: DNS_LOG and each rollup decide for themselves),
-- so DNS_LOG and every rollup end with it once. Inserts without a token (live capture) are not
-- checked (src/store/connection.ts). A table created later that a view writes to carries
-- SETTINGS non_replicated_deduplication_window = 1000 itself. (The cluster schema's replicated
-- tables deduplicate by default: these statements have no cluster form.)
ALTER TABLE {{database}}.DNS_LOG MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{database}}.dns_traffic_minute MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{database}}.dns_traffic_hour MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{database}}.dns_traffic_day MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{database}}.dns_traffic_week MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{database}}.dns_traffic_month MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{database}}.dns_names_minute MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{database}}.dns_names_hour MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{database}}.dns_names_day MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{database}}.dns_names_week MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{database}}.dns_names_month MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{database}}.dns_clients_minute MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{database}}.dns_clients_hour MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{database}}.dns_clients_day MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{database}}.dns_clients_week MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{database}}.dns_clients_month MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{database}}.dns_domain_day MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{database}}.dns_apex_hour MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{database}}.dns_apex_week MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{database}}.dns_apex_month MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{database}}.dns_latency_minute MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{database}}.dns_latency_hour MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{database}}.dns_latency_day MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{database}}.dns_latency_clients_minute MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{database}}.dns_latency_clients_hour MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{database}}.dns_latency_clients_day MODIFY SETTING non_replicated_deduplication_window = 1000;
