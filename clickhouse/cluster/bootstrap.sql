-- Cluster variant, derived from clickhouse/bootstrap.sql: <table>_local is a Replicated table on every
-- node, <table> a Distributed table over it, views read the Distributed tables and materialized
-- views feed the local ones. See clickhouse/README.md, "Cluster".
-- Run before every migration pass (must stay idempotent): the database and the table recording
-- which migrations were applied. Dictionary files loaded are recorded there too, as
-- 'dictionaries/<file>.tsv' with the checksum of the content loaded.
CREATE DATABASE IF NOT EXISTS {{database}} ON CLUSTER '{{cluster}}';

CREATE TABLE IF NOT EXISTS {{database}}.dnslens_migrations ON CLUSTER '{{cluster}}'
(
    name String,
    checksum String,
    applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/all/{{database}}/dnslens_migrations', '{replica}')
ORDER BY (name, applied_at);
