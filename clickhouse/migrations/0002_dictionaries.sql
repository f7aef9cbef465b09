-- Lookup data for names instead of numbers. Each table is filled from the TSV file of the same
-- name in clickhouse/dictionaries/ (dict_dns_type <- dns_type.tsv); the migration runner reloads a
-- table whenever its file changes, so edit the file, not the table. The dictionaries over these
-- tables (dns_type, dns_class, dns_opcode, dns_response, domain_categories) are defined in
-- clickhouse/dictionaries/dictionaries.sql, re-created at every start with the current credentials.
CREATE TABLE IF NOT EXISTS {{database}}.dict_dns_type
(
    Id UInt64,
    Name String
)
ENGINE = MergeTree
ORDER BY Id;

CREATE TABLE IF NOT EXISTS {{database}}.dict_dns_class
(
    Id UInt64,
    Name String
)
ENGINE = MergeTree
ORDER BY Id;

CREATE TABLE IF NOT EXISTS {{database}}.dict_dns_opcode
(
    Id UInt64,
    Name String
)
ENGINE = MergeTree
ORDER BY Id;

CREATE TABLE IF NOT EXISTS {{database}}.dict_dns_response
(
    Id UInt64,
    Name String
)
ENGINE = MergeTree
ORDER BY Id;

CREATE TABLE IF NOT EXISTS {{database}}.dict_domain_categories
(
    Apex String,
    Category LowCardinality(String),
    Provider LowCardinality(String),
    CachePriority UInt8
)
ENGINE = MergeTree
ORDER BY Apex;
