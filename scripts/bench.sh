#!/usr/bin/env bash
# The benchmark harness: builds what it needs, runs the scenarios and writes docs/benchmarks.md.
#
#   scripts/bench.sh [--n=100000] [--runs=3] [--scenarios=bound,drain-noop,...] [--history=10000000]
#                    [--pickup=1000] [--pickup-rate=50] [--in-flight=5000] [--memory-jvm=-Xmx256m]
#                    [--urls=20000] [--submits=4000] [--out=docs/benchmarks.md]
#
# Scenarios: bound, drain-noop, drain-http, drain-http-e2e, history, retention, enqueue-db, enqueue-text, enqueue-json, schedules,
# submit-concurrent, pickup, memory (all by default). The drain-http-e2e, enqueue, pickup and memory scenarios launch
# the built jars; drain-http-e2e uses nginx and a python3 with aiohttp when the machine has them.
#
# Database: FETCHQ_BENCH_DB_URL (a server where databases may be created, e.g.
# jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres), else an embedded PostgreSQL 17.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d /usr/lib/jvm/temurin-25-jdk-amd64 ] && export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
./mvnw -q -DskipTests install
./mvnw -q -pl bench dependency:build-classpath -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=runtime
# BENCH_JAVA_OPTS: extra JVM options for the harness, e.g. -XX:StartFlightRecording=filename=bench.jfr
"${JAVA_HOME:+$JAVA_HOME/bin/}java" -Xmx4g ${BENCH_JAVA_OPTS:-} -cp "bench/target/classes:$(cat bench/target/bench.classpath)" \
  io.fetchq.bench.Bench "$@"
