#!/usr/bin/env bash
# Times POST /api/v1/batches with N URLs (default 100,000), as text/plain and as JSON, against a
# freshly started API; median of RUNS (default 3) after one warm-up submit.
#
#   scripts/measure-intake.sh            # embedded PostgreSQL 17 in a temporary directory
#   SPRING_DATASOURCE_URL=jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres scripts/measure-intake.sh
#
# Sends traffic to 127.0.0.1 only.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N=${N:-100000}
RUNS=${RUNS:-3}
fq_init
fq_start_api

for i in $(seq 1 "$N"); do echo "https://host$((i % 1000)).example/page/$i"; done > "$work/urls.txt"
{ printf '{"urls": ['; sed 's/.*/"&"/' "$work/urls.txt" | paste -sd, -; printf ']}'; } > "$work/urls.json"

post() { # content-type file -> "status seconds"
  curl -s -o "$work/out" -w '%{http_code} %{time_total}\n' -X POST "http://127.0.0.1:$API_PORT/api/v1/batches" \
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
