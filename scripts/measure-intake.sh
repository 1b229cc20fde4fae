#!/usr/bin/env bash
# Times POST /api/v1/batches with 100,000 URLs (text/plain and JSON) against a freshly started API.
#
#   scripts/measure-intake.sh            # embedded PostgreSQL 17 in a temporary directory
#   SPRING_DATASOURCE_URL=jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres scripts/measure-intake.sh
#
# Builds the API jar if it is missing. Sends traffic to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d /usr/lib/jvm/temurin-25-jdk-amd64 ] && export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
N=${N:-100000}
RUNS=${RUNS:-3}
PORT=${PORT:-18080}

[ -f api/target/fetchq-api.jar ] || ./mvnw -q -DskipTests package

work=$(mktemp -d)
trap 'kill "$api_pid" 2>/dev/null; wait "$api_pid" 2>/dev/null; rm -rf "$work"' EXIT

# A fresh database: a new one on the given server, or an embedded server with a fresh data directory.
args=(--server.port="$PORT" --logging.level.root=WARN)
if [ -n "${SPRING_DATASOURCE_URL:-}" ]; then
  db="fetchq_measure_$$"
  psql_url=${SPRING_DATASOURCE_URL#jdbc:}
  psql "$psql_url" -qc "CREATE DATABASE $db"
  trap 'kill "$api_pid" 2>/dev/null; wait "$api_pid" 2>/dev/null; psql "$psql_url" -qc "DROP DATABASE IF EXISTS '"$db"' WITH (FORCE)"; rm -rf "$work"' EXIT
  base=${SPRING_DATASOURCE_URL%%\?*}
  query=${SPRING_DATASOURCE_URL#"$base"}
  export SPRING_DATASOURCE_URL="${base%/*}/$db$query"
  where="PostgreSQL at ${base%/*}"
else
  args+=(--fetchq.embedded.data-directory="$work/pg" --fetchq.embedded.port=0)
  where="embedded PostgreSQL 17"
fi

"$JAVA" -jar api/target/fetchq-api.jar "${args[@]}" > "$work/api.log" 2>&1 &
api_pid=$!
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$PORT/actuator/health" > /dev/null && break
  sleep 0.5
done

for i in $(seq 1 "$N"); do echo "https://host$((i % 1000)).example/page/$i"; done > "$work/urls.txt"
{ printf '{"urls": ['; sed 's/.*/"&"/' "$work/urls.txt" | paste -sd, -; printf ']}'; } > "$work/urls.json"

post() { # content-type file -> seconds
  curl -s -o "$work/out" -w '%{http_code} %{time_total}\n' -X POST "http://127.0.0.1:$PORT/api/v1/batches" \
       -H "Content-Type: $1" --data-binary "@$2"
}

# One warm-up submit, not counted: the first request pays for class loading and JIT.
post text/plain "$work/urls.txt" > /dev/null

echo "POST /api/v1/batches, $N URLs, $where, $(nproc) cores"
for kind in text/plain:urls.txt application/json:urls.json; do
  type=${kind%%:*}
  times=()
  for _ in $(seq 1 "$RUNS"); do
    read -r code secs < <(post "$type" "$work/${kind#*:}")
    [ "$code" = 201 ] || { echo "unexpected status $code: $(head -c 300 "$work/out")"; exit 1; }
    times+=("$secs")
  done
  sorted=$(printf '%s\n' "${times[@]}" | sort -n | paste -sd' ' -)
  median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
  printf '%-18s median %6.2f s  (runs: %s)  %8.0f jobs/s\n' "$type" "$median" "$sorted" "$(echo "$N / $median" | bc -l)"
done
