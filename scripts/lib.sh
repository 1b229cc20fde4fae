# Shared by the measurement scripts: a fresh database, the API, workers and a fast loopback site.
# Source it, then call fq_init. Everything started is stopped on exit.
#
# Database: SPRING_DATASOURCE_URL (a server where a database may be created) if set, else an
# embedded PostgreSQL 17 in a temporary directory (started by the API).

[ -d /usr/lib/jvm/temurin-25-jdk-amd64 ] && export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
API_PORT=${API_PORT:-18080}
SITE_PORT=${SITE_PORT:-18998}
PG_PORT=${PG_PORT:-54339}

fq_init() {
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  [ -f api/target/fetchq-api.jar ] && [ -f worker/target/fetchq-worker.jar ] || ./mvnw -q -DskipTests package
  work=$(mktemp -d)
  pids=()
  trap fq_cleanup EXIT
  api_args=(--server.port="$API_PORT" --logging.level.root=WARN --fetchq.worker.enabled=false
            --fetchq.fetch.allow-private-networks=true)
  if [ -n "${SPRING_DATASOURCE_URL:-}" ]; then
    db="fetchq_measure_$$"
    admin_url=${SPRING_DATASOURCE_URL#jdbc:}
    psql "$admin_url" -qc "CREATE DATABASE $db"
    drop_db=1
    local base=${SPRING_DATASOURCE_URL%%\?*}
    local query=${SPRING_DATASOURCE_URL#"$base"}
    export SPRING_DATASOURCE_URL="${base%/*}/$db$query"
    db_url=$SPRING_DATASOURCE_URL
    where="PostgreSQL at ${base%/*}"
  else
    api_args+=(--fetchq.embedded.data-directory="$work/pg" --fetchq.embedded.port="$PG_PORT")
    db_url="jdbc:postgresql://localhost:$PG_PORT/postgres?user=postgres"
    where="embedded PostgreSQL 17"
  fi
}

fq_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${drop_db:-}" ] && psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
  rm -rf "$work"
}

fq_start_api() {
  "$JAVA" -jar api/target/fetchq-api.jar "${api_args[@]}" "$@" > "$work/api.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$API_PORT/actuator/health" > /dev/null && return 0
    sleep 0.5
  done
  echo "the API did not start; its log:" >&2
  tail -20 "$work/api.log" >&2
  return 1
}

fq_start_site() {
  "$JAVA" scripts/FastServer.java "$SITE_PORT" > "$work/site.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 60); do
    curl -s -o /dev/null "http://127.0.0.1:$SITE_PORT/" && return 0
    sleep 0.5
  done
  return 1
}

fq_start_worker() { # id, extra args...
  local id=$1
  shift
  "$JAVA" -jar worker/target/fetchq-worker.jar --spring.datasource.url="$db_url" --logging.level.root=WARN \
    --fetchq.worker.id="$id" --fetchq.fetch.allow-private-networks=true "$@" > "$work/$id.log" 2>&1 &
  pids+=($!)
}

fq_psql() {
  psql "${db_url#jdbc:}" "$@"
}
