#!/usr/bin/env bash
# Pickup latency on an idle system: N single jobs (default 1,000) submitted one by one at a steady
# rate to an API with two idle workers, after WARMUP jobs that are not counted; from SQL, the time
# from a job's creation to the start of its first attempt, p50 / p99 / max.
#
#   scripts/measure-pickup.sh            # embedded PostgreSQL 17 in a temporary directory
#   SPRING_DATASOURCE_URL=jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres scripts/measure-pickup.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N=${N:-1000}
RATE=${RATE:-50}   # jobs per second
WARMUP=${WARMUP:-100} # jobs submitted first and not counted: start-up JIT, connections
fq_init
fq_start_site
fq_start_api
fq_start_worker w1
fq_start_worker w2
until [ "$(fq_psql -Atc "SELECT count(*) FROM fetchq.workers WHERE state = 'running'" 2>/dev/null)" = 2 ]; do sleep 0.5; done
sleep 2 # let both workers finish starting up and go idle

# One job at a time from a single client process (no JVM or curl start-up between jobs).
cat > "$work/Submit.java" <<JAVA
import java.net.URI;
import java.net.http.*;
public class Submit {
    public static void main(String[] a) throws Exception {
        var http = HttpClient.newHttpClient();
        int n = Integer.parseInt(a[2]);
        long gap = 1_000_000_000L / Integer.parseInt(a[3]);
        long next = System.nanoTime();
        for (int i = 0; i < n; i++) {
            var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a[0] + "/api/v1/jobs"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(
                            "{\"url\": \"http://127.0.0.1:" + a[1] + "/pickup/" + i + "\"}")).build();
            var response = http.send(request, HttpResponse.BodyHandlers.discarding());
            if (response.statusCode() != 201) throw new IllegalStateException("status " + response.statusCode());
            next += gap;
            long wait = next - System.nanoTime();
            if (wait > 0) Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
    }
}
JAVA
finished() { [ "$(fq_psql -Atc "SELECT count(*) FROM fetchq.job_results WHERE state IN ('queued', 'running')")" = 0 ]; }
"$JAVA" "$work/Submit.java" "$API_PORT" "$SITE_PORT" "$WARMUP" "$RATE"
until finished; do sleep 0.5; done
after=$(fq_psql -Atc "SELECT coalesce(max(job_id), 0) FROM fetchq.job_results")
"$JAVA" "$work/Submit.java" "$API_PORT" "$SITE_PORT" "$N" "$RATE"
until finished; do sleep 0.5; done

echo "pickup latency, $N jobs one by one at $RATE/s after $WARMUP warm-up jobs, 2 idle workers, $where, $(nproc) cores"
fq_psql -c "
  SELECT count(*) AS jobs,
         round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms))::numeric, 1) AS p50_ms,
         round((percentile_cont(0.99) WITHIN GROUP (ORDER BY ms))::numeric, 1) AS p99_ms,
         round(max(ms)::numeric, 1) AS max_ms
  FROM (SELECT extract(epoch FROM a.started_at - r.created_at) * 1000 AS ms
        FROM fetchq.attempts a JOIN fetchq.job_results r USING (job_id) WHERE a.attempt = 1 AND r.job_id > $after) t"
echo "slowest pickups (job ids are in submission order):"
fq_psql -Atc "
  SELECT r.job_id || ': ' || round((extract(epoch FROM a.started_at - r.created_at) * 1000)::numeric, 1) || ' ms'
  FROM fetchq.attempts a JOIN fetchq.job_results r USING (job_id) WHERE a.attempt = 1 AND r.job_id > $after
  ORDER BY a.started_at - r.created_at DESC LIMIT 12" | paste -sd' ' -
