-- Cluster variant, derived from clickhouse/migrations/0008_event_fields.sql: the local tables first,
-- then the Distributed table over them.
ALTER TABLE {{database}}.DNS_LOG_local ON CLUSTER '{{cluster}}'
    ADD COLUMN IF NOT EXISTS Unanswered UInt8 DEFAULT 0 CODEC(ZSTD(3)),
    ADD COLUMN IF NOT EXISTS ClientId String DEFAULT '' CODEC(ZSTD(3)),
    ADD COLUMN IF NOT EXISTS MessageType LowCardinality(String) DEFAULT '';

ALTER TABLE {{database}}.DNS_LOG ON CLUSTER '{{cluster}}'
    ADD COLUMN IF NOT EXISTS Unanswered UInt8 DEFAULT 0,
    ADD COLUMN IF NOT EXISTS ClientId String DEFAULT '',
    ADD COLUMN IF NOT EXISTS MessageType LowCardinality(String) DEFAULT '';
