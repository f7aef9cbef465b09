-- Beaconing: periodic queries (signal beacon; src/signals/catalog.ts).
--
-- Per client and name, in windows of {window} seconds (aligned to the epoch): the seconds in which
-- it asked for the name (queries in the same second, A and AAAA say, count once), and the gaps
-- between them. It fires when there are at least {min_queries} such queries, their mean gap is at
-- least {min_period} seconds, and the gaps are regular: their standard deviation is at most
-- {jitter}% of the mean (the coefficient of variation; a random, human pattern is near 100%).
-- Popularity: a name that many clients ask is a resolver refresh, a connectivity check or a CDN
-- keep-alive, not one implant's call home. A name fires only when at most {max_clients} clients,
-- and at most {popular}% of the window's clients, asked for it.
-- Score: (1 - jitter) * queries / {min_queries} / clients asking for the name.
-- Evidence: queries, period_s (mean gap), jitter (standard deviation / mean), name_clients,
-- all_clients (clients in the window). Examples: the name.
WITH asked AS
(
    SELECT {{client}} AS client,
           Question AS name,
           toDateTime64(toStartOfInterval(PacketTime, toIntervalSecond({window:UInt32})), 3, 'UTC') AS window_start,
           arraySort(groupUniqArray(toUInt32(toDateTime(PacketTime)))) AS seconds
    FROM DNS_LOG
    WHERE {{in_range}} AND QR = 0
    GROUP BY client, name, window_start
),
popularity AS
(
    SELECT window_start, name, count() AS name_clients, any(all_clients) AS all_clients
    FROM (SELECT *, uniqExact(client) OVER (PARTITION BY window_start) AS all_clients FROM asked)
    GROUP BY window_start, name
),
periodic AS
(
    SELECT client, name, window_start, length(seconds) AS queries,
           arrayPopFront(arrayDifference(seconds)) AS gaps,
           arrayAvg(gaps) AS period,
           sqrt(arrayAvg(arrayMap(g -> pow(g - period, 2), gaps))) / period AS jitter
    FROM asked
    WHERE length(seconds) >= {min_queries:UInt32}
)
SELECT name AS subject,
       client,
       window_start,
       window_start + toIntervalSecond({window:UInt32}) AS window_end,
       (1 - jitter) * queries / {min_queries:UInt32} / name_clients AS score,
       map('queries', toFloat64(queries), 'period_s', period, 'jitter', jitter, 'name_clients', toFloat64(name_clients), 'all_clients', toFloat64(all_clients)) AS evidence,
       [name] AS examples
FROM periodic
INNER JOIN popularity USING (window_start, name)
WHERE period >= {min_period:UInt32} AND jitter * 100 <= {jitter:UInt32}
  AND name_clients <= {max_clients:UInt32} AND name_clients * 100 <= {popular:UInt32} * all_clients
