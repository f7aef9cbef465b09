-- Cluster variant, derived from clickhouse/migrations/0002_dictionaries.sql: <table>_local is a Replicated table on every
-- node, <table> a Distributed table over it, views read the Distributed tables and materialized
-- views feed the local ones. See clickhouse/README.md, "Cluster".
-- Lookup data for names instead of numbers. Each table is filled from the TSV file of the same
-- name in clickhouse/dictionaries/ (dict_dns_type <- dns_type.tsv); the migration runner reloads a
-- table whenever its file changes, so edit the file, not the table. The dictionaries over these
-- tables (dns_type, dns_class, dns_opcode, dns_response, domain_categories) are defined in
-- clickhouse/dictionaries/dictionaries.sql, re-created at every start with the current credentials.
CREATE TABLE IF NOT EXISTS {{database}}.dict_dns_type ON CLUSTER '{{cluster}}'
(
    Id UInt64,
    Name String
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/all/{{database}}/dict_dns_type', '{replica}')
ORDER BY Id;

CREATE TABLE IF NOT EXISTS {{database}}.dict_dns_class ON CLUSTER '{{cluster}}'
(
    Id UInt64,
    Name String
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/all/{{database}}/dict_dns_class', '{replica}')
ORDER BY Id;

CREATE TABLE IF NOT EXISTS {{database}}.dict_dns_opcode ON CLUSTER '{{cluster}}'
(
    Id UInt64,
    Name String
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/all/{{database}}/dict_dns_opcode', '{replica}')
ORDER BY Id;

CREATE TABLE IF NOT EXISTS {{database}}.dict_dns_response ON CLUSTER '{{cluster}}'
(
    Id UInt64,
    Name String
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/all/{{database}}/dict_dns_response', '{replica}')
ORDER BY Id;

CREATE TABLE IF NOT EXISTS {{database}}.dict_domain_categories ON CLUSTER '{{cluster}}'
(
    Apex String,
    Category LowCardinality(String),
    Provider LowCardinality(String),
    CachePriority UInt8
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/all/{{database}}/dict_domain_categories', '{replica}')
ORDER BY Apex;
