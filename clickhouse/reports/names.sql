-- Names instead of numbers, shared by the reports (src/reports/) and the dashboards
-- (grafana/build.mjs): each section is one SQL expression over DNS_LOG's or a rollup's columns.
-- Types, rcodes and categories come from the dictionaries (clickhouse/dictionaries/).

-- name: qtype
dictGetOrDefault('dns_type', 'Name', toUInt64(Type), concat('TYPE', toString(Type)))

-- name: rcode
dictGetOrDefault('dns_response', 'Name', toUInt64(ResponseCode), concat('RCODE', toString(ResponseCode)))

-- name: category
dictGetOrDefault('domain_categories', 'Category', Apex, 'uncategorised')

-- name: client
if(ClientIPv6 = toIPv6('::'), IPv4NumToString(ClientIPv4), IPv6NumToString(ClientIPv6))

-- name: server
if(ServerIPv6 = toIPv6('::'), IPv4NumToString(ServerIPv4), IPv6NumToString(ServerIPv6))
