-- A surge of newly observed domains (signal new-domains; src/signals/catalog.ts).
--
-- From the daily rollup dns_domain_day (days in the store's time zone): an apex domain is newly
-- observed on a day when it was asked that day and not in the {lookback} days before (as
-- `dnslens report new-domains` counts them). Every day brings some (a network's long tail), so
-- the signal compares a day's count with the same count on the {lookback} days before it, and
-- fires when it is at least {min} and at least {factor} times their median. Only days whose
-- {lookback} days before all hold data are counted, on both sides (after a gap, or in a new
-- store, every domain looks new), and a day is compared only when {baseline_days} such days are
-- among the {lookback} before it.
-- Score: new apexes / ({factor} * baseline median).
-- Evidence: new_apexes, apexes (all asked that day), baseline (the median), baseline_days.
-- Examples: the new apexes asked most.
WITH presence AS
(
    SELECT Apex AS apex, Day AS day, sum(Queries) AS queries
    FROM dns_domain_day
    WHERE Day >= toDate({from:DateTime64(6, 'UTC')}, {tz:String}) - 3 * {lookback:UInt32} AND Day <= toDate({until:DateTime64(6, 'UTC')}, {tz:String})
      AND ({server:String} = '' OR Server = {server:String})
    GROUP BY apex, day
),
flagged AS
(
    SELECT apex, day, queries,
           lagInFrame(day, 1, toDate('1970-01-01')) OVER (PARTITION BY apex ORDER BY day ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS before
    FROM presence
),
days AS
(
    SELECT day, countIf(before < day - {lookback:UInt32}) AS new_apexes, count() AS apexes,
           arraySlice(arrayMap(x -> x.2, arrayReverseSort(x -> x.1, groupArrayIf((queries, apex), before < day - {lookback:UInt32}))), 1, 5) AS names
    FROM flagged
    GROUP BY day
),
-- days whose whole look-back was captured (a day with no message at all breaks it)
countable AS
(
    SELECT * FROM (SELECT *, count() OVER (ORDER BY day RANGE BETWEEN {lookback:UInt32} PRECEDING AND 1 PRECEDING) AS history FROM days)
    WHERE history >= {lookback:UInt32}
),
compared AS
(
    SELECT *,
           quantileExact(0.5)(new_apexes) OVER b AS baseline,
           count() OVER b AS baseline_days
    FROM countable
    WINDOW b AS (ORDER BY day RANGE BETWEEN {lookback:UInt32} PRECEDING AND 1 PRECEDING)
)
SELECT toString(day) AS subject,
       '' AS client,
       toDateTime64(toDateTime(day, {tz:String}), 3, 'UTC') AS window_start,
       toDateTime64(toDateTime(day + 1, {tz:String}), 3, 'UTC') AS window_end,
       new_apexes / ({factor:Float64} * greatest(baseline, 1)) AS score,
       map('new_apexes', toFloat64(new_apexes), 'apexes', toFloat64(apexes), 'baseline', toFloat64(baseline), 'baseline_days', toFloat64(baseline_days)) AS evidence,
       names AS examples
FROM compared
WHERE window_end > {from:DateTime64(6, 'UTC')} AND window_start < {until:DateTime64(6, 'UTC')}
  AND baseline_days >= {baseline_days:UInt32} AND new_apexes >= {min:UInt32} AND new_apexes >= {factor:Float64} * baseline
