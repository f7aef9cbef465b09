-- NXDOMAIN storm (signals nxdomain-client and nxdomain-apex; src/signals/catalog.ts).
-- {{subject}} is the client address ({{client}}) or the apex domain (Apex).
--
-- Per subject and minute, the responses and the NXDOMAIN responses among them; then every window
-- of {minutes} minutes that ends on one of those minutes (a window sliding by one minute). A window
-- fires on a count and a ratio: more than {count} NXDOMAIN (Microsoft Sentinel's static rule: more
-- than 200 per source in 15 minutes) that are at least {ratio}% of the subject's responses (a busy
-- client's everyday share of failures is well below). Of the windows that fire, the one with the
-- most NXDOMAIN per subject and {minutes}-minute period is kept. An apex fires only when it also
-- got a NOERROR answer in the window: one that never resolves is a search-list suffix leaking
-- (printer.lan, www.example.com.fritz.box) or a dead name, listed by `dnslens report nxdomain`.
-- Score: NXDOMAIN / {count}.
-- Evidence: nxdomain, responses, share, and apexes (for a client: the apex domains that failed)
-- or clients (for an apex: the clients that got NXDOMAIN). Examples: names that got NXDOMAIN.
WITH per_minute AS
(
    SELECT {{subject}} AS subject,
           intDiv(toUInt32(toDateTime(PacketTime)), 60) AS minute,
           countIf(QR = 1) AS responses,
           countIf(QR = 1 AND ResponseCode = 3) AS nx,
           countIf(QR = 1 AND ResponseCode = 0) AS ok,
           groupUniqArrayIf(5)(Question, QR = 1 AND ResponseCode = 3) AS names,
           groupUniqArrayIf(20)({{other}}, QR = 1 AND ResponseCode = 3) AS others
    FROM DNS_LOG
    -- no window fires without more than {count} NXDOMAIN in the range: with fewer (a BIND query
    -- log has no responses at all) nothing is grouped
    WHERE {{in_range}} AND (SELECT count() FROM DNS_LOG WHERE {{in_range}} AND QR = 1 AND ResponseCode = 3) > {count:UInt32}
    GROUP BY subject, minute
),
windows AS
(
    SELECT subject, minute,
           sum(nx) OVER w AS nx_w,
           sum(responses) OVER w AS responses_w,
           sum(ok) OVER w AS ok_w,
           groupUniqArrayArray(5)(names) OVER w AS names_w,
           groupUniqArrayArray(1000)(others) OVER w AS others_w
    FROM per_minute
    WINDOW w AS (PARTITION BY subject ORDER BY minute RANGE BETWEEN {minutes:UInt32} - 1 PRECEDING AND CURRENT ROW)
),
fired AS
(
    SELECT subject, minute, nx_w, responses_w, names_w, others_w,
           nx_w / responses_w AS share,
           nx_w / {count:UInt32} AS score
    FROM windows
    WHERE nx_w > {count:UInt32} AND share * 100 >= {ratio:UInt32} AND ({{resolves}})
)
SELECT subject,
       '' AS client,
       fromUnixTimestamp64Milli(toInt64((argMax(minute, (nx_w, minute)) + 1 - {minutes:UInt32}) * 60000), 'UTC') AS window_start,
       fromUnixTimestamp64Milli(toInt64((argMax(minute, (nx_w, minute)) + 1) * 60000), 'UTC') AS window_end,
       max(score) AS score,
       map('nxdomain', toFloat64(max(nx_w)), 'responses', toFloat64(argMax(responses_w, (nx_w, minute))),
           'share', argMax(share, (nx_w, minute)), '{{others}}', toFloat64(length(argMax(others_w, (nx_w, minute))))) AS evidence,
       argMax(names_w, (nx_w, minute)) AS examples
FROM fired
GROUP BY subject, intDiv(minute, {minutes:UInt32})
