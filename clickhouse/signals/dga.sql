-- DGA-like names (signal dga; src/signals/catalog.ts).
--
-- A name's label to judge is the first label of its apex domain (the part a domain generation
-- algorithm makes up: xjw3kq9z1m in xjw3kq9z1m.com). Its score is the mean, over its characters
-- (and its end), of -ln P(character | the two before it) under the character model in the
-- dga_ngrams dictionary (trained on English words and the Public Suffix List's labels:
-- src/signals/train-ngrams.ts), plus its digit ratio: English-like labels score about 2.2-3.1,
-- random letters and digits 3.8-4.5. A label is DGA-like when it has at least {min_length}
-- characters, a Shannon entropy of at least {entropy} bits per character, and a score of at
-- least {score}. Single-label names (a browser's random probes for a hijacking resolver) have
-- no apex and are never judged.
-- Per client, in windows of {window} seconds (aligned to the epoch), it fires when at least
-- {min_names} distinct names that got NXDOMAIN are DGA-like, and they are at least {share}% of the
-- distinct names that got NXDOMAIN: an infected host asks for many generated names, most of which
-- do not exist.
-- Score: DGA-like NXDOMAIN names / {min_names}.
-- Evidence: dga_names, nxdomain_names, share, mean_score, mean_length, mean_entropy,
-- digit_ratio (means over the DGA-like names). Examples: DGA-like names.
WITH judged AS
(
    WITH lower(substring(Question, length(Question) - ApexLength + 1, position(substring(Question, length(Question) - ApexLength + 1), '.') - 1)) AS label,
         splitByString('', label) AS chars,
         arraySum(arrayMap(n -> -(n / length(label)) * log2(n / length(label)), arrayMap(c -> countEqual(chars, c), arrayDistinct(chars)))) AS entropy,
         countMatches(label, '[0-9]') / length(label) AS digits,
         concat('^^', label, '$') AS framed,
         -arrayAvg(arrayMap(i -> dictGetOrDefault('dga_ngrams', 'LogP', tuple(substring(framed, i, 3)),
                                                  dictGetOrDefault('dga_ngrams', 'LogP', tuple(substring(framed, i, 2)), toFloat32(-log(38)))),
                            range(1, length(framed) - 1))) + digits AS label_score
    SELECT {{client}} AS who,
           toDateTime64(toStartOfInterval(PacketTime, toIntervalSecond({window:UInt32})), 3, 'UTC') AS window_start,
           Question AS name, label, entropy, digits, label_score,
           ApexLength > 0 AND position(substring(Question, length(Question) - ApexLength + 1), '.') > 0
             AND length(label) >= {min_length:UInt32} AND entropy >= {entropy:Float64} AND label_score >= {score:Float64} AS dga
    FROM DNS_LOG
    WHERE {{in_range}} AND QR = 1 AND ResponseCode = 3
    LIMIT 1 BY who, window_start, name
)
SELECT who AS subject,
       '' AS client,
       window_start,
       window_start + toIntervalSecond({window:UInt32}) AS window_end,
       countIf(dga) AS dga_names,
       count() AS nxdomain_names,
       dga_names / {min_names:UInt32} AS score,
       map('dga_names', toFloat64(dga_names), 'nxdomain_names', toFloat64(nxdomain_names), 'share', dga_names / nxdomain_names,
           'mean_score', avgIf(label_score, dga), 'mean_length', avgIf(length(label), dga), 'mean_entropy', avgIf(entropy, dga),
           'digit_ratio', avgIf(digits, dga)) AS evidence,
       groupArrayIf(5)(name, dga) AS examples
FROM judged
GROUP BY who, window_start
HAVING dga_names >= {min_names:UInt32} AND dga_names * 100 >= {share:UInt32} * nxdomain_names
