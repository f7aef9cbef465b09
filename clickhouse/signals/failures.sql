-- Resolution failures per DNS server (signal resolution-failures; src/signals/catalog.ts).
--
-- Per DNS server address, in windows of {window} seconds (aligned to the epoch): the responses, the
-- SERVFAIL and REFUSED among them, and the queries that got no response (marked unanswered after
-- --matchTimeout). It fires when the failures (SERVFAIL + REFUSED + unanswered) are at least {min}
-- and at least {share}% of the exchanges (responses + unanswered queries). Unanswered queries count
-- only for a server seen answering (a response time in dns_latency_minute) from a day before the
-- window on: a capture that holds the queries alone (one direction of a link) is not a failure.
-- Score: failure share / ({share}/100).
-- Evidence: exchanges, servfail, refused, unanswered, share, clients (distinct clients that saw a
-- failure). Examples: names that failed, most frequent first.
WITH answering AS
(
    SELECT DISTINCT {{server_ip}} AS ip
    FROM dns_latency_minute
    WHERE Time >= {from:DateTime64(6, 'UTC')} - INTERVAL 1 DAY AND Time < {until:DateTime64(6, 'UTC')} AND Answered > 0
      AND ({server:String} = '' OR Server = {server:String})
)
SELECT {{server}} AS subject,
       '' AS client,
       toDateTime64(toStartOfInterval(PacketTime, toIntervalSecond({window:UInt32})), 3, 'UTC') AS window_start,
       window_start + toIntervalSecond({window:UInt32}) AS window_end,
       countIf(QR = 1 AND ResponseCode = 2) AS servfail,
       countIf(QR = 1 AND ResponseCode = 5) AS refused,
       countIf(QR = 0 AND Unanswered = 1 AND {{server_ip}} IN answering) AS unanswered,
       countIf(QR = 1) + unanswered AS exchanges,
       servfail + refused + unanswered AS failures,
       failures / exchanges AS share,
       share / ({share:UInt32} / 100) AS score,
       map('exchanges', toFloat64(exchanges), 'servfail', toFloat64(servfail), 'refused', toFloat64(refused), 'unanswered', toFloat64(unanswered),
           'share', share, 'clients', toFloat64(uniqExactIf(ClientIP, (QR = 1 AND ResponseCode IN (2, 5)) OR (QR = 0 AND Unanswered = 1 AND {{server_ip}} IN answering)))) AS evidence,
       topKIf(3)(Question, (QR = 1 AND ResponseCode IN (2, 5)) OR (QR = 0 AND Unanswered = 1 AND {{server_ip}} IN answering)) AS examples
FROM DNS_LOG
-- only responses and unanswered queries count (a window of neither cannot reach {min} >= 1)
WHERE {{in_range}} AND (QR = 1 OR Unanswered = 1)
GROUP BY subject, window_start
HAVING failures >= {min:UInt32} AND failures * 100 >= {share:UInt32} * exchanges
