-- The per-server name rollups lose their topK(10) summaries of names and apexes (issue #12): no
-- report, dashboard or signal reads them (top names and apexes come from dns_domain_day and the
-- dns_apex_* tables, which count exactly), yet they were a third of dns_names_minute's bytes (1,748
-- -> 1,195 B per row on the 7-day bench capture) and a topK state per raw row at insert.
-- The views go first, since they write the columns; views.sql creates them again without them.
DROP VIEW IF EXISTS {{database}}.dns_names_minute_mv;
DROP VIEW IF EXISTS {{database}}.dns_names_hour_mv;
DROP VIEW IF EXISTS {{database}}.dns_names_day_mv;
DROP VIEW IF EXISTS {{database}}.dns_names_week_mv;
DROP VIEW IF EXISTS {{database}}.dns_names_month_mv;

ALTER TABLE {{database}}.dns_names_minute
    DROP COLUMN IF EXISTS TopNames,
    DROP COLUMN IF EXISTS TopApexes;

ALTER TABLE {{database}}.dns_names_hour
    DROP COLUMN IF EXISTS TopNames,
    DROP COLUMN IF EXISTS TopApexes;

ALTER TABLE {{database}}.dns_names_day
    DROP COLUMN IF EXISTS TopNames,
    DROP COLUMN IF EXISTS TopApexes;

ALTER TABLE {{database}}.dns_names_week
    DROP COLUMN IF EXISTS TopNames,
    DROP COLUMN IF EXISTS TopApexes;

ALTER TABLE {{database}}.dns_names_month
    DROP COLUMN IF EXISTS TopNames,
    DROP COLUMN IF EXISTS TopApexes;
