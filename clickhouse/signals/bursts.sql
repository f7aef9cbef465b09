-- Query bursts and retry storms per client (signal query-burst; src/signals/catalog.ts).
--
-- Per client, in windows of {window} seconds (aligned to the epoch): its queries in each minute, and
-- its repeated queries (a query for a name and type it already asked in the window). It fires on a
-- burst: at least {per_minute} queries in one minute; or on a retry storm: at least {repeats}
-- repeated queries that are at least {repeat_share}% of its queries in the window.
-- Score: the larger of peak minute / {per_minute} and, when the retry rule applies, repeats / {repeats}.
-- Evidence: queries, peak_minute (queries in its busiest minute), repeats, repeat_share, names
-- (distinct names asked). Examples: the names it asked most.
WITH per_minute AS
(
    SELECT {{client}} AS subject,
           toDateTime64(toStartOfInterval(PacketTime, toIntervalSecond({window:UInt32})), 3, 'UTC') AS window_start,
           toStartOfMinute(PacketTime) AS minute,
           count() AS queries,
           groupArray((Question, Type)) AS asked
    FROM DNS_LOG
    WHERE {{in_range}} AND QR = 0
    GROUP BY subject, window_start, minute
)
SELECT subject,
       '' AS client,
       window_start,
       window_start + toIntervalSecond({window:UInt32}) AS window_end,
       sum(queries) AS total,
       max(queries) AS peak_minute,
       total - length(arrayDistinct(arrayFlatten(groupArray(asked)))) AS repeats,
       repeats / total AS repeat_share,
       greatest(peak_minute / {per_minute:UInt32}, if(repeat_share * 100 >= {repeat_share:UInt32}, repeats / {repeats:UInt32}, 0)) AS score,
       map('queries', toFloat64(total), 'peak_minute', toFloat64(peak_minute), 'repeats', toFloat64(repeats), 'repeat_share', repeat_share,
           'names', toFloat64(length(arrayDistinct(arrayMap(a -> a.1, arrayFlatten(groupArray(asked))))))) AS evidence,
       arrayMap(x -> x.1, arraySlice(arrayReverseSort(x -> x.2, arrayMap(n -> (n, countEqual(arrayMap(a -> a.1, arrayFlatten(groupArray(asked))), n)), arrayDistinct(arrayMap(a -> a.1, arrayFlatten(groupArray(asked)))))), 1, 3)) AS examples
FROM per_minute
GROUP BY subject, window_start
HAVING peak_minute >= {per_minute:UInt32} OR (repeats >= {repeats:UInt32} AND repeat_share * 100 >= {repeat_share:UInt32})
