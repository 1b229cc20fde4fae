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
cd "$(dirname "$0")/.."
[ -d /usr/lib/jvm/temurin-25-jdk-amd64 ] && export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
N=${N:-20000}
IN_FLIGHT=${IN_FLIGHT:-256}
API_PORT=${API_PORT:-18080}
SITE_PORT=${SITE_PORT:-18998}
PG_PORT=${PG_PORT:-54339}

[ -f api/target/fetchq-api.jar ] && [ -f worker/target/fetchq-worker.jar ] || ./mvnw -q -DskipTests package

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${drop_db:-}" ] && psql "$psql_url" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
  rm -rf "$work"
}
trap cleanup EXIT

api_args=(--server.port="$API_PORT" --logging.level.root=WARN --fetchq.worker.enabled=false
          --fetchq.fetch.allow-private-networks=true)
if [ -n "${SPRING_DATASOURCE_URL:-}" ]; then
  db="fetchq_measure_$$"
  psql_url=${SPRING_DATASOURCE_URL#jdbc:}
  psql "$psql_url" -qc "CREATE DATABASE $db"
  drop_db=1
  base=${SPRING_DATASOURCE_URL%%\?*}
  query=${SPRING_DATASOURCE_URL#"$base"}
  export SPRING_DATASOURCE_URL="${base%/*}/$db$query"
  where="PostgreSQL at ${base%/*}"
else
  api_args+=(--fetchq.embedded.data-directory="$work/pg" --fetchq.embedded.port="$PG_PORT")
  worker_db=(--spring.datasource.url="jdbc:postgresql://localhost:$PG_PORT/postgres?user=postgres")
  where="embedded PostgreSQL 17"
fi

"$JAVA" scripts/FastServer.java "$SITE_PORT" > "$work/site.log" 2>&1 &
pids+=($!)
"$JAVA" -jar api/target/fetchq-api.jar "${api_args[@]}" > "$work/api.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$API_PORT/actuator/health" > /dev/null && break
  sleep 0.5
done

for i in $(seq 1 "$N"); do echo "http://127.0.0.1:$SITE_PORT/page/$i"; done > "$work/urls.txt"
batch=$(curl -sf -X POST "http://127.0.0.1:$API_PORT/api/v1/batches?extract=title" \
             -H 'Content-Type: text/plain' --data-binary "@$work/urls.txt" | sed 's/.*"id":\([0-9]*\).*/\1/')

"$JAVA" -jar worker/target/fetchq-worker.jar ${worker_db[@]+"${worker_db[@]}"} --logging.level.root=WARN \
  --fetchq.fetch.allow-private-networks=true --fetchq.worker.max-in-flight="$IN_FLIGHT" \
  "--fetchq.worker.host-limits[127.0.0.1]=$IN_FLIGHT" > "$work/worker.log" 2>&1 &
pids+=($!)

until curl -sf "http://127.0.0.1:$API_PORT/api/v1/batches/$batch?wait_ms=30000" | grep -q '"done":true'; do :; done

sql="SELECT count(*) AS jobs,
            round(extract(epoch FROM max(a.finished_at) - min(a.started_at))::numeric, 2) AS seconds,
            round(count(*) / extract(epoch FROM max(a.finished_at) - min(a.started_at))::numeric) AS jobs_per_s,
            (SELECT count(*) FROM fetchq.job_results WHERE batch_id = $batch AND state = 'completed') AS completed
     FROM fetchq.attempts a JOIN fetchq.job_results r USING (job_id) WHERE r.batch_id = $batch"
if [ -n "${drop_db:-}" ]; then
  url=${SPRING_DATASOURCE_URL#jdbc:}
else
  url="postgresql://localhost:$PG_PORT/postgres?user=postgres"
fi
echo "one worker, $IN_FLIGHT in flight, $N URLs from a loopback server, $where, $(nproc) cores"
psql "$url" -c "$sql"
