-- `dnslens report signals` (src/reports/signals.ts): the signals that fired (table dns_signals,
-- filled by src/signals/), highest score first. The window (--since/--until) applies to the DNS
-- time each signal looked at (its WindowStart); --server to the capture's name, or to the address
-- of a server a signal is about (resolution-failures, latency-regression); --client to the client a
-- signal is about. {{where}}: those filters; parameter limit.
-- evidence_text and examples_text are shared with the Grafana stack (grafana/build.mjs: the
-- Signals panel, the dashboards' annotations and the alert rules).

-- name: list
SELECT Signal AS signal, Subject AS subject, Concerns AS client, Score AS score,
       toString(toDateTime(WindowStart)) AS window_start, toString(toDateTime(WindowEnd)) AS window_end,
       {{evidence_text}} AS evidence, {{examples_text}} AS examples
FROM
(
    SELECT Signal, Subject, dns_signals.Client AS Concerns, Score, WindowStart, WindowEnd, Evidence, Examples, Server,
           WindowStart AS PacketTime,
           if(Concerns != '', Concerns, if(Signal IN ('nxdomain-client', 'query-burst', 'dga'), Subject, '::')) AS Client,
           toIPv6OrDefault(Client) AS ClientIP,
           if(Signal IN ('resolution-failures', 'latency-regression'), toIPv6OrDefault(Subject), toIPv6('::')) AS ServerIPv6,
           toIPv4('0.0.0.0') AS ServerIPv4
    FROM dns_signals
)
WHERE {{where}}
ORDER BY Score DESC, WindowStart, Signal, Subject, Concerns
LIMIT {limit:UInt32}

-- A row's evidence in words: "queries 222, names 222, long names 43".
-- name: evidence_text
arrayStringConcat(arrayMap((k, v) -> concat(replaceAll(k, '_', ' '), ' ', toString(round(v, 3))), mapKeys(Evidence), mapValues(Evidence)), ', ')

-- Its first three example names, each cut to 60 characters.
-- name: examples_text
arrayStringConcat(arrayMap(x -> if(lengthUTF8(x) > 60, concat(substringUTF8(x, 1, 57), '...'), x), arraySlice(Examples, 1, 3)), ' ')
