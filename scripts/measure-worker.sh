#!/usr/bin/env bash
# Jobs per second of one worker fetching N URLs (default 20,000) from a fast loopback HTTP server,
# every result and attempt stored.
#
#   scripts/measure-worker.sh            # embedded PostgreSQL 17 in a temporary directory
#   SPRING_DATASOURCE_URL=jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres scripts/measure-worker.sh
#
# The server is one host (127.0.0.1), so the worker's per-host limit is raised to its global limit
# for it. Sends traffic to 127.0.0.1 only.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N=${N:-20000}
IN_FLIGHT=${IN_FLIGHT:-256}
fq_init
fq_start_site
fq_start_api

for i in $(seq 1 "$N"); do echo "http://127.0.0.1:$SITE_PORT/page/$i"; done > "$work/urls.txt"
batch=$(curl -sf -X POST "http://127.0.0.1:$API_PORT/api/v1/batches?extract=title" \
             -H 'Content-Type: text/plain' --data-binary "@$work/urls.txt" | sed 's/.*"id":\([0-9]*\).*/\1/')

fq_start_worker w1 --fetchq.worker.max-in-flight="$IN_FLIGHT" "--fetchq.worker.host-limits[127.0.0.1]=$IN_FLIGHT"
until curl -sf "http://127.0.0.1:$API_PORT/api/v1/batches/$batch?wait_ms=30000" | grep -q '"done":true'; do :; done

echo "one worker, $IN_FLIGHT in flight, $N URLs from a loopback server, $where, $(nproc) cores"
fq_psql -c "
  SELECT count(*) AS jobs,
         round(extract(epoch FROM max(a.finished_at) - min(a.started_at))::numeric, 2) AS seconds,
         round(count(*) / extract(epoch FROM max(a.finished_at) - min(a.started_at))::numeric) AS jobs_per_s,
         (SELECT count(*) FROM fetchq.job_results WHERE batch_id = $batch AND state = 'completed') AS completed
  FROM fetchq.attempts a JOIN fetchq.job_results r USING (job_id) WHERE r.batch_id = $batch"
