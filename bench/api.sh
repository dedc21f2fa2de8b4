#!/usr/bin/env bash
# REST API benchmark of fuotad (run by `./fuota bench api`): a private PostgreSQL + fuotad, 1,000
# jobs, then wrk on GET of one job and on a list of 50 jobs, and the creation of a job for 10,000
# devices timed with curl.
#   bench/api.sh BUILD_DIR [seconds per wrk run (default 10)] [wrk connections (default 32)]
# FUOTA_BENCH_BASELINE=/path/to/an/older/fuotad runs the same wrk requests against that binary too,
# on the same data and right before the current one: a before/after comparison in one run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/api-lib.sh
. "$ROOT/bench/api-lib.sh"
BUILD=${1:?usage: bench/api.sh BUILD_DIR [seconds] [connections]}
SECS=${2:-10}
CONNS=${3:-32}
FUOTAD=$BUILD/bin/fuotad
[ -x "$FUOTAD" ] || { echo "bench: $FUOTAD not built" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench: wrk not installed (./fuota bootstrap)" >&2; exit 1; }

bench_stack fuota-bench

PORT=$(( 20000 + RANDOM % 20000 ))
MASTER_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export FUOTA_DATABASE_DSN=$FUOTA_DSN FUOTA_HTTP_PORT=$PORT FUOTA_HTTP_THREADS=${FUOTA_BENCH_THREADS:-4} \
	FUOTA_DATABASE_POOL_SIZE=${FUOTA_BENCH_THREADS:-4} FUOTA_LOG_LEVEL=warn FUOTA_ENGINE_ENABLED=0 \
	FUOTA_HTTP_MAX_CONNECTIONS_PER_IP=0 \
	FUOTA_SECURITY_MASTER_KEY=$MASTER_KEY
TOKEN=$("$FUOTAD" token create --admin --name bench)
URL=http://127.0.0.1:$PORT
start_fuotad "$FUOTAD"
H="Authorization: Bearer $TOKEN"

# Data: one image, 10,000 devices (inserted directly; their keys do not matter), 1,000 jobs.
head -c 65536 /dev/urandom >"$DIR/fw.bin"
FW=$(curl -fs -H "$H" -F file=@"$DIR/fw.bin" -F name=bench "$URL/api/v1/firmware" | sed 's/.*"id" *: *\([0-9]*\).*/\1/')
psql_ -c "INSERT INTO device (tenant_id, dev_eui, application_id, lorawan_version, class, region, key_kind, key_box)
          SELECT 1, '7' || lpad(to_hex(x), 15, '0'), 'bench', '1.0.3', 'A', 'EU868', 'gen_app_key', '\\x00'
          FROM generate_series(1, 10000) x"
job_json() { # job_json N: a job body for the first N devices
	printf '{"name":"bench","firmware_id":%s,"redundancy_percent":10,"unicast_timeout_s":60,' "$FW"
	printf '"unicast_attempts":3,"data_rate":5,"frequency_hz":869525000,"region":"EU868",'
	printf '"multicast_class":"C","devices":['
	seq 1 "$1" | awk '{printf "%s\"7%015x\"", (NR > 1 ? "," : ""), $1}'
	printf ']}'
}
job_json 10 >"$DIR/job10.json"
JOB=$(curl -fs -H "$H" --data-binary @"$DIR/job10.json" "$URL/api/v1/jobs" | sed 's/^{"id" *: *\([0-9]*\).*/\1/')
psql_ -c "INSERT INTO job (tenant_id, name, firmware_id, region, data_rate, frequency_hz, redundancy_percent,
            unicast_timeout_s, unicast_attempts, multicast_class, multicast_timeout_s, plan, device_count)
          SELECT tenant_id, name || x, firmware_id, region, data_rate, frequency_hz, redundancy_percent,
            unicast_timeout_s, unicast_attempts, multicast_class, multicast_timeout_s, plan, device_count
          FROM job, generate_series(1, 999) x WHERE id = $JOB"
# Bulk-loaded rows have no statistics until autovacuum's ANALYZE (within a minute in production);
# without them the planner sorts every job of the tenant for a page of 50 (EXPLAIN: 3.9 ms
# against 0.13 ms). Measure the steady state.
psql_ -c "ANALYZE"
echo "bench: $(psql_ -c 'SELECT count(*) FROM job') jobs, $(psql_ -c 'SELECT count(*) FROM device') devices; fuotad ${FUOTA_HTTP_THREADS} threads; wrk -t2 -c$CONNS -d${SECS}s"

run_wrk() { # run_wrk LABEL PATH
	local out
	out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -H "$H" "$URL$2")
	printf '%-28s %10s req/s   p50 %8s   p99 %8s   %6s B/answer   non-2xx: %s\n' "$1" \
		"$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
		"$(awk '$1 == "50%" {print $2}' <<<"$out")" "$(awk '$1 == "99%" {print $2}' <<<"$out")" \
		"$(curl -s -H "$H" "$URL$2" | wc -c)" \
		"$(awk '/Non-2xx/ {n = $5} END {print n + 0}' <<<"$out")"
	[ -z "$(awk '/Non-2xx/' <<<"$out")" ] || { echo "$out" >&2; return 1; }
}
run_gets() {
	run_wrk "GET /api/v1/jobs/{id}" "/api/v1/jobs/$JOB"
	run_wrk "GET /api/v1/jobs?limit=50" "/api/v1/jobs?limit=50&offset=100"
	# Keyset pagination: the page after job id 900 (the cursor a client got as next_after).
	run_wrk "GET /api/v1/jobs?after=900" "/api/v1/jobs?limit=50&after=900"
}
if [ -n "${FUOTA_BENCH_BASELINE:-}" ]; then
	stop_fuotad
	echo "-- baseline: $FUOTA_BENCH_BASELINE"
	start_fuotad "$FUOTA_BENCH_BASELINE"
	run_gets
	stop_fuotad
	echo "-- current: $FUOTAD"
	start_fuotad "$FUOTAD"
fi
run_gets

job_json 10000 >"$DIR/job10k.json"
for _ in 1 2 3; do
	out=$(curl -s -o "$DIR/resp.json" -w '%{http_code} %{time_total}' -H "$H" --data-binary @"$DIR/job10k.json" "$URL/api/v1/jobs")
	grep -q '"device_count" *: *10000' "$DIR/resp.json" || { echo "bench: job creation failed: $(head -c 300 "$DIR/resp.json")" >&2; exit 1; }
	read -r code secs <<<"$out"
	printf 'POST /api/v1/jobs (10,000 devices, %s bytes): HTTP %s in %s s\n' "$(wc -c <"$DIR/job10k.json")" "$code" "$secs"
done
