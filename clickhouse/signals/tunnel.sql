-- DNS tunnelling and exfiltration (signal tunnel; src/signals/catalog.ts).
--
-- Per client and apex domain, in windows of {window} seconds (aligned to the epoch): the queries,
-- the distinct names asked (unique subdomains), those with a label of at least {label} characters
-- below the apex (long labels: the payload of a tunnel), the queries for TXT, NULL or CNAME (the
-- types tunnels carry data in), and the bytes of queries and responses. Reverse zones (.arpa) are
-- left out: a resolver's PTR lookups are many distinct names by nature.
-- It fires when a client asked at least {names} distinct names under one apex, and besides at least
-- one of: {long_names} of them with long labels; TXT/NULL/CNAME at least {type_share}% of its
-- queries there; at least {bytes} bytes. Ordinary CDN names are many, but short, A/AAAA/HTTPS, and
-- few per client.
-- Score: distinct names / {names} times the number of the three conditions met.
-- Evidence: queries, names, long_names, max_label, tunnel_types (TXT/NULL/CNAME queries), bytes.
-- Examples: the longest names.
WITH arrayMax(arrayMap(l -> length(l), splitByChar('.', substring(Question, 1, greatest(length(Question) - ApexLength - 1, 0))))) AS label
SELECT Apex AS subject,
       {{client}} AS client,
       toDateTime64(toStartOfInterval(PacketTime, toIntervalSecond({window:UInt32})), 3, 'UTC') AS window_start,
       window_start + toIntervalSecond({window:UInt32}) AS window_end,
       countIf(QR = 0) AS queries,
       uniqExactIf(Question, QR = 0) AS names,
       uniqExactIf(Question, QR = 0 AND label >= {label:UInt32}) AS long_names,
       countIf(QR = 0 AND Type IN (5, 10, 16)) AS tunnel_types,
       sum(Size) AS bytes,
       (long_names >= {long_names:UInt32}) + (tunnel_types * 100 >= {type_share:UInt32} * queries) + (bytes >= {bytes:UInt64}) AS met,
       names / {names:UInt32} * met AS score,
       map('queries', toFloat64(queries), 'names', toFloat64(names), 'long_names', toFloat64(long_names), 'max_label', toFloat64(maxIf(label, QR = 0)),
           'tunnel_types', toFloat64(tunnel_types), 'bytes', toFloat64(bytes)) AS evidence,
       arraySlice(arrayReverseSort(n -> length(n), groupUniqArrayIf(100)(Question, QR = 0)), 1, 3) AS examples
FROM DNS_LOG
WHERE {{in_range}} AND ApexLength > 0 AND NOT endsWith(Apex, '.arpa') AND Apex != 'arpa'
GROUP BY subject, client, window_start
HAVING names >= {names:UInt32} AND met > 0
