#!/usr/bin/env bash
# Web UI figures (run by `./fuota bench web`): the bundle's size, gzipped; then a private
# PostgreSQL and fuotad (engine off) serving build/web with a 10,000-device job (devices in a mix
# of steps, 2,000 events), and web/tests/browser/bench-job-page.mjs in Debian's chromium: the
# job page's time to first render, the cost of reading every device as the page once did, and
# the delay from a state change to the page.
#   bench/web.sh BUILD_DIR [runs (default 5)]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/api-lib.sh
. "$ROOT/bench/api-lib.sh"
BUILD=${1:?usage: bench/web.sh BUILD_DIR [runs]}
RUNS=${2:-5}
FUOTAD=$BUILD/bin/fuotad
[ -x "$FUOTAD" ] || { echo "bench: $FUOTAD not built" >&2; exit 1; }
[ -f "$BUILD/web/index.html" ] || { echo "bench: no web UI in $BUILD/web" >&2; exit 1; }

js=0 jsz=0 css=0 cssz=0
for f in "$BUILD"/web/assets/*; do
	n=$(wc -c <"$f")
	z=$(gzip -9c "$f" | wc -c)
	case $f in
	*.js) js=$((js + n)) jsz=$((jsz + z)) ;;
	*.css) css=$((css + n)) cssz=$((cssz + z)) ;;
	esac
done
printf 'figure: bundle: JavaScript %s B (%s B gzipped), CSS %s B (%s B gzipped)\n' "$js" "$jsz" "$css" "$cssz"

bench_stack fuota-bench-web

PORT=$((20000 + RANDOM % 20000))
export FUOTA_DATABASE_DSN=$FUOTA_DSN FUOTA_HTTP_PORT=$PORT FUOTA_LOG_LEVEL=warn \
	FUOTA_ENGINE_ENABLED=0 FUOTA_SECURITY_MASTER_KEY
FUOTA_SECURITY_MASTER_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
TOKEN=$("$FUOTAD" token create --admin --name bench)
URL=http://127.0.0.1:$PORT
start_fuotad "$FUOTAD"
H="Authorization: Bearer $TOKEN"

# 10,000 devices (inserted directly; their keys do not matter), one job for all of them that
# starts in 2099 (so that it can be paused and resumed), its devices spread over the steps as a
# running job's are, and 2,000 events.
head -c 65536 /dev/urandom >"$DIR/fw.bin"
FW=$(curl -fs -H "$H" -F file=@"$DIR/fw.bin" -F name=bench "$URL/api/v1/firmware" | jq .id)
psql_ -c "INSERT INTO device (tenant_id, dev_eui, application_id, lorawan_version, class, region, key_kind, key_box)
          SELECT 1, '7' || lpad(to_hex(x), 15, '0'), 'bench', '1.0.3', 'C', 'EU868', 'gen_app_key', '\\x00'
          FROM generate_series(1, 10000) x"
{
	printf '{"name":"bench","firmware_id":%s,"redundancy_percent":10,"unicast_timeout_s":60,' "$FW"
	printf '"unicast_attempts":3,"data_rate":5,"frequency_hz":869525000,"region":"EU868",'
	printf '"multicast_class":"C","start_at":"2099-01-01T00:00:00Z","devices":['
	seq 1 10000 | awk '{printf "%s\"7%015x\"", (NR > 1 ? "," : ""), $1}'
	printf ']}'
} >"$DIR/job.json"
JOB=$(curl -fs -H "$H" --data-binary @"$DIR/job.json" "$URL/api/v1/jobs" | jq -e .id)
psql_ -c "UPDATE job_device SET step = (ARRAY['done','done','done','session','session','frag_status',
            'mc_setup','failed'])[1 + (abs(hashtext(dev_eui)) % 8)],
            failure_reason = CASE WHEN abs(hashtext(dev_eui)) % 8 = 7 THEN 'mc_setup: no answer after 3 attempts' END
          WHERE job_id = $JOB"
psql_ -c "INSERT INTO event (tenant_id, job_id, kind, dev_eui, data)
          SELECT 1, $JOB, 'device', '7' || lpad(to_hex(x), 15, '0'), json_build_object('step', 'done')
          FROM generate_series(1, 2000) x"
psql_ -c "ANALYZE"
echo "bench: job $JOB, $(psql_ -c "SELECT count(*) FROM job_device WHERE job_id = $JOB") devices, $(psql_ -c 'SELECT count(*) FROM event') events"

(cd "$ROOT/web" && WEB_URL=$URL WEB_TOKEN=$TOKEN WEB_JOB=$JOB WEB_RUNS=$RUNS \
	node tests/browser/bench-job-page.mjs)
