-- `dnslens report heatmap` (src/reports/heatmap.ts): queries per weekday (1 = Monday) and hour of
-- day in the report's zone (the seed guide's 5.3, and its week). {{where}}: the window and
-- filters; {{table}}: dns_names_hour or dns_names_minute; parameter tz.

-- name: log
SELECT toDayOfWeek(PacketTime, 0, {tz:String}) AS weekday, toHour(PacketTime, {tz:String}) AS hour, count() AS queries
FROM DNS_LOG
WHERE {{where}} AND QR = 0
GROUP BY weekday, hour

-- name: rollup
SELECT toDayOfWeek(Time, 0, {tz:String}) AS weekday, toHour(Time, {tz:String}) AS hour, sum(Queries) AS queries
FROM {{table}}
WHERE {{where}}
GROUP BY weekday, hour
