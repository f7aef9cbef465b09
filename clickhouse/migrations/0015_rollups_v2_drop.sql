-- Second half of 0014, apart so that each file can run again after a failure half way: the
-- per-client latency tables, now columns of dns_clients_* (views of the same names read them),
-- and the monthly apex rows' client sketch.
DROP TABLE IF EXISTS {{database}}.dns_latency_clients_minute;
DROP TABLE IF EXISTS {{database}}.dns_latency_clients_hour;
DROP TABLE IF EXISTS {{database}}.dns_latency_clients_day;

ALTER TABLE {{database}}.dns_apex_month
    DROP COLUMN IF EXISTS Clients;
