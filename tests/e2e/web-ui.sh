#!/usr/bin/env bash
# The web UI end to end: fuotad serving build/web (its default web root, beside build/bin) with
# the job engine, fuota-sim's devices on the integration stack's PostgreSQL and mosquitto, and
# web/tests/browser/web-ui.mjs driving Debian's chromium through the operator's steps (sign in,
# upload, the job form with a refused field, the plan, the job's page until the job succeeded
# with a silent device failed and its reason shown,
# another tenant's job not found; the admin views: a tenant and a token made, the token revoked,
# a tenant token without them). Before the browser: fuotad's static file answers (content
# types, the router's fallback, a missing asset, directory traversal refused).
#
#   tests/e2e/web-ui.sh BIN_DIR WEB_DIR SERVICES_ENV WORKDIR
#
# Screenshots of every page: WORKDIR/screenshots/*.png.
set -euo pipefail

BIN=${1:?bin dir}
WEB=${2:?built web UI dir}
SERVICES_ENV=${3:?services env}
WORK=${4:?work dir}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/campaign-lib.sh
. "$ROOT/scripts/campaign-lib.sh"

CP_BIN=$BIN
CP_DIR=$WORK
CP_TAG=webui$$
# Four devices, the last of which never answers: it fails with its reason on the job's page.
DEVICES=4
rm -rf "$CP_DIR"
mkdir -p "$CP_DIR"

fail() {
	printf 'web-ui: FAILED: %s\n' "$*" >&2
	tail -30 "$CP_DIR/fuotad.log" >&2 2>/dev/null || true
	exit 1
}
cleanup() {
	cp_cleanup
	{ [ -n "${CP_DB:-}" ] && cp_psql postgres "DROP DATABASE IF EXISTS $CP_DB" >/dev/null 2>&1; } || true
}
trap cleanup EXIT

[ -f "$WEB/index.html" ] || fail "no web UI built in $WEB"
[ "$(cd "$BIN/.." && pwd)/web" = "$(cd "$WEB" && pwd)" ] ||
	fail "$WEB is not the web/ beside $BIN, fuotad's default web root"
command -v chromium >/dev/null || fail "chromium is missing (./fuota bootstrap installs it)"

cp_services_load "$SERVICES_ENV" || exit 1
cp_db_create "fuota_e2e_webui_$$"
cp_fuotad_start

# fuotad's static files.
status() { curl -s -o /dev/null -w '%{http_code} %{content_type}' --path-as-is "$CP_URL$1"; }
expect() { # PATH "STATUS CONTENT-TYPE" (a prefix)
	local got
	got=$(status "$1")
	case $got in "$2"*) printf 'web-ui: ok: GET %s -> %s\n' "$1" "$got" ;;
	*) fail "GET $1 answered '$got', not '$2'" ;; esac
}
expect / "200 text/html"
expect /jobs/42 "200 text/html"
expect /signin?next=/jobs "200 text/html"
asset=$(grep -o '/assets/[^"]*\.js' "$WEB/index.html" | head -1)
expect "$asset" "200 text/javascript"
expect /assets/missing.js "404"
expect /../../../etc/passwd "400"
expect /assets/../../../etc/passwd "400"
expect /assets/..%2f..%2f..%2fetc/passwd "400"
expect /.hidden "400"
expect /api/v1/nope "404 application/json"
expect /healthz "200"
curl -s "$CP_URL/" | cmp -s - "$WEB/index.html" || fail "GET / is not index.html"

# Two tenants with a token each: the operator's, and another whose job must stay invisible.
admin() { cp_curl "$@" -H 'Content-Type: application/json'; }
ops=$(admin POST /api/v1/tenants -d '{"name":"ops"}' | jq -e .id) || fail "tenant"
OPS_TOKEN=$(admin POST /api/v1/tokens -d "{\"tenant_id\":$ops,\"name\":\"ui\"}" | jq -er .token)
other=$(admin POST /api/v1/tenants -d '{"name":"other"}' | jq -e .id) || fail "tenant"
OTHER_TOKEN=$(admin POST /api/v1/tokens -d "{\"tenant_id\":$other,\"name\":\"x\"}" | jq -er .token)
ADMIN_TOKEN=$CP_TOKEN

# The other tenant: a device, an image and a job starting far in the future.
CP_TOKEN=$OTHER_TOKEN
cp_curl POST /api/v1/devices -H 'Content-Type: application/json' -d '{"dev_eui":"ffee000000000001",
	"application_id":"other","lorawan_version":"1.0.4","class":"C","region":"EU868",
	"gen_app_key":"000102030405060708090a0b0c0d0e0f"}' >/dev/null || fail "other device"
head -c 300 /dev/urandom >"$CP_DIR/other.bin"
ofw=$(cp_firmware "$CP_DIR/other.bin") || fail "other firmware"
OTHER_JOB=$(cp_job_create "{\"name\":\"hidden\",\"firmware_id\":$ofw,\"devices\":[\"ffee000000000001\"],
	\"redundancy_frames\":1,\"unicast_timeout_s\":4,\"unicast_attempts\":1,\"data_rate\":5,
	\"frequency_hz\":869525000,\"region\":\"EU868\",\"multicast_class\":\"C\",
	\"start_at\":\"2099-01-01T00:00:00Z\"}") || fail "other job"

# The operator's fleet: fuota-sim's devices, registered in the ops tenant; the image the
# browser uploads is the one the devices check.
CP_TOKEN=$OPS_TOKEN
head -c 1200 /dev/zero | tr '\0' 'w' >"$CP_DIR/fw-web.bin"
cp_sim_start --devices "$DEVICES" --v2-fraction 0 --uplink-period 1 --gw-duty-cycle 0 \
	--clock-offset 20 --seed 31 --misbehave silent@3 --image "$CP_DIR/fw-web.bin"
# shellcheck disable=SC2119 # every device of the fleet
cp_register || fail "registration"

# The gateway's cellular modem as its fuota-gw publishes it, a module update under way: what
# the gateways page shows (fuota-sim's gateways have no modem).
gw=$(jq -er '.gateways[0].gateway_id' "$CP_DIR/fleet.json") || fail "no gateway in the fleet"
cp_psql "$CP_DB" "INSERT INTO gateway_modem (gateway_id, state, received_ms) VALUES ('$gw',
	'{\"gatewayId\":\"$gw\",\"firmware\":\"03.15\",\"registration\":\"home\",
	\"rssiDbm\":-71,\"linkUp\":true,\"queueDepth\":2,
	\"update\":{\"id\":7,\"state\":\"downloading\",\"method\":\"http\",\"progress\":40}}', 0)" >/dev/null ||
	fail "gateway modem state"

start=$SECONDS
(cd "$ROOT/web" && WEB_URL=$CP_URL WEB_TOKEN=$OPS_TOKEN WEB_TENANT=ops WEB_ADMIN_TOKEN=$ADMIN_TOKEN \
	WEB_OTHER_JOB=$OTHER_JOB WEB_OTHER_DEVICE=ffee000000000001 \
	WEB_FIRMWARE=$CP_DIR/fw-web.bin WEB_DEVICES=$DEVICES WEB_SHOTS=$CP_DIR/screenshots \
	WEB_SILENT=$(jq -r ".devices[$((DEVICES - 1))].dev_eui" "$CP_DIR/fleet.json") \
	node tests/browser/web-ui.mjs) || fail "the browser test failed (screenshots in $CP_DIR/screenshots)"
printf 'web-ui: browser steps took %d s\n' $((SECONDS - start))

# What the browser saw, read back through the API: one job of the ops tenant, succeeded, and
# every device rebuilt the image.
job=$(cp_curl GET '/api/v1/jobs?limit=5' | jq -e '.items | map(select(.name == "browser test")) | .[0].id') ||
	fail "no job named 'browser test' in the ops tenant"
cp_sim_stop || fail "no simulator report"
cp_summary "$job" >"$CP_DIR/summary.json" || fail "no summary"
jq -c . "$CP_DIR/summary.json"
jq -e --argjson n "$((DEVICES - 1))" '.state == "succeeded" and .updated == $n and
	.verified == $n and .failed == 1' "$CP_DIR/summary.json" >/dev/null ||
	fail "not every answering device rebuilt the image, or the silent one did not fail"
CP_TOKEN=$ADMIN_TOKEN

# [http] web_root: another folder, or none (every path is the API's).
cp_fuotad_stop TERM || fail "fuotad did not stop"
mkdir -p "$CP_DIR/root"
printf '<!doctype html><title>other</title>\n' >"$CP_DIR/root/index.html"
FUOTA_HTTP_WEB_ROOT=$CP_DIR/root cp_fuotad_start
curl -s "$CP_URL/jobs/1" | cmp -s - "$CP_DIR/root/index.html" || fail "web_root not followed"
printf 'web-ui: ok: [http] web_root = another folder is served\n'
cp_fuotad_stop TERM || fail "fuotad did not stop"
FUOTA_HTTP_WEB_ROOT=none cp_fuotad_start
expect / "404 application/json"
# A fuotad with no web/ beside its folder (built without the UI): the API answers every path.
cp_fuotad_stop TERM || fail "fuotad did not stop"
mkdir -p "$CP_DIR/bare/bin"
cp "$BIN/fuotad" "$CP_DIR/bare/bin/"
CP_BIN=$CP_DIR/bare/bin cp_fuotad_start
expect /jobs "404 application/json"
printf 'web-ui: ok: the job made in the browser succeeded, %d devices verified; screenshots in %s\n' \
	"$((DEVICES - 1))" "$CP_DIR/screenshots"
