#!/usr/bin/env bash
# The worker's claim, walk over hosts and lease renewal over a queue of 1,000,000 jobs not due yet
# (priority 5, due tomorrow, on 100 hosts) and 1,000 due ones (priority 0, the same hosts), run with
# EXPLAIN (ANALYZE, BUFFERS) on two databases holding the same jobs: one migrated up to V5 (future
# jobs in the claim indexes), one migrated fully (future jobs 'scheduled', out of them). Writes are
# rolled back. Needs psql and a PostgreSQL where databases may be created (PGHOST, PGPORT, PGUSER as
# psql takes them; default 127.0.0.1, postgres). Prints each statement's time and buffers, and the
# share of lease renewals that were HOT updates.
set -euo pipefail
cd "$(dirname "$0")/.."
export PGHOST=${PGHOST:-127.0.0.1} PGUSER=${PGUSER:-postgres}
M=db/src/main/resources/db/migration
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat > "$work/load.sql" <<'SQL'
INSERT INTO fetchq.job (id, url, host, max_attempts, timeout_ms, max_body_bytes, priority, run_at)
SELECT g, 'https://h' || g % 100 || '.example/' || g, 'h' || g % 100 || '.example', 3, 60000, 1048576,
       CASE WHEN g <= 1000000 THEN 5 ELSE 0 END,
       CASE WHEN g <= 1000000 THEN now() + interval '1 day' + g * interval '1 millisecond' ELSE now() - interval '1 minute' END
FROM generate_series(1, 1001000) g;
INSERT INTO fetchq.queue (job_id, state, priority, run_at, host, attempt_limit)
SELECT id, :'future_state', priority, run_at, host, 3 FROM fetchq.job WHERE run_at > now();
INSERT INTO fetchq.queue (job_id, state, priority, run_at, host, attempt_limit)
SELECT id, 'queued', priority, run_at, host, 3 FROM fetchq.job WHERE run_at <= now();
SELECT setval(pg_get_serial_sequence('fetchq.job', 'id'), 1001000);
-- 100 running jobs whose leases the renewal renews.
UPDATE fetchq.queue SET state = 'running', lease_token = '00000000-0000-0000-0000-000000000001',
       lease_expires_at = now() + interval '30 seconds', worker_id = 'w1', attempt = 1
WHERE job_id IN (SELECT job_id FROM fetchq.queue WHERE state = 'queued' ORDER BY job_id LIMIT 100);
VACUUM ANALYZE;
SQL

cat > "$work/costs.sql" <<'SQL'
\echo == claim: 100 jobs from a window of 200, 8 per host
BEGIN;
EXPLAIN (ANALYZE, BUFFERS, SUMMARY ON)
WITH candidates AS (
    SELECT job_id, host, priority, run_at FROM fetchq.queue
    WHERE state = 'queued' AND run_at <= now() ORDER BY priority DESC, run_at LIMIT 200
), ranked AS (
    SELECT c.job_id, c.priority, c.run_at,
           row_number() OVER (PARTITION BY c.host COLLATE "C" ORDER BY c.priority DESC, c.run_at) AS host_rank,
           COALESCE(b.free, 8) AS host_free
    FROM candidates c LEFT JOIN unnest('{}'::text[], '{}'::int[]) AS b(host, free) ON b.host = c.host
), picked AS (
    SELECT q.job_id FROM fetchq.queue q JOIN ranked r ON r.job_id = q.job_id
    WHERE r.host_rank <= r.host_free AND q.state = 'queued' AND q.run_at <= now()
    ORDER BY r.priority DESC, r.run_at LIMIT 100
    FOR UPDATE OF q SKIP LOCKED
)
UPDATE fetchq.queue q SET state = 'running', attempt = q.attempt + 1, lease_token = gen_random_uuid(),
       lease_expires_at = now() + interval '30 seconds', worker_id = 'w2'
FROM picked p WHERE q.job_id = p.job_id RETURNING q.job_id;
ROLLBACK;
\echo == walk over the hosts with due jobs (100 hosts)
EXPLAIN (ANALYZE, BUFFERS, SUMMARY ON)
WITH RECURSIVE hosts(host, n) AS (
    SELECT (SELECT host FROM fetchq.queue WHERE state = 'queued' AND run_at <= now() AND host > '' ORDER BY host LIMIT 1), 1
    UNION ALL
    SELECT (SELECT q.host FROM fetchq.queue q
            WHERE q.state = 'queued' AND q.run_at <= now() AND q.host > h.host ORDER BY q.host LIMIT 1), h.n + 1
    FROM hosts h WHERE h.host IS NOT NULL AND h.n < 100
)
SELECT host FROM hosts WHERE host IS NOT NULL ORDER BY n;
\echo == renewal of 100 leases
EXPLAIN (ANALYZE, BUFFERS, SUMMARY ON)
WITH held AS (
    SELECT q.job_id FROM fetchq.queue q
    JOIN (SELECT job_id, lease_token FROM fetchq.queue WHERE state = 'running') h
      ON q.job_id = h.job_id AND q.lease_token = h.lease_token
    WHERE q.state = 'running' ORDER BY q.job_id FOR UPDATE OF q
)
UPDATE fetchq.queue q SET lease_expires_at = now() + interval '30 seconds'
FROM held WHERE q.job_id = held.job_id RETURNING q.job_id;
SQL

for db in before after; do
  psql -qc "DROP DATABASE IF EXISTS fetchq_claim_costs_$db" -c "CREATE DATABASE fetchq_claim_costs_$db"
  migrations=()
  for f in $M/V*.sql; do
    case $f in */V[6-9]__*) [ $db = after ] && migrations+=(-f "$f");; *) migrations+=(-f "$f");; esac
  done
  state=$([ $db = after ] && echo scheduled || echo queued)
  psql -d fetchq_claim_costs_$db -q -v ON_ERROR_STOP=1 -c "CREATE SCHEMA fetchq" "${migrations[@]}"
  psql -d fetchq_claim_costs_$db -q -v ON_ERROR_STOP=1 -v future_state=$state -f "$work/load.sql" > /dev/null
done
for run in 1 2; do
  for db in before after; do
    psql -d fetchq_claim_costs_$db -f "$work/costs.sql" > "$work/$db-$run.txt"
  done
done
for db in before after; do
  echo "### $db"
  awk '/^==/{print; n=0; next} /Buffers/{if(n==0){print; n=1}} /Execution Time/{print}' "$work/$db-2.txt"
  psql -d fetchq_claim_costs_$db -Atq <<'SQL'
BEGIN;
UPDATE fetchq.queue SET lease_expires_at = now() + interval '30 seconds' WHERE state = 'running';
UPDATE fetchq.queue SET lease_expires_at = now() + interval '31 seconds' WHERE state = 'running';
UPDATE fetchq.queue SET lease_expires_at = now() + interval '32 seconds' WHERE state = 'running';
SELECT 'lease renewals that were HOT updates: ' || n_tup_hot_upd || ' of ' || n_tup_upd
FROM pg_stat_xact_user_tables WHERE relid = 'fetchq.queue'::regclass;
ROLLBACK;
SQL
done
for db in before after; do psql -qc "DROP DATABASE fetchq_claim_costs_$db"; done
