-- 0001_core

CREATE TABLE IF NOT EXISTS ioc.ioc_deadletter_local ON CLUSTER campus_cluster
(
    `id` UUID,
    `stream` LowCardinality(String),
    `received_at` DateTime64(3, 'UTC'),
    `source` LowCardinality(String),
    `raw` String,
    `field` LowCardinality(String),
    `reason` LowCardinality(String),
    `message` String,
    `errors` String,
    `state` Enum8('open' = 1, 'replayed' = 2, 'discarded' = 3),
    `updated_at` DateTime64(3, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', updated_at)
PARTITION BY toYYYYMM(received_at)
ORDER BY (stream, received_at, id)
TTL toDateTime(received_at) + INTERVAL 400 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.ioc_deadletter ON CLUSTER campus_cluster
AS ioc.ioc_deadletter_local
ENGINE = Distributed(campus_cluster, ioc, ioc_deadletter_local, cityHash64(id));

-- 0002_gate

CREATE TABLE IF NOT EXISTS ioc.gate_pass_local ON CLUSTER campus_cluster
(
    `event_id` String,
    `ts` DateTime64(3, 'UTC'),
    `source` LowCardinality(String),
    `campus` LowCardinality(String),
    `gate_id` LowCardinality(String),
    `lane` UInt8,
    `direction` Enum8('in' = 1, 'out' = 2),
    `person_type` Enum8('student' = 1, 'staff' = 2, 'resident' = 3, 'visitor' = 4, 'contractor' = 5, 'other' = 6),
    `method` Enum8('face' = 1, 'card' = 2, 'qr' = 3, 'manual' = 4),
    `result` Enum8('pass' = 1, 'deny' = 2),
    `deny_reason` Nullable(Enum8('unauthorized' = 1, 'expired' = 2, 'temperature' = 3, 'blacklist' = 4, 'unrecognized' = 5, 'other' = 6)),
    `temperature_c` Nullable(Float64),
    `person_key` Nullable(String),
    `received_at` DateTime64(3, 'UTC')
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(ts)
ORDER BY (toDate(ts), gate_id, ts)
TTL toDateTime(ts) + INTERVAL 400 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.gate_pass ON CLUSTER campus_cluster
AS ioc.gate_pass_local
ENGINE = Distributed(campus_cluster, ioc, gate_pass_local, cityHash64(event_id));

CREATE TABLE IF NOT EXISTS ioc.gate_pass_1m_local ON CLUSTER campus_cluster
(
    `minute` DateTime('UTC'),
    `gate_id` LowCardinality(String),
    `direction` Enum8('in' = 1, 'out' = 2),
    `result` Enum8('pass' = 1, 'deny' = 2),
    `attempts` SimpleAggregateFunction(sum, UInt64),
    `fever` SimpleAggregateFunction(sum, UInt64)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(minute)
ORDER BY (minute, gate_id, direction, result)
TTL minute + INTERVAL 63 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.gate_pass_1m ON CLUSTER campus_cluster
AS ioc.gate_pass_1m_local
ENGINE = Distributed(campus_cluster, ioc, gate_pass_1m_local, rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.gate_pass_1m_local_mv ON CLUSTER campus_cluster
TO ioc.gate_pass_1m_local
AS SELECT
    toStartOfMinute(ts) AS `minute`,
    gate_id AS `gate_id`,
    direction AS `direction`,
    result AS `result`,
    count() AS `attempts`,
    countIf(temperature_c >= 37.3) AS `fever`
FROM ioc.gate_pass_local
GROUP BY `minute`, `gate_id`, `direction`, `result`;

CREATE TABLE IF NOT EXISTS ioc.gate_pass_1h_local ON CLUSTER campus_cluster
(
    `hour` DateTime('UTC'),
    `campus` LowCardinality(String),
    `gate_id` LowCardinality(String),
    `direction` Enum8('in' = 1, 'out' = 2),
    `result` Enum8('pass' = 1, 'deny' = 2),
    `person_type` Enum8('student' = 1, 'staff' = 2, 'resident' = 3, 'visitor' = 4, 'contractor' = 5, 'other' = 6),
    `method` Enum8('face' = 1, 'card' = 2, 'qr' = 3, 'manual' = 4),
    `deny` LowCardinality(String),
    `attempts` SimpleAggregateFunction(sum, UInt64),
    `fever` SimpleAggregateFunction(sum, UInt64)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, campus, gate_id, direction, result, person_type, method, deny)
TTL hour + INTERVAL 400 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.gate_pass_1h ON CLUSTER campus_cluster
AS ioc.gate_pass_1h_local
ENGINE = Distributed(campus_cluster, ioc, gate_pass_1h_local, rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.gate_pass_1h_local_mv ON CLUSTER campus_cluster
TO ioc.gate_pass_1h_local
AS SELECT
    toStartOfHour(ts) AS `hour`,
    campus AS `campus`,
    gate_id AS `gate_id`,
    direction AS `direction`,
    result AS `result`,
    person_type AS `person_type`,
    method AS `method`,
    ifNull(toString(deny_reason), '') AS `deny`,
    count() AS `attempts`,
    countIf(temperature_c >= 37.3) AS `fever`
FROM ioc.gate_pass_local
GROUP BY `hour`, `campus`, `gate_id`, `direction`, `result`, `person_type`, `method`, `deny`;

-- 0003_network

CREATE TABLE IF NOT EXISTS ioc.network_link_local ON CLUSTER campus_cluster
(
    `event_id` Nullable(String),
    `ts` DateTime64(3, 'UTC'),
    `source` LowCardinality(String),
    `link_id` LowCardinality(String),
    `in_bps` UInt64,
    `out_bps` UInt64,
    `capacity_bps` Nullable(UInt64),
    `received_at` DateTime64(3, 'UTC')
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(ts)
ORDER BY (link_id, ts)
TTL toDateTime(ts) + INTERVAL 400 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.network_link ON CLUSTER campus_cluster
AS ioc.network_link_local
ENGINE = Distributed(campus_cluster, ioc, network_link_local, cityHash64(ifNull(event_id, ''), link_id, ts));

CREATE TABLE IF NOT EXISTS ioc.network_online_local ON CLUSTER campus_cluster
(
    `event_id` Nullable(String),
    `ts` DateTime64(3, 'UTC'),
    `source` LowCardinality(String),
    `campus` LowCardinality(String),
    `access` Enum8('wired' = 1, 'wireless' = 2, 'vpn' = 3),
    `users` UInt64,
    `ipv6_users` UInt64,
    `received_at` DateTime64(3, 'UTC')
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(ts)
ORDER BY (campus, access, ts)
TTL toDateTime(ts) + INTERVAL 400 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.network_online ON CLUSTER campus_cluster
AS ioc.network_online_local
ENGINE = Distributed(campus_cluster, ioc, network_online_local, cityHash64(ifNull(event_id, ''), campus, access, ts));

CREATE TABLE IF NOT EXISTS ioc.network_security_local ON CLUSTER campus_cluster
(
    `event_id` String,
    `ts` DateTime64(3, 'UTC'),
    `source` LowCardinality(String),
    `incident_key` String,
    `severity` Enum8('info' = 1, 'low' = 2, 'medium' = 3, 'high' = 4, 'critical' = 5),
    `category` Enum8('weak_password' = 1, 'compromised_host' = 2, 'intrusion' = 3, 'ddos' = 4, 'malware' = 5, 'phishing' = 6, 'vulnerability' = 7, 'other' = 8),
    `target_system` String,
    `src_ip` Nullable(String),
    `status` Enum8('open' = 1, 'handled' = 2, 'false_positive' = 3),
    `received_at` DateTime64(3, 'UTC')
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(ts)
ORDER BY (incident_key, ts)
TTL toDateTime(ts) + INTERVAL 400 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.network_security ON CLUSTER campus_cluster
AS ioc.network_security_local
ENGINE = Distributed(campus_cluster, ioc, network_security_local, cityHash64(event_id));

CREATE TABLE IF NOT EXISTS ioc.network_link_1m_local ON CLUSTER campus_cluster
(
    `minute` DateTime('UTC'),
    `link_id` LowCardinality(String),
    `samples` SimpleAggregateFunction(sum, UInt64),
    `in_bps_sum` SimpleAggregateFunction(sum, UInt64),
    `out_bps_sum` SimpleAggregateFunction(sum, UInt64),
    `in_bps_max` SimpleAggregateFunction(max, UInt64),
    `out_bps_max` SimpleAggregateFunction(max, UInt64)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(minute)
ORDER BY (minute, link_id)
TTL minute + INTERVAL 63 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.network_link_1m ON CLUSTER campus_cluster
AS ioc.network_link_1m_local
ENGINE = Distributed(campus_cluster, ioc, network_link_1m_local, rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.network_link_1m_local_mv ON CLUSTER campus_cluster
TO ioc.network_link_1m_local
AS SELECT
    toStartOfMinute(ts) AS `minute`,
    link_id AS `link_id`,
    count() AS `samples`,
    sum(in_bps) AS `in_bps_sum`,
    sum(out_bps) AS `out_bps_sum`,
    max(in_bps) AS `in_bps_max`,
    max(out_bps) AS `out_bps_max`
FROM ioc.network_link_local
GROUP BY `minute`, `link_id`;

CREATE TABLE IF NOT EXISTS ioc.network_online_1m_local ON CLUSTER campus_cluster
(
    `minute` DateTime('UTC'),
    `campus` LowCardinality(String),
    `access` Enum8('wired' = 1, 'wireless' = 2, 'vpn' = 3),
    `samples` SimpleAggregateFunction(sum, UInt64),
    `users_sum` SimpleAggregateFunction(sum, UInt64),
    `ipv6_users_sum` SimpleAggregateFunction(sum, UInt64),
    `users_max` SimpleAggregateFunction(max, UInt64)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(minute)
ORDER BY (minute, campus, access)
TTL minute + INTERVAL 63 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.network_online_1m ON CLUSTER campus_cluster
AS ioc.network_online_1m_local
ENGINE = Distributed(campus_cluster, ioc, network_online_1m_local, rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.network_online_1m_local_mv ON CLUSTER campus_cluster
TO ioc.network_online_1m_local
AS SELECT
    toStartOfMinute(ts) AS `minute`,
    campus AS `campus`,
    access AS `access`,
    count() AS `samples`,
    sum(users) AS `users_sum`,
    sum(ipv6_users) AS `ipv6_users_sum`,
    max(users) AS `users_max`
FROM ioc.network_online_local
GROUP BY `minute`, `campus`, `access`;

CREATE TABLE IF NOT EXISTS ioc.network_security_1m_local ON CLUSTER campus_cluster
(
    `minute` DateTime('UTC'),
    `severity` Enum8('info' = 1, 'low' = 2, 'medium' = 3, 'high' = 4, 'critical' = 5),
    `category` Enum8('weak_password' = 1, 'compromised_host' = 2, 'intrusion' = 3, 'ddos' = 4, 'malware' = 5, 'phishing' = 6, 'vulnerability' = 7, 'other' = 8),
    `status` Enum8('open' = 1, 'handled' = 2, 'false_positive' = 3),
    `findings` SimpleAggregateFunction(sum, UInt64),
    `incidents` AggregateFunction(uniqExact, String)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(minute)
ORDER BY (minute, severity, category, status)
TTL minute + INTERVAL 63 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.network_security_1m ON CLUSTER campus_cluster
AS ioc.network_security_1m_local
ENGINE = Distributed(campus_cluster, ioc, network_security_1m_local, rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.network_security_1m_local_mv ON CLUSTER campus_cluster
TO ioc.network_security_1m_local
AS SELECT
    toStartOfMinute(ts) AS `minute`,
    severity AS `severity`,
    category AS `category`,
    status AS `status`,
    count() AS `findings`,
    uniqExactState(incident_key) AS `incidents`
FROM ioc.network_security_local
GROUP BY `minute`, `severity`, `category`, `status`;

CREATE TABLE IF NOT EXISTS ioc.network_link_1h_local ON CLUSTER campus_cluster
(
    `hour` DateTime('UTC'),
    `link_id` LowCardinality(String),
    `samples` SimpleAggregateFunction(sum, UInt64),
    `in_bps_sum` SimpleAggregateFunction(sum, UInt64),
    `out_bps_sum` SimpleAggregateFunction(sum, UInt64),
    `in_bps_max` SimpleAggregateFunction(max, UInt64),
    `out_bps_max` SimpleAggregateFunction(max, UInt64)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, link_id)
TTL hour + INTERVAL 400 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.network_link_1h ON CLUSTER campus_cluster
AS ioc.network_link_1h_local
ENGINE = Distributed(campus_cluster, ioc, network_link_1h_local, rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.network_link_1h_local_mv ON CLUSTER campus_cluster
TO ioc.network_link_1h_local
AS SELECT
    toStartOfHour(ts) AS `hour`,
    link_id AS `link_id`,
    count() AS `samples`,
    sum(in_bps) AS `in_bps_sum`,
    sum(out_bps) AS `out_bps_sum`,
    max(in_bps) AS `in_bps_max`,
    max(out_bps) AS `out_bps_max`
FROM ioc.network_link_local
GROUP BY `hour`, `link_id`;

CREATE TABLE IF NOT EXISTS ioc.network_online_1h_local ON CLUSTER campus_cluster
(
    `hour` DateTime('UTC'),
    `campus` LowCardinality(String),
    `access` Enum8('wired' = 1, 'wireless' = 2, 'vpn' = 3),
    `samples` SimpleAggregateFunction(sum, UInt64),
    `users_sum` SimpleAggregateFunction(sum, UInt64),
    `ipv6_users_sum` SimpleAggregateFunction(sum, UInt64),
    `users_max` SimpleAggregateFunction(max, UInt64)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, campus, access)
TTL hour + INTERVAL 400 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.network_online_1h ON CLUSTER campus_cluster
AS ioc.network_online_1h_local
ENGINE = Distributed(campus_cluster, ioc, network_online_1h_local, rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.network_online_1h_local_mv ON CLUSTER campus_cluster
TO ioc.network_online_1h_local
AS SELECT
    toStartOfHour(ts) AS `hour`,
    campus AS `campus`,
    access AS `access`,
    count() AS `samples`,
    sum(users) AS `users_sum`,
    sum(ipv6_users) AS `ipv6_users_sum`,
    max(users) AS `users_max`
FROM ioc.network_online_local
GROUP BY `hour`, `campus`, `access`;

CREATE TABLE IF NOT EXISTS ioc.network_security_1h_local ON CLUSTER campus_cluster
(
    `hour` DateTime('UTC'),
    `severity` Enum8('info' = 1, 'low' = 2, 'medium' = 3, 'high' = 4, 'critical' = 5),
    `category` Enum8('weak_password' = 1, 'compromised_host' = 2, 'intrusion' = 3, 'ddos' = 4, 'malware' = 5, 'phishing' = 6, 'vulnerability' = 7, 'other' = 8),
    `status` Enum8('open' = 1, 'handled' = 2, 'false_positive' = 3),
    `findings` SimpleAggregateFunction(sum, UInt64),
    `incidents` AggregateFunction(uniqExact, String)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, severity, category, status)
TTL hour + INTERVAL 400 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.network_security_1h ON CLUSTER campus_cluster
AS ioc.network_security_1h_local
ENGINE = Distributed(campus_cluster, ioc, network_security_1h_local, rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.network_security_1h_local_mv ON CLUSTER campus_cluster
TO ioc.network_security_1h_local
AS SELECT
    toStartOfHour(ts) AS `hour`,
    severity AS `severity`,
    category AS `category`,
    status AS `status`,
    count() AS `findings`,
    uniqExactState(incident_key) AS `incidents`
FROM ioc.network_security_local
GROUP BY `hour`, `severity`, `category`, `status`;

-- 0004_enrollment

CREATE TABLE IF NOT EXISTS ioc.enrollment_admission_local ON CLUSTER campus_cluster
(
    `event_id` String,
    `ts` DateTime64(3, 'UTC'),
    `source` LowCardinality(String),
    `year` UInt16,
    `candidate_key` String,
    `province` Enum8('11' = 1, '12' = 2, '13' = 3, '14' = 4, '15' = 5, '21' = 6, '22' = 7, '23' = 8, '31' = 9, '32' = 10, '33' = 11, '34' = 12, '35' = 13, '36' = 14, '37' = 15, '41' = 16, '42' = 17, '43' = 18, '44' = 19, '45' = 20, '46' = 21, '50' = 22, '51' = 23, '52' = 24, '53' = 25, '54' = 26, '61' = 27, '62' = 28, '63' = 29, '64' = 30, '65' = 31, '71' = 32, '81' = 33, '82' = 34),
    `batch` Enum8('early' = 1, 'regular' = 2, 'second' = 3, 'special' = 4, 'junior_college' = 5),
    `category` Enum8('general' = 1, 'art' = 2, 'sport' = 3, 'national_special' = 4, 'university_special' = 5, 'local_special' = 6, 'sino_foreign' = 7, 'preparatory' = 8, 'minority' = 9),
    `track` Enum8('physics' = 1, 'history' = 2, 'science' = 3, 'liberal_arts' = 4, 'comprehensive' = 5),
    `college` LowCardinality(String),
    `major` LowCardinality(String),
    `status` Enum8('filed' = 1, 'admitted' = 2, 'returned' = 3, 'withdrawn' = 4),
    `score` Float64,
    `province_rank` Nullable(UInt64),
    `received_at` DateTime64(3, 'UTC')
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(ts)
ORDER BY (year, province, candidate_key, ts)
TTL toDateTime(ts) + INTERVAL 3660 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.enrollment_admission ON CLUSTER campus_cluster
AS ioc.enrollment_admission_local
ENGINE = Distributed(campus_cluster, ioc, enrollment_admission_local, cityHash64(event_id));

CREATE TABLE IF NOT EXISTS ioc.enrollment_plan_local ON CLUSTER campus_cluster
(
    `year` UInt16,
    `province` Enum8('11' = 1, '12' = 2, '13' = 3, '14' = 4, '15' = 5, '21' = 6, '22' = 7, '23' = 8, '31' = 9, '32' = 10, '33' = 11, '34' = 12, '35' = 13, '36' = 14, '37' = 15, '41' = 16, '42' = 17, '43' = 18, '44' = 19, '45' = 20, '46' = 21, '50' = 22, '51' = 23, '52' = 24, '53' = 25, '54' = 26, '61' = 27, '62' = 28, '63' = 29, '64' = 30, '65' = 31, '71' = 32, '81' = 33, '82' = 34),
    `batch` Enum8('early' = 1, 'regular' = 2, 'second' = 3, 'special' = 4, 'junior_college' = 5),
    `category` Enum8('general' = 1, 'art' = 2, 'sport' = 3, 'national_special' = 4, 'university_special' = 5, 'local_special' = 6, 'sino_foreign' = 7, 'preparatory' = 8, 'minority' = 9),
    `track` Enum8('physics' = 1, 'history' = 2, 'science' = 3, 'liberal_arts' = 4, 'comprehensive' = 5),
    `major` LowCardinality(String),
    `planned` UInt64,
    `source` LowCardinality(String),
    `imported_at` DateTime64(3, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', imported_at)
ORDER BY (year, province, batch, category, track, major)
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.enrollment_plan ON CLUSTER campus_cluster
AS ioc.enrollment_plan_local
ENGINE = Distributed(campus_cluster, ioc, enrollment_plan_local, cityHash64(year, province, batch, category, track, major));

CREATE TABLE IF NOT EXISTS ioc.enrollment_checkin_local ON CLUSTER campus_cluster
(
    `event_id` String,
    `ts` DateTime64(3, 'UTC'),
    `source` LowCardinality(String),
    `year` UInt16,
    `student_key` String,
    `college` LowCardinality(String),
    `major` LowCardinality(String),
    `campus` LowCardinality(String),
    `step` Enum8('arrived' = 1, 'paid' = 2, 'dorm' = 3, 'registered' = 4),
    `received_at` DateTime64(3, 'UTC')
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(ts)
ORDER BY (year, student_key, ts)
TTL toDateTime(ts) + INTERVAL 3660 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.enrollment_checkin ON CLUSTER campus_cluster
AS ioc.enrollment_checkin_local
ENGINE = Distributed(campus_cluster, ioc, enrollment_checkin_local, cityHash64(event_id));

-- 0005_service

CREATE TABLE IF NOT EXISTS ioc.service_workflow_local ON CLUSTER campus_cluster
(
    `event_id` String,
    `ts` DateTime64(3, 'UTC'),
    `source` LowCardinality(String),
    `case_id` String,
    `service_id` LowCardinality(String),
    `department` LowCardinality(String),
    `applicant_type` Enum8('student' = 1, 'staff' = 2, 'alumni' = 3, 'external' = 4),
    `channel` Enum8('web' = 1, 'mobile' = 2, 'wechat' = 3, 'kiosk' = 4),
    `action` Enum8('submitted' = 1, 'approved' = 2, 'rejected' = 3, 'returned' = 4, 'completed' = 5, 'withdrawn' = 6),
    `node` UInt64,
    `received_at` DateTime64(3, 'UTC')
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(ts)
ORDER BY (case_id, ts)
TTL toDateTime(ts) + INTERVAL 400 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.service_workflow ON CLUSTER campus_cluster
AS ioc.service_workflow_local
ENGINE = Distributed(campus_cluster, ioc, service_workflow_local, cityHash64(event_id));

CREATE TABLE IF NOT EXISTS ioc.service_print_local ON CLUSTER campus_cluster
(
    `event_id` String,
    `ts` DateTime64(3, 'UTC'),
    `source` LowCardinality(String),
    `terminal_id` LowCardinality(String),
    `document` Enum8('enrollment_certificate' = 1, 'transcript_zh' = 2, 'transcript_en' = 3, 'other' = 4),
    `pages` UInt8,
    `result` Enum8('ok' = 1, 'failed' = 2),
    `received_at` DateTime64(3, 'UTC')
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(ts)
ORDER BY (terminal_id, ts)
TTL toDateTime(ts) + INTERVAL 400 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.service_print ON CLUSTER campus_cluster
AS ioc.service_print_local
ENGINE = Distributed(campus_cluster, ioc, service_print_local, cityHash64(event_id));

CREATE TABLE IF NOT EXISTS ioc.service_call_local ON CLUSTER campus_cluster
(
    `event_id` String,
    `ts` DateTime64(3, 'UTC'),
    `source` LowCardinality(String),
    `queue` String,
    `wait_s` UInt64,
    `talk_s` UInt64,
    `outcome` Enum8('answered' = 1, 'abandoned' = 2, 'callback' = 3),
    `received_at` DateTime64(3, 'UTC')
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(ts)
ORDER BY (queue, ts)
TTL toDateTime(ts) + INTERVAL 400 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.service_call ON CLUSTER campus_cluster
AS ioc.service_call_local
ENGINE = Distributed(campus_cluster, ioc, service_call_local, cityHash64(event_id));

CREATE TABLE IF NOT EXISTS ioc.service_workflow_1m_local ON CLUSTER campus_cluster
(
    `minute` DateTime('UTC'),
    `service_id` LowCardinality(String),
    `action` Enum8('submitted' = 1, 'approved' = 2, 'rejected' = 3, 'returned' = 4, 'completed' = 5, 'withdrawn' = 6),
    `events` SimpleAggregateFunction(sum, UInt64)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(minute)
ORDER BY (minute, service_id, action)
TTL minute + INTERVAL 63 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.service_workflow_1m ON CLUSTER campus_cluster
AS ioc.service_workflow_1m_local
ENGINE = Distributed(campus_cluster, ioc, service_workflow_1m_local, rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.service_workflow_1m_local_mv ON CLUSTER campus_cluster
TO ioc.service_workflow_1m_local
AS SELECT
    toStartOfMinute(ts) AS `minute`,
    service_id AS `service_id`,
    action AS `action`,
    count() AS `events`
FROM ioc.service_workflow_local
GROUP BY `minute`, `service_id`, `action`;

CREATE TABLE IF NOT EXISTS ioc.service_workflow_1h_local ON CLUSTER campus_cluster
(
    `hour` DateTime('UTC'),
    `service_id` LowCardinality(String),
    `department` LowCardinality(String),
    `applicant_type` Enum8('student' = 1, 'staff' = 2, 'alumni' = 3, 'external' = 4),
    `channel` Enum8('web' = 1, 'mobile' = 2, 'wechat' = 3, 'kiosk' = 4),
    `action` Enum8('submitted' = 1, 'approved' = 2, 'rejected' = 3, 'returned' = 4, 'completed' = 5, 'withdrawn' = 6),
    `events` SimpleAggregateFunction(sum, UInt64)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, service_id, department, applicant_type, channel, action)
TTL hour + INTERVAL 400 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.service_workflow_1h ON CLUSTER campus_cluster
AS ioc.service_workflow_1h_local
ENGINE = Distributed(campus_cluster, ioc, service_workflow_1h_local, rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.service_workflow_1h_local_mv ON CLUSTER campus_cluster
TO ioc.service_workflow_1h_local
AS SELECT
    toStartOfHour(ts) AS `hour`,
    service_id AS `service_id`,
    department AS `department`,
    applicant_type AS `applicant_type`,
    channel AS `channel`,
    action AS `action`,
    count() AS `events`
FROM ioc.service_workflow_local
GROUP BY `hour`, `service_id`, `department`, `applicant_type`, `channel`, `action`;

CREATE TABLE IF NOT EXISTS ioc.service_print_1m_local ON CLUSTER campus_cluster
(
    `minute` DateTime('UTC'),
    `terminal_id` LowCardinality(String),
    `document` Enum8('enrollment_certificate' = 1, 'transcript_zh' = 2, 'transcript_en' = 3, 'other' = 4),
    `result` Enum8('ok' = 1, 'failed' = 2),
    `jobs` SimpleAggregateFunction(sum, UInt64),
    `pages` SimpleAggregateFunction(sum, UInt64)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(minute)
ORDER BY (minute, terminal_id, document, result)
TTL minute + INTERVAL 63 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.service_print_1m ON CLUSTER campus_cluster
AS ioc.service_print_1m_local
ENGINE = Distributed(campus_cluster, ioc, service_print_1m_local, rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.service_print_1m_local_mv ON CLUSTER campus_cluster
TO ioc.service_print_1m_local
AS SELECT
    toStartOfMinute(ts) AS `minute`,
    terminal_id AS `terminal_id`,
    document AS `document`,
    result AS `result`,
    count() AS `jobs`,
    sum(pages) AS `pages`
FROM ioc.service_print_local
GROUP BY `minute`, `terminal_id`, `document`, `result`;

CREATE TABLE IF NOT EXISTS ioc.service_call_1m_local ON CLUSTER campus_cluster
(
    `minute` DateTime('UTC'),
    `queue` String,
    `outcome` Enum8('answered' = 1, 'abandoned' = 2, 'callback' = 3),
    `calls` SimpleAggregateFunction(sum, UInt64),
    `wait_s_sum` SimpleAggregateFunction(sum, UInt64),
    `talk_s_sum` SimpleAggregateFunction(sum, UInt64),
    `wait_s_max` SimpleAggregateFunction(max, UInt64)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(minute)
ORDER BY (minute, queue, outcome)
TTL minute + INTERVAL 63 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.service_call_1m ON CLUSTER campus_cluster
AS ioc.service_call_1m_local
ENGINE = Distributed(campus_cluster, ioc, service_call_1m_local, rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.service_call_1m_local_mv ON CLUSTER campus_cluster
TO ioc.service_call_1m_local
AS SELECT
    toStartOfMinute(ts) AS `minute`,
    queue AS `queue`,
    outcome AS `outcome`,
    count() AS `calls`,
    sum(wait_s) AS `wait_s_sum`,
    sum(talk_s) AS `talk_s_sum`,
    max(wait_s) AS `wait_s_max`
FROM ioc.service_call_local
GROUP BY `minute`, `queue`, `outcome`;

CREATE TABLE IF NOT EXISTS ioc.service_print_1h_local ON CLUSTER campus_cluster
(
    `hour` DateTime('UTC'),
    `terminal_id` LowCardinality(String),
    `document` Enum8('enrollment_certificate' = 1, 'transcript_zh' = 2, 'transcript_en' = 3, 'other' = 4),
    `result` Enum8('ok' = 1, 'failed' = 2),
    `jobs` SimpleAggregateFunction(sum, UInt64),
    `pages` SimpleAggregateFunction(sum, UInt64)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, terminal_id, document, result)
TTL hour + INTERVAL 400 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.service_print_1h ON CLUSTER campus_cluster
AS ioc.service_print_1h_local
ENGINE = Distributed(campus_cluster, ioc, service_print_1h_local, rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.service_print_1h_local_mv ON CLUSTER campus_cluster
TO ioc.service_print_1h_local
AS SELECT
    toStartOfHour(ts) AS `hour`,
    terminal_id AS `terminal_id`,
    document AS `document`,
    result AS `result`,
    count() AS `jobs`,
    sum(pages) AS `pages`
FROM ioc.service_print_local
GROUP BY `hour`, `terminal_id`, `document`, `result`;

CREATE TABLE IF NOT EXISTS ioc.service_call_1h_local ON CLUSTER campus_cluster
(
    `hour` DateTime('UTC'),
    `queue` String,
    `outcome` Enum8('answered' = 1, 'abandoned' = 2, 'callback' = 3),
    `calls` SimpleAggregateFunction(sum, UInt64),
    `wait_s_sum` SimpleAggregateFunction(sum, UInt64),
    `talk_s_sum` SimpleAggregateFunction(sum, UInt64),
    `wait_s_max` SimpleAggregateFunction(max, UInt64)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, queue, outcome)
TTL hour + INTERVAL 400 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.service_call_1h ON CLUSTER campus_cluster
AS ioc.service_call_1h_local
ENGINE = Distributed(campus_cluster, ioc, service_call_1h_local, rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.service_call_1h_local_mv ON CLUSTER campus_cluster
TO ioc.service_call_1h_local
AS SELECT
    toStartOfHour(ts) AS `hour`,
    queue AS `queue`,
    outcome AS `outcome`,
    count() AS `calls`,
    sum(wait_s) AS `wait_s_sum`,
    sum(talk_s) AS `talk_s_sum`,
    max(wait_s) AS `wait_s_max`
FROM ioc.service_call_local
GROUP BY `hour`, `queue`, `outcome`;

-- 0006_reference

CREATE TABLE IF NOT EXISTS ioc.ioc_reference_local ON CLUSTER campus_cluster
(
    `kind` LowCardinality(String),
    `code` String,
    `name_zh` String,
    `name_en` String,
    `parent` LowCardinality(String),
    `value` Float64,
    `flag` Bool,
    `loaded_at` DateTime64(3, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', loaded_at)
ORDER BY (kind, code)
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.ioc_reference ON CLUSTER campus_cluster
AS ioc.ioc_reference_local
ENGINE = Distributed(campus_cluster, ioc, ioc_reference_local, cityHash64(kind, code));

-- 0008_state

CREATE TABLE IF NOT EXISTS ioc.service_case_state_local ON CLUSTER campus_cluster
(
    `case_id` String,
    `service_id` SimpleAggregateFunction(max, LowCardinality(String)),
    `department` SimpleAggregateFunction(max, LowCardinality(String)),
    `first_submitted` SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    `completed` SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    `latest` SimpleAggregateFunction(max, UInt64)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY (case_id)
TTL toDateTime(intDiv(latest, 8000)) + INTERVAL 400 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.service_case_state ON CLUSTER campus_cluster
AS ioc.service_case_state_local
ENGINE = Distributed(campus_cluster, ioc, service_case_state_local, cityHash64(case_id));

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.service_case_state_local_mv ON CLUSTER campus_cluster
TO ioc.service_case_state_local
AS SELECT
    case_id,
    max(service_id) AS service_id,
    max(department) AS department,
    min(if(action = 'submitted', ts, toDateTime64('2299-12-31 23:59:59.999', 3, 'UTC'))) AS first_submitted,
    max(if(action = 'completed', ts, toDateTime64(0, 3, 'UTC'))) AS completed,
    max(toUInt64(toUnixTimestamp64Milli(ts)) * 8 + indexOf(['submitted', 'returned', 'approved', 'rejected', 'withdrawn', 'completed'], toString(action))) AS latest
FROM ioc.service_workflow_local AS src
GROUP BY case_id;

INSERT INTO ioc.service_case_state
SELECT
    case_id,
    max(service_id) AS service_id,
    max(department) AS department,
    min(if(action = 'submitted', ts, toDateTime64('2299-12-31 23:59:59.999', 3, 'UTC'))) AS first_submitted,
    max(if(action = 'completed', ts, toDateTime64(0, 3, 'UTC'))) AS completed,
    max(toUInt64(toUnixTimestamp64Milli(ts)) * 8 + indexOf(['submitted', 'returned', 'approved', 'rejected', 'withdrawn', 'completed'], toString(action))) AS latest
FROM ioc.service_workflow AS src
GROUP BY case_id;

CREATE TABLE IF NOT EXISTS ioc.enrollment_admission_latest_local ON CLUSTER campus_cluster
(
    `year` UInt16,
    `candidate_key` String,
    `status` Enum8('filed' = 1, 'admitted' = 2, 'returned' = 3, 'withdrawn' = 4),
    `province` Enum8('11' = 1, '12' = 2, '13' = 3, '14' = 4, '15' = 5, '21' = 6, '22' = 7, '23' = 8, '31' = 9, '32' = 10, '33' = 11, '34' = 12, '35' = 13, '36' = 14, '37' = 15, '41' = 16, '42' = 17, '43' = 18, '44' = 19, '45' = 20, '46' = 21, '50' = 22, '51' = 23, '52' = 24, '53' = 25, '54' = 26, '61' = 27, '62' = 28, '63' = 29, '64' = 30, '65' = 31, '71' = 32, '81' = 33, '82' = 34),
    `batch` Enum8('early' = 1, 'regular' = 2, 'second' = 3, 'special' = 4, 'junior_college' = 5),
    `category` Enum8('general' = 1, 'art' = 2, 'sport' = 3, 'national_special' = 4, 'university_special' = 5, 'local_special' = 6, 'sino_foreign' = 7, 'preparatory' = 8, 'minority' = 9),
    `track` Enum8('physics' = 1, 'history' = 2, 'science' = 3, 'liberal_arts' = 4, 'comprehensive' = 5),
    `college` LowCardinality(String),
    `major` LowCardinality(String),
    `score` Float64,
    `ts` DateTime64(3, 'UTC'),
    `version` UInt128
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version)
PARTITION BY year
ORDER BY (year, candidate_key)
TTL toDateTime(ts) + INTERVAL 3660 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.enrollment_admission_latest ON CLUSTER campus_cluster
AS ioc.enrollment_admission_latest_local
ENGINE = Distributed(campus_cluster, ioc, enrollment_admission_latest_local, cityHash64(year, candidate_key));

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.enrollment_admission_latest_local_mv ON CLUSTER campus_cluster
TO ioc.enrollment_admission_latest_local
AS SELECT
    year,
    candidate_key,
    status,
    province,
    batch,
    category,
    track,
    college,
    major,
    score,
    ts,
    bitShiftLeft(toUInt128(toUInt64(toUnixTimestamp64Milli(ts)) * 8 + indexOf(['filed', 'admitted', 'returned', 'withdrawn'], toString(status))), 64) + cityHash64(event_id) AS version
FROM ioc.enrollment_admission_local AS src;

INSERT INTO ioc.enrollment_admission_latest
SELECT
    year,
    candidate_key,
    status,
    province,
    batch,
    category,
    track,
    college,
    major,
    score,
    ts,
    bitShiftLeft(toUInt128(toUInt64(toUnixTimestamp64Milli(ts)) * 8 + indexOf(['filed', 'admitted', 'returned', 'withdrawn'], toString(status))), 64) + cityHash64(event_id) AS version
FROM ioc.enrollment_admission AS src;

CREATE TABLE IF NOT EXISTS ioc.enrollment_checkin_state_local ON CLUSTER campus_cluster
(
    `year` UInt16,
    `student_key` String,
    `step` SimpleAggregateFunction(max, Enum8('arrived' = 1, 'paid' = 2, 'dorm' = 3, 'registered' = 4)),
    `reached_arrived` SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    `reached_paid` SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    `reached_dorm` SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    `reached_registered` SimpleAggregateFunction(min, DateTime64(3, 'UTC'))
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY year
ORDER BY (year, student_key)
TTL toDateTime(reached_arrived) + INTERVAL 3660 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.enrollment_checkin_state ON CLUSTER campus_cluster
AS ioc.enrollment_checkin_state_local
ENGINE = Distributed(campus_cluster, ioc, enrollment_checkin_state_local, cityHash64(year, student_key));

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.enrollment_checkin_state_local_mv ON CLUSTER campus_cluster
TO ioc.enrollment_checkin_state_local
AS SELECT
    year,
    student_key,
    max(step) AS step,
    min(if(src.step >= 'arrived', ts, toDateTime64('2299-12-31 23:59:59.999', 3, 'UTC'))) AS reached_arrived,
    min(if(src.step >= 'paid', ts, toDateTime64('2299-12-31 23:59:59.999', 3, 'UTC'))) AS reached_paid,
    min(if(src.step >= 'dorm', ts, toDateTime64('2299-12-31 23:59:59.999', 3, 'UTC'))) AS reached_dorm,
    min(if(src.step >= 'registered', ts, toDateTime64('2299-12-31 23:59:59.999', 3, 'UTC'))) AS reached_registered
FROM ioc.enrollment_checkin_local AS src
GROUP BY year, student_key;

INSERT INTO ioc.enrollment_checkin_state
SELECT
    year,
    student_key,
    max(step) AS step,
    min(if(src.step >= 'arrived', ts, toDateTime64('2299-12-31 23:59:59.999', 3, 'UTC'))) AS reached_arrived,
    min(if(src.step >= 'paid', ts, toDateTime64('2299-12-31 23:59:59.999', 3, 'UTC'))) AS reached_paid,
    min(if(src.step >= 'dorm', ts, toDateTime64('2299-12-31 23:59:59.999', 3, 'UTC'))) AS reached_dorm,
    min(if(src.step >= 'registered', ts, toDateTime64('2299-12-31 23:59:59.999', 3, 'UTC'))) AS reached_registered
FROM ioc.enrollment_checkin AS src
GROUP BY year, student_key;

-- 0009_core_state

CREATE TABLE IF NOT EXISTS ioc.ioc_freshness_local ON CLUSTER campus_cluster
(
    `stream` LowCardinality(String),
    `last_ts` SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    `last_received` SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    `arrival` AggregateFunction(argMax, DateTime64(3, 'UTC'), DateTime64(3, 'UTC'))
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY stream
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.ioc_freshness ON CLUSTER campus_cluster
AS ioc.ioc_freshness_local
ENGINE = Distributed(campus_cluster, ioc, ioc_freshness_local, cityHash64(stream));

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.ioc_freshness_local_mv_gate_pass ON CLUSTER campus_cluster
TO ioc.ioc_freshness_local
AS SELECT 'gate.pass' AS stream, max(ts) AS last_ts, max(received_at) AS last_received,
    argMaxState(received_at, ts) AS arrival
FROM ioc.gate_pass_local
GROUP BY stream;

INSERT INTO ioc.ioc_freshness
SELECT 'gate.pass' AS stream, max(ts) AS last_ts, max(received_at) AS last_received,
    argMaxState(received_at, ts) AS arrival
FROM ioc.gate_pass
GROUP BY stream;

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.ioc_freshness_local_mv_network_link ON CLUSTER campus_cluster
TO ioc.ioc_freshness_local
AS SELECT 'network.link' AS stream, max(ts) AS last_ts, max(received_at) AS last_received,
    argMaxState(received_at, ts) AS arrival
FROM ioc.network_link_local
GROUP BY stream;

INSERT INTO ioc.ioc_freshness
SELECT 'network.link' AS stream, max(ts) AS last_ts, max(received_at) AS last_received,
    argMaxState(received_at, ts) AS arrival
FROM ioc.network_link
GROUP BY stream;

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.ioc_freshness_local_mv_network_online ON CLUSTER campus_cluster
TO ioc.ioc_freshness_local
AS SELECT 'network.online' AS stream, max(ts) AS last_ts, max(received_at) AS last_received,
    argMaxState(received_at, ts) AS arrival
FROM ioc.network_online_local
GROUP BY stream;

INSERT INTO ioc.ioc_freshness
SELECT 'network.online' AS stream, max(ts) AS last_ts, max(received_at) AS last_received,
    argMaxState(received_at, ts) AS arrival
FROM ioc.network_online
GROUP BY stream;

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.ioc_freshness_local_mv_network_security ON CLUSTER campus_cluster
TO ioc.ioc_freshness_local
AS SELECT 'network.security' AS stream, max(ts) AS last_ts, max(received_at) AS last_received,
    argMaxState(received_at, ts) AS arrival
FROM ioc.network_security_local
GROUP BY stream;

INSERT INTO ioc.ioc_freshness
SELECT 'network.security' AS stream, max(ts) AS last_ts, max(received_at) AS last_received,
    argMaxState(received_at, ts) AS arrival
FROM ioc.network_security
GROUP BY stream;

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.ioc_freshness_local_mv_enrollment_admission ON CLUSTER campus_cluster
TO ioc.ioc_freshness_local
AS SELECT 'enrollment.admission' AS stream, max(ts) AS last_ts, max(received_at) AS last_received,
    argMaxState(received_at, ts) AS arrival
FROM ioc.enrollment_admission_local
GROUP BY stream;

INSERT INTO ioc.ioc_freshness
SELECT 'enrollment.admission' AS stream, max(ts) AS last_ts, max(received_at) AS last_received,
    argMaxState(received_at, ts) AS arrival
FROM ioc.enrollment_admission
GROUP BY stream;

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.ioc_freshness_local_mv_enrollment_checkin ON CLUSTER campus_cluster
TO ioc.ioc_freshness_local
AS SELECT 'enrollment.checkin' AS stream, max(ts) AS last_ts, max(received_at) AS last_received,
    argMaxState(received_at, ts) AS arrival
FROM ioc.enrollment_checkin_local
GROUP BY stream;

INSERT INTO ioc.ioc_freshness
SELECT 'enrollment.checkin' AS stream, max(ts) AS last_ts, max(received_at) AS last_received,
    argMaxState(received_at, ts) AS arrival
FROM ioc.enrollment_checkin
GROUP BY stream;

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.ioc_freshness_local_mv_service_workflow ON CLUSTER campus_cluster
TO ioc.ioc_freshness_local
AS SELECT 'service.workflow' AS stream, max(ts) AS last_ts, max(received_at) AS last_received,
    argMaxState(received_at, ts) AS arrival
FROM ioc.service_workflow_local
GROUP BY stream;

INSERT INTO ioc.ioc_freshness
SELECT 'service.workflow' AS stream, max(ts) AS last_ts, max(received_at) AS last_received,
    argMaxState(received_at, ts) AS arrival
FROM ioc.service_workflow
GROUP BY stream;

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.ioc_freshness_local_mv_service_print ON CLUSTER campus_cluster
TO ioc.ioc_freshness_local
AS SELECT 'service.print' AS stream, max(ts) AS last_ts, max(received_at) AS last_received,
    argMaxState(received_at, ts) AS arrival
FROM ioc.service_print_local
GROUP BY stream;

INSERT INTO ioc.ioc_freshness
SELECT 'service.print' AS stream, max(ts) AS last_ts, max(received_at) AS last_received,
    argMaxState(received_at, ts) AS arrival
FROM ioc.service_print
GROUP BY stream;

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.ioc_freshness_local_mv_service_call ON CLUSTER campus_cluster
TO ioc.ioc_freshness_local
AS SELECT 'service.call' AS stream, max(ts) AS last_ts, max(received_at) AS last_received,
    argMaxState(received_at, ts) AS arrival
FROM ioc.service_call_local
GROUP BY stream;

INSERT INTO ioc.ioc_freshness
SELECT 'service.call' AS stream, max(ts) AS last_ts, max(received_at) AS last_received,
    argMaxState(received_at, ts) AS arrival
FROM ioc.service_call
GROUP BY stream;

CREATE TABLE IF NOT EXISTS ioc.ioc_snapshots_local ON CLUSTER campus_cluster
(
    `generated_at` DateTime64(3, 'UTC'),
    `version` UInt64,
    `reason` LowCardinality(String),
    `alerts` UInt16,
    `body` String CODEC(ZSTD(3))
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(generated_at)
ORDER BY generated_at
TTL toDateTime(generated_at) + INTERVAL 400 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.ioc_snapshots ON CLUSTER campus_cluster
AS ioc.ioc_snapshots_local
ENGINE = Distributed(campus_cluster, ioc, ioc_snapshots_local, 0);

-- 0010_incidents

CREATE TABLE IF NOT EXISTS ioc.network_incident_first_local ON CLUSTER campus_cluster
(
    `incident_key` String,
    `first_seen` SimpleAggregateFunction(min, DateTime64(3, 'UTC'))
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY incident_key
TTL toDateTime(first_seen) + INTERVAL 400 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.network_incident_first ON CLUSTER campus_cluster
AS ioc.network_incident_first_local
ENGINE = Distributed(campus_cluster, ioc, network_incident_first_local, cityHash64(incident_key));

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.network_incident_first_local_mv ON CLUSTER campus_cluster
TO ioc.network_incident_first_local
AS SELECT incident_key, min(ts) AS first_seen
FROM ioc.network_security_local
GROUP BY incident_key;

INSERT INTO ioc.network_incident_first
SELECT incident_key, min(ts) AS first_seen
FROM ioc.network_security
GROUP BY incident_key;

-- 0011_audit

CREATE TABLE IF NOT EXISTS ioc.ioc_audit_local ON CLUSTER campus_cluster
(
    `id` UUID,
    `ts` DateTime64(3, 'UTC'),
    `actor_kind` Enum8('person' = 1, 'screen' = 2, 'token' = 3, 'system' = 4, 'anonymous' = 5),
    `actor` String,
    `address` String,
    `action` LowCardinality(String),
    `object` String,
    `result` LowCardinality(String),
    `detail` String
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(ts)
ORDER BY (ts, id)
TTL toDateTime(ts) + INTERVAL 400 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.ioc_audit ON CLUSTER campus_cluster
AS ioc.ioc_audit_local
ENGINE = Distributed(campus_cluster, ioc, ioc_audit_local, cityHash64(id));

-- 0012_deadletter_retention

ALTER TABLE ioc.ioc_deadletter_local ON CLUSTER campus_cluster
MODIFY TTL toDateTime(received_at) + INTERVAL 30 DAY;

-- 0013_gate_people

CREATE TABLE IF NOT EXISTS ioc.gate_pass_people_1h_local ON CLUSTER campus_cluster
(
    `hour` DateTime('UTC'),
    `person_type` Enum8('student' = 1, 'staff' = 2, 'resident' = 3, 'visitor' = 4, 'contractor' = 5, 'other' = 6),
    `direction` Enum8('in' = 1, 'out' = 2),
    `result` Enum8('pass' = 1, 'deny' = 2),
    `deny` LowCardinality(String),
    `attempts` SimpleAggregateFunction(sum, UInt64)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, person_type, direction, result, deny)
TTL hour + INTERVAL 400 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.gate_pass_people_1h ON CLUSTER campus_cluster
AS ioc.gate_pass_people_1h_local
ENGINE = Distributed(campus_cluster, ioc, gate_pass_people_1h_local, rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.gate_pass_people_1h_local_mv ON CLUSTER campus_cluster
TO ioc.gate_pass_people_1h_local
AS SELECT
    `hour` AS `hour`,
    `person_type` AS `person_type`,
    `direction` AS `direction`,
    `result` AS `result`,
    `deny` AS `deny`,
    sum(`attempts`) AS `attempts`
FROM ioc.gate_pass_1h_local
GROUP BY `hour`, `person_type`, `direction`, `result`, `deny`;

TRUNCATE TABLE IF EXISTS ioc.gate_pass_people_1h_local ON CLUSTER campus_cluster;

INSERT INTO ioc.gate_pass_people_1h
SETTINGS insert_deduplicate = 0, insert_distributed_sync = 1
SELECT
    `hour` AS `hour`,
    `person_type` AS `person_type`,
    `direction` AS `direction`,
    `result` AS `result`,
    `deny` AS `deny`,
    sum(`attempts`) AS `attempts`
FROM ioc.gate_pass_1h
GROUP BY `hour`, `person_type`, `direction`, `result`, `deny`;

-- 0017_gate_gates

CREATE TABLE IF NOT EXISTS ioc.gate_pass_gates_1h_local ON CLUSTER campus_cluster
(
    `hour` DateTime('UTC'),
    `campus` LowCardinality(String),
    `gate_id` LowCardinality(String),
    `direction` Enum8('in' = 1, 'out' = 2),
    `result` Enum8('pass' = 1, 'deny' = 2),
    `attempts` SimpleAggregateFunction(sum, UInt64),
    `fever` SimpleAggregateFunction(sum, UInt64)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, campus, gate_id, direction, result)
TTL hour + INTERVAL 400 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.gate_pass_gates_1h ON CLUSTER campus_cluster
AS ioc.gate_pass_gates_1h_local
ENGINE = Distributed(campus_cluster, ioc, gate_pass_gates_1h_local, rand());

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.gate_pass_gates_1h_local_mv ON CLUSTER campus_cluster
TO ioc.gate_pass_gates_1h_local
AS SELECT
    `hour` AS `hour`,
    `campus` AS `campus`,
    `gate_id` AS `gate_id`,
    `direction` AS `direction`,
    `result` AS `result`,
    sum(`attempts`) AS `attempts`,
    sum(`fever`) AS `fever`
FROM ioc.gate_pass_1h_local
GROUP BY `hour`, `campus`, `gate_id`, `direction`, `result`;

TRUNCATE TABLE IF EXISTS ioc.gate_pass_gates_1h_local ON CLUSTER campus_cluster;

INSERT INTO ioc.gate_pass_gates_1h
SETTINGS insert_deduplicate = 0, insert_distributed_sync = 1
SELECT
    `hour` AS `hour`,
    `campus` AS `campus`,
    `gate_id` AS `gate_id`,
    `direction` AS `direction`,
    `result` AS `result`,
    sum(`attempts`) AS `attempts`,
    sum(`fever`) AS `fever`
FROM ioc.gate_pass_1h
GROUP BY `hour`, `campus`, `gate_id`, `direction`, `result`;

-- 0018_enrollment_season

ALTER TABLE ioc.enrollment_admission_local ON CLUSTER campus_cluster
ADD COLUMN IF NOT EXISTS `first_choice` Nullable(Bool) AFTER `province_rank`;

ALTER TABLE ioc.enrollment_admission ON CLUSTER campus_cluster
ADD COLUMN IF NOT EXISTS `first_choice` Nullable(Bool) AFTER `province_rank`;

ALTER TABLE ioc.enrollment_admission_latest_local ON CLUSTER campus_cluster
ADD COLUMN IF NOT EXISTS `province_rank` Nullable(UInt64) AFTER `score`;

ALTER TABLE ioc.enrollment_admission_latest ON CLUSTER campus_cluster
ADD COLUMN IF NOT EXISTS `province_rank` Nullable(UInt64) AFTER `score`;

ALTER TABLE ioc.enrollment_admission_latest_local ON CLUSTER campus_cluster
ADD COLUMN IF NOT EXISTS `first_choice` Nullable(Bool) AFTER `province_rank`;

ALTER TABLE ioc.enrollment_admission_latest ON CLUSTER campus_cluster
ADD COLUMN IF NOT EXISTS `first_choice` Nullable(Bool) AFTER `province_rank`;

DROP VIEW IF EXISTS ioc.enrollment_admission_latest_local_mv ON CLUSTER campus_cluster SYNC;

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.enrollment_admission_latest_local_mv ON CLUSTER campus_cluster
TO ioc.enrollment_admission_latest_local
AS SELECT
    year,
    candidate_key,
    status,
    province,
    batch,
    category,
    track,
    college,
    major,
    score,
    province_rank,
    first_choice,
    ts,
    bitShiftLeft(toUInt128(toUInt64(toUnixTimestamp64Milli(ts)) * 8 + indexOf(['filed', 'admitted', 'returned', 'withdrawn'], toString(status))), 64) + cityHash64(event_id) AS version
FROM ioc.enrollment_admission_local AS src;

INSERT INTO ioc.enrollment_admission_latest
SELECT
    year,
    candidate_key,
    status,
    province,
    batch,
    category,
    track,
    college,
    major,
    score,
    province_rank,
    first_choice,
    ts,
    bitShiftLeft(toUInt128(toUInt64(toUnixTimestamp64Milli(ts)) * 8 + indexOf(['filed', 'admitted', 'returned', 'withdrawn'], toString(status))), 64) + cityHash64(event_id) AS version
FROM ioc.enrollment_admission AS src;

CREATE TABLE IF NOT EXISTS ioc.enrollment_control_line_local ON CLUSTER campus_cluster
(
    `year` UInt16,
    `province` Enum8('11' = 1, '12' = 2, '13' = 3, '14' = 4, '15' = 5, '21' = 6, '22' = 7, '23' = 8, '31' = 9, '32' = 10, '33' = 11, '34' = 12, '35' = 13, '36' = 14, '37' = 15, '41' = 16, '42' = 17, '43' = 18, '44' = 19, '45' = 20, '46' = 21, '50' = 22, '51' = 23, '52' = 24, '53' = 25, '54' = 26, '61' = 27, '62' = 28, '63' = 29, '64' = 30, '65' = 31, '71' = 32, '81' = 33, '82' = 34),
    `batch` Enum8('early' = 1, 'regular' = 2, 'second' = 3, 'special' = 4, 'junior_college' = 5),
    `category` Enum8('general' = 1, 'art' = 2, 'sport' = 3, 'national_special' = 4, 'university_special' = 5, 'local_special' = 6, 'sino_foreign' = 7, 'preparatory' = 8, 'minority' = 9),
    `track` Enum8('physics' = 1, 'history' = 2, 'science' = 3, 'liberal_arts' = 4, 'comprehensive' = 5),
    `control_score` Float64,
    `source` LowCardinality(String),
    `imported_at` DateTime64(3, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', imported_at)
ORDER BY (year, province, batch, category, track)
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.enrollment_control_line ON CLUSTER campus_cluster
AS ioc.enrollment_control_line_local
ENGINE = Distributed(campus_cluster, ioc, enrollment_control_line_local, cityHash64(year, province, batch, category, track));

CREATE TABLE IF NOT EXISTS ioc.enrollment_notice_local ON CLUSTER campus_cluster
(
    `event_id` String,
    `ts` DateTime64(3, 'UTC'),
    `source` LowCardinality(String),
    `year` UInt16,
    `candidate_key` String,
    `status` Enum8('printed' = 1, 'mailed' = 2, 'delivered' = 3, 'returned' = 4),
    `tracking_no` Nullable(String),
    `carrier` Nullable(String),
    `received_at` DateTime64(3, 'UTC')
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(ts)
ORDER BY (year, candidate_key, ts)
TTL toDateTime(ts) + INTERVAL 3660 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.enrollment_notice ON CLUSTER campus_cluster
AS ioc.enrollment_notice_local
ENGINE = Distributed(campus_cluster, ioc, enrollment_notice_local, cityHash64(event_id));

CREATE MATERIALIZED VIEW IF NOT EXISTS ioc.ioc_freshness_local_mv_enrollment_notice ON CLUSTER campus_cluster
TO ioc.ioc_freshness_local
AS SELECT 'enrollment.notice' AS stream, max(ts) AS last_ts, max(received_at) AS last_received,
    argMaxState(received_at, ts) AS arrival
FROM ioc.enrollment_notice_local
GROUP BY stream;

INSERT INTO ioc.ioc_freshness
SELECT 'enrollment.notice' AS stream, max(ts) AS last_ts, max(received_at) AS last_received,
    argMaxState(received_at, ts) AS arrival
FROM ioc.enrollment_notice
GROUP BY stream;

-- 0019_alert_contacts

CREATE TABLE IF NOT EXISTS ioc.ioc_alert_delivery_local ON CLUSTER campus_cluster
(
    `id` String,
    `ts` DateTime64(3, 'UTC'),
    `contact` LowCardinality(String),
    `kind` LowCardinality(String),
    `status` LowCardinality(String),
    `attempt` UInt16,
    `next_at` Nullable(DateTime64(3, 'UTC')),
    `error` String,
    `alerts` Array(String),
    `entries` String
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(ts)
ORDER BY (contact, ts, id)
TTL toDateTime(ts) + INTERVAL 90 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.ioc_alert_delivery ON CLUSTER campus_cluster
AS ioc.ioc_alert_delivery_local
ENGINE = Distributed(campus_cluster, ioc, ioc_alert_delivery_local, cityHash64(id));

CREATE TABLE IF NOT EXISTS ioc.ioc_alert_action_local ON CLUSTER campus_cluster
(
    `id` String,
    `ts` DateTime64(3, 'UTC'),
    `action` LowCardinality(String),
    `target` String,
    `until` Nullable(DateTime64(3, 'UTC')),
    `actor` String
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(ts)
ORDER BY (ts, id)
TTL toDateTime(ts) + INTERVAL 400 DAY
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.ioc_alert_action ON CLUSTER campus_cluster
AS ioc.ioc_alert_action_local
ENGINE = Distributed(campus_cluster, ioc, ioc_alert_action_local, cityHash64(target));

-- 0021_reference_history

CREATE TABLE IF NOT EXISTS ioc.ioc_reference_history_local ON CLUSTER campus_cluster
(
    `kind` LowCardinality(String),
    `code` String,
    `name_zh` String,
    `name_en` String,
    `parent` LowCardinality(String),
    `value` Float64,
    `flag` Bool,
    `catalogue` LowCardinality(String),
    `path` String,
    `loaded_at` DateTime64(3, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', loaded_at)
ORDER BY (kind, code, catalogue)
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ioc.ioc_reference_history ON CLUSTER campus_cluster
AS ioc.ioc_reference_history_local
ENGINE = Distributed(campus_cluster, ioc, ioc_reference_history_local, cityHash64(kind, code));
