-- Latency regression per DNS server (signal latency-regression; src/signals/catalog.ts).
--
-- From the latency rollup dns_latency_minute (its quarter-octave histogram of response times, per
-- DNS server address): per server, in windows of {window} seconds (aligned to the epoch), the
-- responses and their 95th percentile; and the same over the server's own baseline, the
-- {baseline} seconds before the window. It fires when a window's p95 is at least {factor} times the
-- baseline's and at least {min_ms} ms, with at least {min_answers} responses in the window and
-- {baseline_answers} in the baseline (a server without a baseline is not compared).
-- Score: (p95 / baseline p95) / {factor}.
-- Evidence: answered, p95_ms, p50_ms, baseline_answered, baseline_p95_ms, baseline_p50_ms,
-- unanswered (queries given up in the window). Examples: none.
WITH windows AS
(
    SELECT {{server}} AS subject,
           intDiv(toUInt32(Time), {window:UInt32}) AS w,
           sum(Answered) AS answered,
           sum(Unanswered) AS unanswered,
           sumMap(LatencyBuckets) AS hist
    FROM dns_latency_minute
    WHERE Time >= toDateTime({from:DateTime64(6, 'UTC')}) - toIntervalSecond({baseline:UInt32}) AND Time < {until:DateTime64(6, 'UTC')}
      AND ({server:String} = '' OR Server = {server:String})
    GROUP BY subject, w
),
compared AS
(
    SELECT subject, w, answered, unanswered, hist,
           sum(answered) OVER b AS baseline_answered,
           sumMap(hist) OVER b AS baseline_hist
    FROM windows
    WINDOW b AS (PARTITION BY subject ORDER BY w RANGE BETWEEN intDiv({baseline:UInt32}, {window:UInt32}) PRECEDING AND 1 PRECEDING)
),
-- the q-quantile of a histogram, in ms: the middle of the bucket where the running count reaches it
percentiles AS
(
    SELECT *,
           arrayMap(q -> pow(2, (arrayFirst((k, c) -> c >= q * answered, mapKeys(hist), arrayCumSum(mapValues(hist))) + 0.5) / 4) / 1000, [0.5, 0.95]) AS now_ms,
           arrayMap(q -> pow(2, (arrayFirst((k, c) -> c >= q * baseline_answered, mapKeys(baseline_hist), arrayCumSum(mapValues(baseline_hist))) + 0.5) / 4) / 1000, [0.5, 0.95]) AS base_ms
    FROM compared
    WHERE toDateTime(w * {window:UInt32}) + toIntervalSecond({window:UInt32}) > {from:DateTime64(6, 'UTC')}
)
SELECT subject,
       '' AS client,
       toDateTime64(w * {window:UInt32}, 3, 'UTC') AS window_start,
       window_start + toIntervalSecond({window:UInt32}) AS window_end,
       (now_ms[2] / base_ms[2]) / {factor:Float64} AS score,
       map('answered', toFloat64(answered), 'p95_ms', now_ms[2], 'p50_ms', now_ms[1], 'baseline_answered', toFloat64(baseline_answered),
           'baseline_p95_ms', base_ms[2], 'baseline_p50_ms', base_ms[1], 'unanswered', toFloat64(unanswered)) AS evidence,
       CAST([], 'Array(String)') AS examples
FROM percentiles
WHERE answered >= {min_answers:UInt32} AND baseline_answered >= {baseline_answers:UInt32}
  AND now_ms[2] >= {min_ms:UInt32} AND now_ms[2] >= {factor:Float64} * base_ms[2]
