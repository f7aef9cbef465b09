-- DNS_LOG's answer columns were compressed with ZSTD(9) (AnswerData) and ZSTD(6) (AnswerName).
-- That took about 0.2 of the 1.4 CPU-s chdb spends writing a million bench rows (and again in every
-- merge); ZSTD(3) stores 2% more (14.79 -> 15.10 bytes per message, bench capture, after OPTIMIZE
-- FINAL). New parts use it; parts written before keep theirs until they are merged.
ALTER TABLE {{database}}.DNS_LOG
    MODIFY COLUMN AnswerName Array(String) CODEC(ZSTD(3)),
    MODIFY COLUMN AnswerData Array(String) CODEC(ZSTD(3));
