-- Run before every migration pass (must stay idempotent): the database and the table recording
-- which migrations were applied. Dictionary files loaded are recorded there too, as
-- 'dictionaries/<file>.tsv' with the checksum of the content loaded.
CREATE DATABASE IF NOT EXISTS {{database}};

CREATE TABLE IF NOT EXISTS {{database}}.dnslens_migrations
(
    name String,
    checksum String,
    applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (name, applied_at);
