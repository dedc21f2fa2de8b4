#!/usr/bin/env bash
# GET /api/v1/jobs/{id} of a job of 100,000 devices (run by `./fuota bench jobget`): a private
# PostgreSQL + fuotad (engine off), the devices and the job's job_device rows inserted with SQL
# (spread over the engine's steps), then N GETs timed with curl, in ms per call.
#   bench/job_get.sh BUILD_DIR [devices (default 100000)] [GETs (default 50)]
# BENCH_PARENT=1 GETs a multi-region parent job instead: its EU868 child has the devices' rows
# and another plain job BENCH_OTHER (default 1) times as many, so job_device is bigger than the
# job; BENCH_PARENT=2 adds a US915 child of 10 devices. BENCH_VACUUM=1 vacuums the tables before
# the GETs (as autovacuum does a while after a bulk load), else they are only analysed.
# FUOTA_BENCH_BASELINE=/path/to/an/older/fuotad times the same GETs against that binary first, on
# the same data: a before/after comparison in one run. BENCH_KEEP=1 keeps the stack's directory.
# BENCH_PATH=summary times GET /api/v1/jobs/{id}/summary instead (the live page's poll, every
# second): the done devices then carry a last answer, one in eight the TS006 DevVersionAns of a
# device already on the target version (counted in already_on_target), the others a
# FragSessionStatusAns.
# PostgreSQL compiles a statement with LLVM (JIT) when the plan's estimated cost passes
# jit_above_cost (100,000), and optimises it past jit_optimize_above_cost (500,000). Fresh tables
# keep the job GET's estimate (regions arm included) near 3,000; in the 100,000-device rehearsal
# it passed both (pg_stat_statements: JIT on every call, optimised on 281 of 595). BENCH_JIT_COST
# (default 0) sets the three thresholds for the database to stand for that; "server" keeps
# PostgreSQL's own, and the bench then measures a table as fresh as it seeds it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/api-lib.sh
. "$ROOT/bench/api-lib.sh"
BUILD=${1:?usage: bench/job_get.sh BUILD_DIR [devices] [GETs]}
NDEV=${2:-100000}
NGET=${3:-50}
PARENT=${BENCH_PARENT:-0}
NOTHER=$NDEV # the plain job's devices: BENCH_OTHER times the parent's child's
[ "$PARENT" = 0 ] || NOTHER=$((NDEV * ${BENCH_OTHER:-1}))
case ${BENCH_PATH:-} in
'') SUFFIX= ;;
summary) SUFFIX=/summary ;;
*) echo "bench: BENCH_PATH is empty or summary, not ${BENCH_PATH}" >&2; exit 2 ;;
esac
FUOTAD=$BUILD/bin/fuotad
[ -x "$FUOTAD" ] || { echo "bench: $FUOTAD not built" >&2; exit 1; }

bench_stack fuota-bench-jobget

PORT=$((20000 + RANDOM % 12000))
MASTER_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export FUOTA_DATABASE_DSN=$FUOTA_DSN FUOTA_HTTP_PORT=$PORT FUOTA_LOG_LEVEL=warn \
	FUOTA_ENGINE_ENABLED=0 FUOTA_HTTP_MAX_CONNECTIONS_PER_IP=0 FUOTA_SECURITY_MASTER_KEY=$MASTER_KEY
TOKEN=$("$FUOTAD" token create --admin --name bench)
URL=http://127.0.0.1:$PORT
H="Authorization: Bearer $TOKEN"
start_fuotad "$FUOTAD"

# Data: one image, NDEV devices, a job created through the API for the first 10 of them, then its
# other devices added with SQL and spread over the steps as a running job has them.
head -c 16384 /dev/urandom >"$DIR/fw.bin"
FW=$(curl -fs -H "$H" -F file=@"$DIR/fw.bin" -F name=bench "$URL/api/v1/firmware" | sed 's/.*"id" *: *\([0-9]*\).*/\1/')
psql_ -c "INSERT INTO device (tenant_id, dev_eui, application_id, lorawan_version, class, region, key_kind, key_box)
          SELECT 1, '7' || lpad(to_hex(x), 15, '0'), 'bench', '1.0.3', 'A',
                 CASE WHEN x > $NDEV THEN 'US915' ELSE 'EU868' END, 'gen_app_key', '\\x00'
          FROM generate_series(1, greatest($NOTHER, $NDEV + 10)) x"
eui_list() { seq "$1" "$2" | awk '{printf "%s\"7%015x\"", (NR > 1 ? "," : ""), $1}'; }
create_job() { # create_job FIELDS DEVICES: the id of a job created through the API
	local body id
	body='{"name":"bench","firmware_id":'$FW',"redundancy_percent":20,"unicast_timeout_s":90,'
	body+='"unicast_attempts":3,"multicast_class":"C",'$1',"devices":['$2']}'
	id=$(curl -fs -H "$H" --data-binary "$body" "$URL/api/v1/jobs" | sed 's/^{"id" *: *\([0-9]*\).*/\1/')
	[ -n "$id" ] || { echo "bench: job creation failed" >&2; exit 1; }
	echo "$id"
}
fill_job() { # fill_job ID [N]: devices 11..N (NDEV) added to job ID over the steps; running
	local n=${2:-$NDEV}
	psql_ -c "INSERT INTO job_device (job_id, tenant_id, dev_eui, step)
	          SELECT $1, 1, '7' || lpad(to_hex(x), 15, '0'),
	                 (ARRAY['pending', 'mc_setup', 'frag_setup', 'ready', 'frag_status', 'done', 'failed'])[1 + x % 7]
	          FROM generate_series(11, $n) x;
	          UPDATE job SET device_count = $n, state = 'running', started_at = now() WHERE id = $1"
	[ -n "$SUFFIX" ] || return 0
	psql_ -c "UPDATE job_device SET last_answer = CASE WHEN right(dev_eui, 1) IN ('5', 'c')
	            THEN '{\"answer\":\"DevVersionAns\",\"fw_version\":2,\"hw_version\":0,\"judged\":\"done (already on the target version 2: not sent the image)\"}'
	            ELSE '{\"answer\":\"FragSessionStatusAns\",\"received\":20,\"missing\":0}' END::jsonb
	          WHERE job_id = $1 AND step = 'done'"
}
PLAIN='"region":"EU868","data_rate":5,"frequency_hz":869525000'
JOB=$(create_job "$PLAIN" "$(eui_list 1 10)")
fill_job "$JOB" "$NOTHER"
if [ "$PARENT" != 0 ]; then
	regions='{"region":"EU868","data_rate":5,"frequency_hz":869525000}'
	devs=$(eui_list 1 10)
	if [ "$PARENT" = 2 ]; then
		regions+=',{"region":"US915","data_rate":8,"frequency_hz":923300000}'
		devs+=,$(eui_list $((NDEV + 1)) $((NDEV + 10)))
	fi
	JOB=$(create_job '"regions":['"$regions"']' "$devs")
	fill_job "$(psql_ -c "SELECT min(id) FROM job WHERE parent_id = $JOB")"
	psql_ -c "UPDATE job SET state = 'running', started_at = now(),
	                 device_count = (SELECT sum(device_count) FROM job WHERE parent_id = $JOB)
	          WHERE id = $JOB"
fi
if [ "${BENCH_VACUUM:-0}" = 1 ]; then psql_ -c "VACUUM ANALYZE"; else psql_ -c "ANALYZE"; fi
JIT_COST=${BENCH_JIT_COST:-0}
if [ "$JIT_COST" != server ]; then
	psql_ -c "ALTER DATABASE fuota SET jit_above_cost = $JIT_COST;
	          ALTER DATABASE fuota SET jit_inline_above_cost = $JIT_COST;
	          ALTER DATABASE fuota SET jit_optimize_above_cost = $JIT_COST"
fi
echo "bench: job $JOB, $(psql_ -c "SELECT count(*) FROM job_device WHERE job_id IN (SELECT $JOB UNION SELECT id FROM job WHERE parent_id = $JOB)") job_device rows of $(psql_ -c "SELECT count(*) FROM job_device"); $NGET GETs; JIT thresholds: $JIT_COST"

time_gets() { # time_gets LABEL: NGET GETs of the job, ms per call (mean, median, max)
	local i
	# Each pool session prepares the statement at its first use: not timed.
	for i in 1 2 3 4; do curl -fs -o /dev/null -H "$H" "$URL/api/v1/jobs/$JOB$SUFFIX"; done
	curl -fs -H "$H" "$URL/api/v1/jobs/$JOB$SUFFIX" >"$DIR/$1.json"
	for i in $(seq 1 "$NGET"); do
		curl -fs -o /dev/null -w '%{time_total}\n' -H "$H" "$URL/api/v1/jobs/$JOB$SUFFIX" || exit 1
		: "$i"
	done | sort -n | awk -v l="$1" -v p="$SUFFIX" -v b="$(wc -c <"$DIR/$1.json")" '
		{ t[NR] = $1 * 1000; s += $1 * 1000 }
		END { printf "%-10s GET /api/v1/jobs/{id}%s: %7.1f ms/call mean, %7.1f median, %7.1f max (%d calls, %d B)\n",
		      l, p, s / NR, t[int((NR + 1) / 2)], t[NR], NR, b }'
}
if [ -n "${FUOTA_BENCH_BASELINE:-}" ]; then
	stop_fuotad
	start_fuotad "$FUOTA_BENCH_BASELINE"
	time_gets baseline
	stop_fuotad
	start_fuotad "$FUOTAD"
fi
time_gets current
if [ -n "${FUOTA_BENCH_BASELINE:-}" ]; then
	# Nothing changes the job between the two: its answers are the same, byte for byte.
	if ! cmp -s "$DIR/baseline.json" "$DIR/current.json"; then
		echo "bench: the answers differ" >&2
		diff <(jq -S . "$DIR/baseline.json") <(jq -S . "$DIR/current.json") >&2
		exit 1
	fi
	echo "bench: the same answer, byte for byte"
fi
