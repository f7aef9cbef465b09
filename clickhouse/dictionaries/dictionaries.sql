-- Dictionaries over the dict_* tables (clickhouse/migrations/0002_dictionaries.sql).
-- Not a migration: the runner re-creates them at every start, because a ClickHouse-sourced
-- dictionary logs in to the server with the USER/PASSWORD written here ({{dictionaryAuth}}), and
-- those may change. The names and the (Id, Name) layout are dnsmonster's, so its Grafana queries
-- (dictGet('dns_type', 'Name', toUInt64(Type))) keep working.
CREATE OR REPLACE DICTIONARY {{database}}.dns_type
(
    Id UInt64,
    Name String
)
PRIMARY KEY Id
SOURCE(CLICKHOUSE(DB '{{database}}' TABLE 'dict_dns_type' {{dictionaryAuth}}))
LAYOUT(FLAT())
LIFETIME(0);

CREATE OR REPLACE DICTIONARY {{database}}.dns_class
(
    Id UInt64,
    Name String
)
PRIMARY KEY Id
SOURCE(CLICKHOUSE(DB '{{database}}' TABLE 'dict_dns_class' {{dictionaryAuth}}))
LAYOUT(FLAT())
LIFETIME(0);

CREATE OR REPLACE DICTIONARY {{database}}.dns_opcode
(
    Id UInt64,
    Name String
)
PRIMARY KEY Id
SOURCE(CLICKHOUSE(DB '{{database}}' TABLE 'dict_dns_opcode' {{dictionaryAuth}}))
LAYOUT(FLAT())
LIFETIME(0);

CREATE OR REPLACE DICTIONARY {{database}}.dns_response
(
    Id UInt64,
    Name String
)
PRIMARY KEY Id
SOURCE(CLICKHOUSE(DB '{{database}}' TABLE 'dict_dns_response' {{dictionaryAuth}}))
LAYOUT(FLAT())
LIFETIME(0);

CREATE OR REPLACE DICTIONARY {{database}}.domain_categories
(
    Apex String,
    Category String DEFAULT 'uncategorised',
    Provider String DEFAULT '',
    CachePriority UInt8 DEFAULT 5
)
PRIMARY KEY Apex
SOURCE(CLICKHOUSE(DB '{{database}}' TABLE 'dict_domain_categories' {{dictionaryAuth}}))
LAYOUT(COMPLEX_KEY_HASHED())
LIFETIME(0);

-- The DGA signal's character model (clickhouse/signals/dga.sql): ln P(c | ab) by trigram and context.
CREATE OR REPLACE DICTIONARY {{database}}.dga_ngrams
(
    Gram String,
    LogP Float32
)
PRIMARY KEY Gram
SOURCE(CLICKHOUSE(DB '{{database}}' TABLE 'dict_dga_ngrams' {{dictionaryAuth}}))
LAYOUT(COMPLEX_KEY_HASHED())
LIFETIME(0);
