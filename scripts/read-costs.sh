#!/usr/bin/env bash
# The API's hot reads over a long history, planned and run with EXPLAIN (ANALYZE, BUFFERS) on two
# databases holding the same 1,100,000 jobs: one migrated up to V4 (before the counts and read
# paths of V5), one migrated fully. Needs psql and a PostgreSQL where databases may be created
# (PGHOST, PGPORT, PGUSER as psql takes them; default 127.0.0.1, postgres). Prints each read's
# execution time and buffers, before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
export PGHOST=${PGHOST:-127.0.0.1} PGUSER=${PGUSER:-postgres}
M=db/src/main/resources/db/migration
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat > "$work/load.sql" <<'SQL'
INSERT INTO fetchq.batch (id, tenant, total, created_at)
SELECT b, CASE WHEN b % 10 = 0 THEN 'acme' ELSE 'default' END, 100, now() - interval '20 days' FROM generate_series(1, 10000) b;
INSERT INTO fetchq.batch (id, tenant, total, created_at) VALUES (10001, 'default', 100000, now());
INSERT INTO fetchq.job (id, tenant, batch_id, url, host, max_attempts, timeout_ms, max_body_bytes, state, attempts,
                        created_at, started_at, finished_at, status_code, error_kind, total_ms)
SELECT g, CASE WHEN ((g - 1) / 100 + 1) % 10 = 0 THEN 'acme' ELSE 'default' END, (g - 1) / 100 + 1,
       'https://h' || g % 1000 || '.example/' || g, 'h' || g % 1000 || '.example', 3, 60000, 1048576,
       CASE WHEN g % 20 = 0 THEN 'failed' WHEN g % 50 = 1 THEN 'cancelled' ELSE 'completed' END, 1,
       now() - interval '20 days', now() - interval '20 days', now() - interval '20 days' + g * interval '1 second',
       200, CASE WHEN g % 20 = 0 THEN 'timeout' END, 900
FROM generate_series(1, 1000000) g;
INSERT INTO fetchq.job (id, tenant, batch_id, url, host, max_attempts, timeout_ms, max_body_bytes, state, attempts,
                        created_at, finished_at)
SELECT 1000000 + g, 'default', 10001, 'https://t' || g % 1000 || '.example/' || g, 't' || g % 1000 || '.example', 3,
       60000, 1048576, CASE WHEN g <= 90000 THEN 'completed' ELSE 'queued' END, CASE WHEN g <= 90000 THEN 1 ELSE 0 END,
       now(), CASE WHEN g <= 90000 THEN now() END
FROM generate_series(1, 100000) g;
INSERT INTO fetchq.queue (job_id, state, priority, run_at, host, attempt_limit, lease_expires_at)
SELECT id, CASE WHEN id % 50 = 0 THEN 'running' ELSE 'queued' END, 0, now(), host, 3,
       CASE WHEN id % 50 = 0 THEN now() + interval '30 seconds' END
FROM fetchq.job WHERE state = 'queued';
SELECT setval(pg_get_serial_sequence('fetchq.job', 'id'), 1100000);
VACUUM ANALYZE;
SQL
cat > "$work/before.sql" <<'SQL'
\echo == stats totals (before)
EXPLAIN (ANALYZE, BUFFERS, SUMMARY ON) SELECT state, count(*) FROM fetchq.queue GROUP BY state UNION ALL SELECT state, count(*) FROM fetchq.job WHERE finished_at IS NOT NULL GROUP BY state;
\echo == progress of a 100,000-job batch (before)
EXPLAIN (ANALYZE, BUFFERS, SUMMARY ON) SELECT * FROM fetchq.batch_progress WHERE batch_id = 10001;
\echo == is it done (before)
EXPLAIN (ANALYZE, BUFFERS, SUMMARY ON) SELECT NOT EXISTS (SELECT 1 FROM fetchq.job WHERE batch_id = 10001 AND state = 'queued');
\echo == one tenant: failed jobs, first page (before)
EXPLAIN (ANALYZE, BUFFERS, SUMMARY ON) SELECT r.*, j.tenant FROM fetchq.job_results r JOIN fetchq.job j ON j.id = r.job_id WHERE r.job_id > 0 AND j.tenant = 'acme' AND r.state = 'failed' ORDER BY r.job_id LIMIT 100;
\echo == one host: jobs, first page (before)
EXPLAIN (ANALYZE, BUFFERS, SUMMARY ON) SELECT r.*, j.tenant FROM fetchq.job_results r JOIN fetchq.job j ON j.id = r.job_id WHERE r.job_id > 0 AND r.host = 'h7.example' ORDER BY r.job_id LIMIT 100;
\echo == running jobs (before)
EXPLAIN (ANALYZE, BUFFERS, SUMMARY ON) SELECT r.*, j.tenant FROM fetchq.job_results r JOIN fetchq.job j ON j.id = r.job_id WHERE r.job_id > 0 AND r.state = 'running' ORDER BY r.job_id LIMIT 100;
SQL
cat > "$work/after.sql" <<'SQL'
\echo == stats totals (after)
EXPLAIN (ANALYZE, BUFFERS, SUMMARY ON) SELECT COALESCE(sum(unfinished), 0), COALESCE(sum(completed), 0), COALESCE(sum(failed), 0), COALESCE(sum(cancelled), 0) FROM fetchq.job_count WHERE batch_id = 0;
EXPLAIN (ANALYZE, BUFFERS, SUMMARY ON) SELECT count(*) FROM fetchq.queue WHERE state = 'running';
\echo == progress of a 100,000-job batch (after)
EXPLAIN (ANALYZE, BUFFERS, SUMMARY ON) SELECT * FROM fetchq.batch_progress WHERE batch_id = 10001;
\echo == is it done (after)
EXPLAIN (ANALYZE, BUFFERS, SUMMARY ON) SELECT COALESCE(sum(unfinished), 0) = 0 FROM fetchq.job_count WHERE batch_id = 10001;
\echo == one tenant: failed jobs, first page (after)
EXPLAIN (ANALYZE, BUFFERS, SUMMARY ON) SELECT r.*, j.tenant FROM fetchq.job_results r JOIN fetchq.job j ON j.id = r.job_id WHERE j.id > 0 AND j.state = 'failed' AND j.finished_at IS NOT NULL AND j.tenant = 'acme' ORDER BY j.id LIMIT 100;
\echo == one host: jobs, first page (after)
EXPLAIN (ANALYZE, BUFFERS, SUMMARY ON) SELECT r.*, j.tenant FROM fetchq.job_results r JOIN fetchq.job j ON j.id = r.job_id JOIN fetchq.job_lookup k ON k.job_id = j.id AND k.tenant = j.tenant WHERE k.job_id > 0 AND j.id > 0 AND k.host = 'h7.example' ORDER BY k.job_id LIMIT 100;
\echo == running jobs (after)
EXPLAIN (ANALYZE, BUFFERS, SUMMARY ON) SELECT r.*, j.tenant FROM fetchq.job_results r JOIN fetchq.job j ON j.id = r.job_id JOIN fetchq.queue uq ON uq.job_id = j.id WHERE uq.state = 'running' AND uq.job_id > 0 ORDER BY j.id LIMIT 100;
SQL

for db in before after; do
  psql -qc "DROP DATABASE IF EXISTS fetchq_read_costs_$db" -c "CREATE DATABASE fetchq_read_costs_$db"
  migrations=(-f $M/V1__schema.sql -f $M/V2__retention.sql -f $M/V3__api_keys.sql -f $M/V4__queue_by_host.sql)
  if [ $db = after ]; then
    for f in $M/V*.sql; do case $f in */V[1-4]__*) ;; *) migrations+=(-f "$f");; esac; done
  fi
  psql -d fetchq_read_costs_$db -q -v ON_ERROR_STOP=1 -c "CREATE SCHEMA fetchq" "${migrations[@]}" -f "$work/load.sql"
  if [ $db = after ]; then
    psql -d fetchq_read_costs_$db -q -c "UPDATE fetchq.queue q SET batch_id = 10001" -c "VACUUM ANALYZE fetchq.queue"
  fi
done
for run in 1 2; do
  for db in before after; do
    psql -d fetchq_read_costs_$db -f "$work/$db.sql" > "$work/$db-$run.txt"
  done
done
for db in before after; do
  echo "### $db"
  awk '/^==/{print; n=0; next} /Buffers/{if(n==0){print; n=1}} /Execution Time/{print}' "$work/$db-2.txt"
done
for db in before after; do psql -qc "DROP DATABASE fetchq_read_costs_$db"; done
