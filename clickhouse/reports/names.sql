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

-- name: provider
dictGetOrDefault('domain_categories', 'Provider', Apex, '')

-- name: cache_priority
dictGetOrDefault('domain_categories', 'CachePriority', Apex, toUInt8(5))

-- The DNS server's address as IPv6 (IPv4 mapped), to compare with toIPv6({server:String}).
-- name: server_ip
if(ServerIPv6 = toIPv6('::'), toIPv6(ServerIPv4), ServerIPv6)

-- A response time's bucket in the latency rollups' quarter-octave histogram (views.sql): bucket b
-- holds 2^(b/4) .. 2^((b+1)/4) µs.
-- name: latency_bucket
toUInt8(least(255, floor(4 * log2(greatest(assumeNotNull(ResponseTimeUs), 1)))))

-- The client prefix of a client rollup row (its address is cut already), and of a DNS_LOG row, as
-- '192.0.2.0/24'; {v4:UInt8} and {v6:UInt8} are the prefix lengths the client rollups keep.
-- name: client_prefix
if(ClientIPv6 = toIPv6('::'), concat(IPv4NumToString(ClientIPv4), '/', toString({v4:UInt8})), concat(IPv6NumToString(ClientIPv6), '/', toString({v6:UInt8})))

-- name: client_prefix_log
if(ClientIPv6 = toIPv6('::'), concat(IPv4NumToString(IPv4CIDRToRange(ClientIPv4, {v4:UInt8}).1), '/', toString({v4:UInt8})), concat(IPv6NumToString(IPv6CIDRToRange(ClientIPv6, {v6:UInt8}).1), '/', toString({v6:UInt8})))
