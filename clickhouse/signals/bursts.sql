-- Query bursts and retry storms per client (signal query-burst; src/signals/catalog.ts).
--
-- Per client, in windows of {window} seconds (aligned to the epoch): its queries in each minute, and
-- its repeated queries (a query for a name and type it already asked in the window). It fires on a
-- burst: at least {per_minute} queries in one minute; or on a retry storm: at least {repeats}
-- repeated queries that are at least {repeat_share}% of its queries in the window.
-- Score: the larger of peak minute / {per_minute} and, when the retry rule applies, repeats / {repeats}.
-- Evidence: queries, peak_minute (queries in its busiest minute), repeats, repeat_share, names
-- (distinct names asked). Examples: the names it asked most.
-- Counted by aggregation, not by arrays of every query: an array of each window's queries held
-- them all in memory at once (~3 GB for a 1M-line resolver log, whose lines are all queries).
WITH per_name AS
(
    SELECT subject, window_start, Question, sum(n) AS asks, count() AS pairs
    FROM
    (
        SELECT {{client}} AS subject, toDateTime64(toStartOfInterval(PacketTime, toIntervalSecond({window:UInt32})), 3, 'UTC') AS window_start,
               Question, Type, count() AS n
        FROM DNS_LOG
        WHERE {{in_range}} AND QR = 0
        GROUP BY subject, window_start, Question, Type
    )
    GROUP BY subject, window_start, Question
),
per_window AS
(
    SELECT subject, window_start,
           sum(asks) AS total,
           sum(pairs) AS distinct_pairs,
           count() AS names,
           arrayMap(x -> x.2, arraySlice(arrayReverseSort(groupArray((asks, Question))), 1, 3)) AS top_names
    FROM per_name
    GROUP BY subject, window_start
),
peaks AS
(
    SELECT subject, window_start, max(queries) AS peak_minute
    FROM
    (
        SELECT {{client}} AS subject, toDateTime64(toStartOfInterval(PacketTime, toIntervalSecond({window:UInt32})), 3, 'UTC') AS window_start,
               toStartOfMinute(PacketTime) AS minute, count() AS queries
        FROM DNS_LOG
        WHERE {{in_range}} AND QR = 0
        GROUP BY subject, window_start, minute
    )
    GROUP BY subject, window_start
)
SELECT w.subject AS subject,
       '' AS client,
       w.window_start AS window_start,
       w.window_start + toIntervalSecond({window:UInt32}) AS window_end,
       w.total AS total,
       p.peak_minute AS peak_minute,
       total - w.distinct_pairs AS repeats,
       repeats / total AS repeat_share,
       greatest(peak_minute / {per_minute:UInt32}, if(repeat_share * 100 >= {repeat_share:UInt32}, repeats / {repeats:UInt32}, 0)) AS score,
       map('queries', toFloat64(total), 'peak_minute', toFloat64(peak_minute), 'repeats', toFloat64(repeats), 'repeat_share', repeat_share,
           'names', toFloat64(w.names)) AS evidence,
       w.top_names AS examples
FROM per_window AS w
INNER JOIN peaks AS p ON p.subject = w.subject AND p.window_start = w.window_start
WHERE peak_minute >= {per_minute:UInt32} OR (repeats >= {repeats:UInt32} AND repeat_share * 100 >= {repeat_share:UInt32})
