#!/usr/bin/env bash
# `./fuota demo`: a real firmware campaign on a private local stack.
#
#   scripts/demo.sh [--devices N] [--loss PERCENT] [--size BYTES] [--class B|C] [--json]
#                   [--bin DIR] [--keep] [--ui]
#
# Starts its own PostgreSQL + mosquitto (scripts/stack.sh services-up) in a fresh directory under
# /tmp and its own fuotad, so a running `./fuota up` is never touched; starts fuota-sim (the network
# server integration, one gateway and the devices), registers the devices and creates the job
# through the REST API with a generated image, shows the job's progress, prints a summary and stops
# everything it started (also on Ctrl-C or an error). The work directory is removed unless the run
# failed or --keep was given. It prints the web UI's address and a token of the demo's tenant to
# sign in with; with --ui, fuotad, PostgreSQL and mosquitto stay up after the job until Ctrl-C
# (the exit status is still the campaign's), so the job can be looked at in the browser.
#
# Radio settings: EU868, 869.525 MHz, DR6 (SF7/250 kHz, 197 ms per 239-byte fragment), with the
# duty-cycle enforcement of the engine and of the simulated gateway turned off, so that 64 KiB
# reach 200 devices in about two and a half minutes (docs/BENCHMARKS.md: where the time goes); a
# real gateway on that sub-band may send 10 % of the time, which would make the transmission about
# ten times longer. Redundancy is adaptive: parity frames go out until every device has reported
# its rebuilt image.
#
# Exit status: 0 when every device was updated and verified (its SHA-256 matched), 1 otherwise,
# 2 on a usage error.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/campaign-lib.sh
. "$ROOT/scripts/campaign-lib.sh"

usage() {
	sed -n '5,6p' "${BASH_SOURCE[0]}" | sed 's/^# *//'
}

DEVICES=200 LOSS=10 SIZE=65536 CLASS=C JSON=0 KEEP=0 UI=0
CP_BIN=$ROOT/build/bin
while [ $# -gt 0 ]; do
	case $1 in
	--devices) DEVICES=${2:?}; shift ;;
	--loss) LOSS=${2:?}; shift ;;
	--size) SIZE=${2:?}; shift ;;
	--class) CLASS=${2:?}; shift ;;
	--bin) CP_BIN=${2:?}; shift ;;
	--json) JSON=1 ;;
	--keep) KEEP=1 ;;
	--ui) UI=1 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
CLASS=${CLASS^^}
{ [[ $DEVICES =~ ^[0-9]+$ ]] && [ "$DEVICES" -ge 1 ] && [ "$DEVICES" -le 100000 ]; } ||
	{ echo "demo: --devices 1..100000" >&2; exit 2; }
{ [[ $LOSS =~ ^[0-9]+([.][0-9]+)?$ ]] && awk "BEGIN{exit !($LOSS < 100)}"; } ||
	{ echo "demo: --loss is a percentage below 100" >&2; exit 2; }
{ [[ $SIZE =~ ^[0-9]+$ ]] && [ "$SIZE" -ge 1 ] && [ "$SIZE" -le 3000000 ]; } ||
	{ echo "demo: --size 1..3000000 bytes" >&2; exit 2; }
[ "$CLASS" = B ] || [ "$CLASS" = C ] || { echo "demo: --class B or C" >&2; exit 2; }
for t in curl jq mosquitto_sub psql; do
	command -v "$t" >/dev/null || { echo "demo: $t is missing (./fuota bootstrap)" >&2; exit 1; }
done

TTY=0
[ -t 2 ] && TTY=1
say() { printf '%s\n' "$*" >&2; }

WORK=$(mktemp -d /tmp/fuota-demo.XXXXXX)
chmod 755 "$WORK" # PostgreSQL runs as nobody when we are root
CP_DIR=$WORK/run
mkdir -p "$CP_DIR"
STATUS=1

finish() {
	local rc=$?
	trap - EXIT INT TERM
	[ "$TTY" = 1 ] && printf '\n' >&2
	cp_cleanup
	"$ROOT/scripts/stack.sh" services-down "$WORK/stack" >/dev/null 2>&1 || true
	[ "$rc" -eq 0 ] && rc=$STATUS
	if [ "$KEEP" = 1 ] || [ "$rc" -ne 0 ]; then
		say "demo: logs kept in $CP_DIR (fuotad.log, sim.log, sim.out, report.json)"
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap finish EXIT
trap 'say "demo: interrupted"; STATUS=130; exit 130' INT TERM

say "demo: $DEVICES class $CLASS devices, $LOSS % multicast loss, a $SIZE-byte image"
say "demo: EU868 869.525 MHz DR6 (SF7/250 kHz); duty-cycle enforcement OFF (simulated network)"
"$ROOT/scripts/stack.sh" services-up "$WORK/stack" 2>"$CP_DIR/stack.log" ||
	{ cat "$CP_DIR/stack.log" >&2; exit 1; }
cp_services_load "$WORK/stack/run/services.env"
cp_db_create fuota_demo
CP_DUTY_CYCLE=off CP_ADAPTIVE=1 CP_CLASS_C_TIMING=gps
cp_fuotad_start
cp_events_start
head -c "$SIZE" /dev/urandom >"$CP_DIR/firmware.bin"
cp_sim_start --devices "$DEVICES" --class "$CLASS" --v2-fraction 1 \
	--loss "$(awk "BEGIN{print $LOSS / 100}")" --uplink-period 2 --gw-duty-cycle 0 \
	--image "$CP_DIR/firmware.bin" --seed "$RANDOM"
say "demo: fuotad on $CP_URL, mosquitto on $CP_MQTT_HOST:$CP_MQTT_PORT, fuota-sim running"
# shellcheck disable=SC2119 # no index given: every device of the fleet
cp_register
FW=$(cp_firmware "$CP_DIR/firmware.bin")
JOB_BODY=$(jq -c --argjson fw "$FW" --arg class "$CLASS" '{
	name: "demo", firmware_id: $fw, devices: [.devices[].dev_eui],
	redundancy_frames: 0, unicast_timeout_s: 6, unicast_attempts: 2,
	data_rate: 6, frequency_hz: 869525000, region: "EU868", multicast_class: $class}
	+ (if $class == "B" then {ping_slot_periodicity: 0} else {} end)' "$CP_DIR/fleet.json")
JOB=$(cp_job_create "$JOB_BODY")
NB_FRAG=$(cp_job "$JOB" | jq .plan.fragments)
say "demo: $DEVICES devices registered; job $JOB: $NB_FRAG fragments, adaptive redundancy"
# A token of the demo's tenant (not the admin token the script uses) for the browser.
UI_TOKEN=$(cp_curl POST /api/v1/tokens -H 'Content-Type: application/json' \
	-d '{"tenant_id":1,"name":"demo-ui"}' | jq -er .token) || exit 1
say "demo: web UI: $CP_URL/jobs/$JOB (sign in with the token $UI_TOKEN)"
T0=$SECONDS

LAST_PRINT=-10
# One status line: a bar weighted 20 % setup (devices past their unicast setup), 60 % transmission
# (frames of the image sent), 20 % end (devices done, failed or unconfirmed), the devices per
# step and the engine's frame counter (from its MQTT progress events).
progress() { # JOB STATE
	local counts steps frames pct elapsed line
	counts=$(cp_job_devices "$1" 2>/dev/null | jq -c '
		{setup: [.[] | select(.step | IN("pending", "pkg_version", "mc_setup", "frag_setup",
		                                 "ready", "mc_session") | not)] | length,
		 end: [.[] | select(.step | IN("done", "failed", "unconfirmed"))] | length,
		 steps: (group_by(.step) | map("\(.[0].step) \(length)") | join(", "))}') || return 0
	frames=$(cp_frames "$1")
	frames=${frames% *}
	pct=$(jq -n --argjson c "$counts" --argjson f "$frames" --argjson m "$NB_FRAG" \
		--argjson n "$DEVICES" '(20 * $c.setup / $n + 60 * ([$f / $m, 1] | min) +
		20 * $c.end / $n) | floor')
	steps=$(printf '%s' "$counts" | jq -r .steps)
	elapsed=$((SECONDS - T0))
	line=$(printf '[%-30s] %3d%%  %3ds  %s | frames %s (image: %s)' \
		"$(printf '%*s' $((pct * 30 / 100)) '' | tr ' ' '#')" "$pct" "$elapsed" "$steps" \
		"$frames" "$NB_FRAG")
	if [ "$TTY" = 1 ]; then
		printf '\r\033[K%s' "${line:0:$(($(tput cols 2>/dev/null || echo 160) - 1))}" >&2
	elif [ $((elapsed - LAST_PRINT)) -ge 10 ]; then
		say "$line"
		LAST_PRINT=$elapsed
	fi
}

TIMEOUT=$((600 + DEVICES / 10 + SIZE / 100))
[ "$CLASS" = B ] && TIMEOUT=$((TIMEOUT + SIZE / 20))
cp_job_wait "$JOB" "$TIMEOUT" progress || exit 1
[ "$TTY" = 1 ] && printf '\n' >&2
# The final progress event follows the state change by a moment.
sleep 1
cp_sim_stop
SUMMARY=$(cp_summary "$JOB" | jq -c --argjson total "$((SECONDS - T0))" '. + {total_s: $total}')

if [ "$JSON" = 1 ]; then
	printf '%s\n' "$SUMMARY"
else
	printf '%s\n' "$SUMMARY" | jq -r '
		"job \(.job_id): \(.state)",
		"  devices \(.devices), updated \(.updated), verified (SHA-256 matched) \(.verified), failed \(.failed), unconfirmed \(.unconfirmed)",
		"  fragments \(.nb_frag) of \(.fragment_size) bytes; frames sent \(.frames_sent) (\(
		  if .nb_frag > 0 then (.frames_sent * 1000 / .nb_frag | round / 1000) else 0 end) x nb_frag), sent again after a gateway refusal \(.frames_resent)",
		"  airtime \(.airtime_s) s (\(.frame_airtime_ms) ms per frame), job duration \(.duration_s) s, demo \(.total_s) s",
		"  gateway acks: \(.gateway_acks | to_entries | map("\(.key) \(.value)") | join(", "))",
		(.failures[] | "  failed: \(.devices) device(s): \(.reason)")'
fi
if [ "$(printf '%s' "$SUMMARY" | jq '.updated == .devices and .verified == .devices')" = true ]; then
	STATUS=0
else
	say "demo: not every device was updated and verified"
	STATUS=1
fi
if [ "$UI" = 1 ]; then
	say "demo: --ui: the stack stays up for the web UI at $CP_URL/jobs/$JOB; Ctrl-C stops it"
	SLEEPER=
	trap 'say "demo: stopping"; [ -z "$SLEEPER" ] || kill "$SLEEPER" 2>/dev/null; exit "$STATUS"' INT TERM
	while :; do
		sleep 3600 &
		SLEEPER=$!
		wait "$SLEEPER" || true
	done
fi
