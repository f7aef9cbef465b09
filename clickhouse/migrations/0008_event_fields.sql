-- Event fields added with matching, pseudonymisation and dnstap (docs/event.md):
--  Unanswered: a query whose response did not come within --matchTimeout;
--  ClientId: keyed pseudonym of the client address (--clientIdKey), '' when off;
--  MessageType: dnstap message type (CLIENT_QUERY, ...), '' for packets.
ALTER TABLE {{database}}.DNS_LOG
    ADD COLUMN IF NOT EXISTS Unanswered UInt8 DEFAULT 0 CODEC(ZSTD(3)),
    ADD COLUMN IF NOT EXISTS ClientId String DEFAULT '' CODEC(ZSTD(3)),
    ADD COLUMN IF NOT EXISTS MessageType LowCardinality(String) DEFAULT '';
