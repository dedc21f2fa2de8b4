#!/usr/bin/env bash
# Firmware campaigns end to end, the one harness for them: fuotad (REST API + job engine) and
# fuota-sim (network server integration, gateways, devices) on a real mosquitto and a real
# PostgreSQL, driven through the REST API like an operator would (scripts/campaign-lib.sh, shared
# with `./fuota demo`, `./fuota chaos` and `./fuota bench campaign`). Each scenario asserts on the
# simulator's per-device report (what the devices rebuilt) and on the job's final state read back
# through the API.
#
#   tests/e2e/campaign.sh SCENARIO BIN_DIR SERVICES_ENV WORKDIR
#   tests/e2e/campaign.sh --list        the scenarios, "NAME" or "NAME sanitize", one a line
#
# BIN_DIR holds fuotad and fuota-sim; SERVICES_ENV is scripts/stack.sh's services.env of the
# integration fixture (its PostgreSQL; each scenario makes its own database, MQTT topics and
# fuotad, so that scenarios run side by side).
#
# A scenario is a function `scenario_NAME` below (a dash in the test name is an underscore in the
# function's), with a comment above it saying what it asserts. tests/e2e/campaign.cmake registers
# one ctest `e2e.campaign-NAME` per function (CMake re-reads this file when it changes); a
# function whose opening line ends in `# sanitize` runs in the ASan+UBSan build too.
set -euo pipefail

if [ "${1:-}" = --list ]; then
	sed -n 's/^scenario_\([a-z0-9_]*\)() {\( # \(sanitize\)\)\{0,1\}$/\1 \3/p' "${BASH_SOURCE[0]}" |
		tr _ - | sed 's/ $//'
	exit 0
fi
SCENARIO=${1:?scenario}
BIN=${2:?bin dir}
SERVICES_ENV=${3:?services env}
WORK=${4:?work dir}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/campaign-lib.sh
. "$ROOT/scripts/campaign-lib.sh"

CP_BIN=$BIN
CP_DIR=$WORK/$SCENARIO
# Private topics: the scenarios (and other tests) share the fixture's broker.
CP_TAG=${SCENARIO//-/}$$
rm -rf "$CP_DIR"
mkdir -p "$CP_DIR"
BROKER_DIR=

fail() {
	printf 'campaign %s: FAILED: %s\n' "$SCENARIO" "$*" >&2
	printf -- '--- fuotad.log (last 30 lines)\n' >&2
	tail -30 "$CP_DIR/fuotad.log" >&2 2>/dev/null || true
	printf -- '--- sim.log (last 10 lines)\n' >&2
	tail -10 "$CP_DIR/sim.log" >&2 2>/dev/null || true
	exit 1
}

check() { # DESCRIPTION JQ_FILTER FILE: the filter must print true
	local what=$1 filter=$2 file=$3
	[ "$(jq "$filter" "$file")" = true ] || {
		jq -c "$filter" "$file" >&2 || true
		fail "$what"
	}
	printf 'campaign %s: ok: %s\n' "$SCENARIO" "$what"
}

CELL_PIDS=()
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	for p in "${CELL_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	cp_cleanup
	{ [ -n "$BROKER_DIR" ] && "$ROOT/tests/e2e/mosquitto.sh" stop "$BROKER_DIR"; } || true
	{ [ -n "${CP_DB:-}" ] && cp_psql postgres "DROP DATABASE IF EXISTS $CP_DB" >/dev/null 2>&1; } || true
}
trap cleanup EXIT

# Common settings: a fast simulated network (uplinks every second, no duty cycle), EU868 DR6 on
# 869.525 MHz. An answer comes within two uplink periods, so a 4 s unicast timeout (fuotad adds
# BlockAckDelay's 16 s to it for a FragSessionStatusReq, whose answer the device delays).
SIM_COMMON=(--uplink-period 1 --gw-duty-cycle 0 --clock-offset 20)
job_body() { # FW_ID JQ_EXTRA [INDEX...]: the job's JSON for the fleet's devices (all, or those)
	local fw=$1 extra=$2
	shift 2
	jq -c --argjson fw "$fw" --argjson idx "[$(IFS=,; echo "$*")]" '{
		name: "e2e", firmware_id: $fw,
		devices: [.devices | to_entries[] | select(($idx | length) == 0 or
			(.key as $k | $idx | index($k))) | .value.dev_eui],
		redundancy_frames: 2, unicast_timeout_s: 4, unicast_attempts: 2,
		data_rate: 6, frequency_hz: 869525000, region: "EU868", multicast_class: "C"} + '"$extra" \
		"$CP_DIR/fleet.json"
}

start() { # DB_SUFFIX: database, fuotad, events listener
	cp_db_create "fuota_e2e_${1//-/_}_$$"
	cp_fuotad_start
	cp_events_start
}

fleet() { # IMAGE_SIZE SIM_OPTION...: a deterministic image, fuota-sim's fleet with it, the
	# devices registered and the image uploaded (its firmware id in FW)
	head -c "$1" /dev/zero | tr '\0' 'x' >"$CP_DIR/fw.bin"
	printf '%s' "$SCENARIO" | dd of="$CP_DIR/fw.bin" conv=notrunc status=none
	shift
	cp_sim_start "$@" --image "$CP_DIR/fw.bin"
	cp_register
	FW=$(cp_firmware "$CP_DIR/fw.bin")
}

run_job() { # JOB_JSON TIMEOUT_S: creates the job, waits for its end, stops the simulator
	JOB=$(cp_job_create "$1") || fail "job refused"
	cp_job_wait "$JOB" "$2" || fail "job did not finish"
	sleep 1
	cp_sim_stop || fail "no simulator report"
	cp_summary "$JOB" >"$CP_DIR/summary.json" || fail "no summary"
	jq -c . "$CP_DIR/summary.json"
}

sim_exits() { # TIMEOUT_S: fuota-sim --until-done leaves by itself (status 0, a report)
	local end=$((SECONDS + $1)) start=$SECONDS rc=0
	while kill -0 "$CP_SIM_PID" 2>/dev/null; do
		[ $SECONDS -lt "$end" ] || fail "fuota-sim --until-done still running $1 s after the job"
		sleep 0.2
	done
	wait "$CP_SIM_PID" || rc=$?
	CP_SIM_PID=
	[ "$rc" -eq 0 ] || fail "fuota-sim --until-done exited with status $rc"
	[ -s "$CP_DIR/report.json" ] || fail "fuota-sim wrote no report"
	printf 'campaign %s: ok: fuota-sim --until-done exited by itself, %d s after the job ended\n' \
		"$SCENARIO" $((SECONDS - start))
}

# Joins the API's view and the simulator's: [{dev_eui, step, reason, sim: <report entry>}].
joined() {
	jq -n --slurpfile d "$CP_DIR/job-devices.json" --slurpfile r "$CP_DIR/report.json" '
		($r[0].devices | map({key: .dev_eui, value: .}) | from_entries) as $sim |
		[$d[0][] | {dev_eui, step, reason: .failure_reason, sim: $sim[.dev_eui]}]' \
		>"$CP_DIR/joined.json"
}

wait_frames() { # N TIMEOUT_S: until the engine reports N frames sent
	local end=$((SECONDS + $2)) f
	while [ $SECONDS -lt $end ]; do
		f=$(cp_frames "$JOB")
		[ "${f% *}" -ge "$1" ] && return 0
		sleep 0.2
	done
	fail "fewer than $1 frames sent after $2 s"
}

# fuota-modem-sim and fuota-gw through it to the broker; GW_UDP_PORT is where the forwarder goes.
# MODEM_EXTRA and GW_EXTRA (arrays) add options to each.
MODEM_EXTRA=() GW_EXTRA=()
# fuota-gw's MQTT client id is made of its gateway's id, and the scenarios share the fixture's
# broker: two fuota-gw with one id would take each other's session over. A gateway id per run.
GW_EUI=(--gw-eui-base "$(printf '0016c0%010x' $$)")
cellular_gw_start() {
	"$BIN/fuota-modem-sim" --fs "$CP_DIR/modem-fs" --state "$CP_DIR/modem-nvm" --boot-ms 100 \
		--reg-ms 100 --control "$CP_DIR/modem-ctl" "${MODEM_EXTRA[@]}" \
		>"$CP_DIR/modem.out" 2>"$CP_DIR/modem.log" </dev/null &
	CELL_PIDS+=($!)
	for _ in $(seq 50); do [ -s "$CP_DIR/modem.out" ] && break; sleep 0.1; done
	# the log exists before the loop below reads it: under set -e a sed that finds no file
	# (fuota-gw not yet forked to its redirection) ends the whole test
	: >"$CP_DIR/gw.log"
	"$BIN/fuota-gw" --queue "$CP_DIR/gw-queue" --port 0 --modem "$(head -1 "$CP_DIR/modem.out")" \
		--broker "$CP_MQTT_HOST:$CP_MQTT_PORT" --prefix "$CP_GW_PREFIX" --state-s 5 \
		--at-log "$CP_DIR/at.log" "${GW_EXTRA[@]}" 2>"$CP_DIR/gw.log" </dev/null &
	CELL_PIDS+=($!)
	GW_UDP_PORT=
	for _ in $(seq 100); do
		# The shell behind & may not have opened gw.log yet.
		GW_UDP_PORT=$(sed -n 's/^fuota-gw: listening on 127\.0\.0\.1:\([0-9]*\),.*/\1/p' \
			"$CP_DIR/gw.log" 2>/dev/null || true)
		[ -n "$GW_UDP_PORT" ] && return 0
		sleep 0.1
	done
	cat "$CP_DIR/gw.log" >&2
	fail "fuota-gw did not start"
}

# A package of fuota-modem-sim's format (its README) from FROM to TO (12 characters each) at
# FILE: FSIMFWP1, both versions NUL-padded to 24 bytes, the body's length (4000, little endian),
# the CRC-32 of the 60 bytes before it and the body (gzip's trailer holds it, little endian).
modem_package() { # FILE FROM TO
	local body=$CP_DIR/pkg-body hdr=$CP_DIR/pkg-head
	head -c 4000 /dev/zero | tr '\0' 'u' >"$body"
	{ printf 'FSIMFWP1%s' "$2"; head -c 12 /dev/zero; printf '%s' "$3"; head -c 12 /dev/zero
	  printf '\240\017\000\000'; } >"$hdr"
	{ cat "$hdr"; cat "$hdr" "$body" | gzip -c | tail -c 8 | head -c 4; cat "$body"; } >"$1"
}

# The uplinks at the broker (mosquitto_sub -F '%U %x': arrival time, gw.UplinkFrame in hex, its
# field 1 the PHYPayload first) as JSON: unique frames, duplicates, frames older than their
# device's last (out of order), FCnts skipped, the longest silence in seconds.
uplinks_seen() { # FILE
	local t hex len pl dev fcnt seen=' ' uniq=0 dups=0 ooo=0 skipped=0 last_t='' gap=0
	declare -A last=()
	while read -r t hex; do
		[ "${hex:0:2}" = 0a ] || continue
		len=$((16#${hex:2:2}))
		{ [ "$len" -ge 8 ] && [ "$len" -lt 128 ]; } || continue
		pl=${hex:4:$((2 * len))}
		dev=${pl:2:8} fcnt=$((16#${pl:14:2}${pl:12:2}))
		if [[ $seen == *" $dev:$fcnt "* ]]; then
			dups=$((dups + 1))
			continue
		fi
		seen+="$dev:$fcnt " uniq=$((uniq + 1))
		if [ -n "${last[$dev]:-}" ]; then
			[ "$fcnt" -gt "${last[$dev]}" ] || ooo=$((ooo + 1))
			[ "$fcnt" -le $((last[$dev] + 1)) ] || skipped=$((skipped + fcnt - last[$dev] - 1))
		fi
		last[$dev]=$fcnt
		[ -z "$last_t" ] || gap=$(awk -v a="$last_t" -v b="$t" -v g="$gap" \
			'BEGIN { d = b - a; print (d > g ? d : g) }')
		last_t=$t
	done <"$1"
	printf '{"unique":%d,"duplicates":%d,"out_of_order":%d,"skipped":%d,"longest_gap_s":%s}\n' \
		"$uniq" "$dups" "$ooo" "$skipped" "$gap"
}

api_wait() { # PATH JQ_FILTER TIMEOUT_S FILE: until GET PATH's body (in FILE) passes the filter
	local end=$((SECONDS + $3))
	while [ $SECONDS -lt $end ]; do
		cp_curl GET "$1" >"$4" 2>/dev/null && [ "$(jq "$2" "$4")" = true ] && return 0
		sleep 0.3
	done
	return 1
}

# fuotad, the gateway's topics recorded, fuota-gw on fuota-modem-sim (a 3 s install, the module
# polled every 300 ms), fuota-sim's 3 devices (registered) uplinking through it, a uart package
# for the module; GW the gateway's id once fuotad shows its modem.
gw_update_stack() { # IMAGE_SIZE SEED
	local sub=(mosquitto_sub -h "$CP_MQTT_HOST" -p "$CP_MQTT_PORT" -q 1)
	MODEM_EXTRA=(--install-ms 3000)
	GW_EXTRA=(--apn fuota.test --install-s 3 --download-s 2 --modem-poll-ms 300 --state-s 1)
	start "${SCENARIO//-/}"
	"${sub[@]}" -F '%U %x' -t "$CP_GW_PREFIX/gateway/+/event/up" >"$CP_DIR/ups.txt" 2>/dev/null &
	CELL_PIDS+=($!)
	"${sub[@]}" -v -t "$CP_GW_PREFIX/gateway/+/command/#" \
		-t "$CP_GW_PREFIX/gateway/+/event/modem-update" >"$CP_DIR/gw-topics.log" 2>/dev/null &
	CELL_PIDS+=($!)
	cellular_gw_start
	fleet "$1" --devices 3 --v2-fraction 1 "${SIM_COMMON[@]}" --gateways 1 \
		--semtech-udp "127.0.0.1:$GW_UDP_PORT" "${GW_EUI[@]}" --gw-stats-period 2 --seed "$2"
	api_wait /api/v1/gateways '.items[0].modem.firmware == "03.15"' 30 \
		"$CP_DIR/gateways.json" || fail "the gateway's modem never showed in fuotad"
	GW=$(jq -r '.items[0].gateway_id' "$CP_DIR/gateways.json")
	modem_package "$CP_DIR/delta.upd" 03.15,A00.01 03.16,A00.02
}

gw_update_post() { # [CURL ARGS...]: POSTs the uart update of the package; the answer on stdout
	cp_curl POST "/api/v1/gateways/$GW/modem-updates" -H 'Content-Type: application/json' \
		-d "{\"method\":\"uart\",\"package\":\"$CP_DIR/delta.upd\",\"image_size\":4064}" "$@"
}

sessions_logged() { # N: the job's estimate event (GET .../events) names N fragmentation sessions
	cp_curl GET "/api/v1/jobs/$JOB/events?limit=500" >"$CP_DIR/job-events.json" ||
		fail "no event list"
	check "the job's estimate logged $1 fragmentation session(s), once" \
		"[.items[].data.sessions | arrays] | length == 1 and (.[0] | length) == $1" \
		"$CP_DIR/job-events.json"
}

# The scenarios. Each sets up its fleet and job with the helpers above and checks what it is
# about; after it, fuotad must stop cleanly. ctest starts them in this order when it has no
# timings yet (a clean build): the longest first.

# Class B ping slots: every frame on a ping slot of the devices' group, inside their session.
scenario_class_b() {
	start classb
	fleet 1000 --devices 4 --class B --v2-fraction 1 "${SIM_COMMON[@]}" --seed 14
	# The session starts on a beacon period (128 s): up to two minutes before the first slot.
	run_job "$(job_body "$FW" '{multicast_class: "B", ping_slot_periodicity: 0}')" 420
	joined
	check "job succeeded, every device done and verified" \
		'.state == "succeeded" and .updated == 4 and .verified == 4' "$CP_DIR/summary.json"
	check "class B devices, every frame inside their session" \
		'all(.[]; .sim.class == "B" and .sim.frames.outside_session == 0 and
		 (.sim.steps | index("session_open")) != null)' "$CP_DIR/joined.json"
	check "every frame on one of the devices' ping slots" \
		'all(.[]; .sim.frames.off_slot == 0 and .sim.frames.accepted > 0)' "$CP_DIR/joined.json"
}

# An image in parts (issue 14): 30 fragments for TS004 v2 devices registered with max_frags 10 go
# over 3 fragmentation sessions of 10 fragments, each with its part Descriptor; every device
# assembles the parts, checks each part's MIC and verifies the whole image's SHA-256.
scenario_parts() {
	start parts
	head -c $((30 * 239 - 100)) /dev/zero | tr '\0' 'p' >"$CP_DIR/fw.bin"
	printf '%s' "$SCENARIO" | dd of="$CP_DIR/fw.bin" conv=notrunc status=none
	cp_sim_start --devices 3 --v2-fraction 1 "${SIM_COMMON[@]}" --seed 23 \
		--image "$CP_DIR/fw.bin"
	jq '.devices |= map(. + {max_frags: 10})' "$CP_DIR/fleet.json" >"$CP_DIR/fleet-10.json"
	mv "$CP_DIR/fleet-10.json" "$CP_DIR/fleet.json"
	cp_register
	FW=$(cp_firmware "$CP_DIR/fw.bin")
	run_job "$(job_body "$FW" '{unicast_timeout_s: 3, unicast_attempts: 1}')" 180
	cp_curl GET "/api/v1/jobs/$JOB" >"$CP_DIR/job.json" || fail "no job"
	joined
	check "the plan: 3 parts of 10 fragments, the last one run at the end" \
		'.parts == 3 and .part == 3 and .plan.parts == 3 and .plan.part_fragments == 10 and
		 .plan.last_part_fragments == 10 and .plan.total_frames == 36' "$CP_DIR/job.json"
	check "job succeeded, every device done and verified" \
		'.state == "succeeded" and .updated == 3 and .verified == 3' "$CP_DIR/summary.json"
	check "every device rebuilt the 3 parts (their MIC) and the whole image" \
		'all(.[]; .step == "done" and .sim.sha256_ok == true and .sim.mic_ok == true and
		 .sim.parts.received == 3 and .sim.parts.expected == 3)' "$CP_DIR/joined.json"
}

# TS004 v1 and v2 devices in one job (as mixed below) behind 3 gateways (each device heard by 2),
# 5 % loss, uplinks every 2 s, adaptive parity on top of 3 fixed frames: two sessions, every
# device rebuilds the exact image and ignores the other session's fragments. CP_SEED and
# CP_DEVICES replace the simulator's seed (11) and the fleet size (6), to run it over other loss
# patterns.
scenario_mixed_adaptive() { # sanitize
	CP_ADAPTIVE=1
	start mixedadaptive
	fleet 3000 --devices "${CP_DEVICES:-6}" --v2-fraction 0.5 --gateways 3 --coverage 2 --loss 0.05 \
		--uplink-period 2 --gw-duty-cycle 0 --clock-offset 20 --seed "${CP_SEED:-11}"
	run_job "$(job_body "$FW" '{redundancy_frames: 3, unicast_timeout_s: 6, unicast_attempts: 3,
		data_rate: 5}')" 300
	mixed_checks "${CP_DEVICES:-6}"
}

# 20 % of the class A downlinks lost (3 attempts): every device verified, or failed for a
# request the simulator shows it lost on every attempt.
scenario_unicast_loss() {
	start unicastloss
	fleet 2000 --devices 20 --v2-fraction 0.5 "${SIM_COMMON[@]}" --unicast-loss 0.2 --seed 18
	run_job "$(job_body "$FW" '{unicast_attempts: 3}')" 400
	joined
	check "the network lost unicast downlinks (about one in five)" \
		'.summary.unicast_lost > 0 and ([.devices[].unicast.lost] | add) ==
		 .summary.unicast_lost' "$CP_DIR/report.json"
	check "job ended with every device done or failed" \
		'.state == "succeeded" and .devices == 20 and .updated + .failed == 20 and
		 .updated > 0' "$CP_DIR/summary.json"
	check "every done device verified its image" \
		'all(.[] | select(.step == "done"); .sim.sha256_ok == true)' "$CP_DIR/joined.json"
	# A device fails only when fuotad's request went unanswered 3 times: the simulator must have
	# lost that command (the reason's "<Command>: no answer after 3 attempts") 3 times or more.
	# shellcheck disable=SC2016 # $c is a jq variable
	check "every failed device: no answer after 3 attempts, and the simulator lost that request
		 3 times" \
		'all(.[] | select(.step != "done"); .step == "failed" and
		 (.reason | test("^[A-Za-z]+: no answer after 3 attempts")) and
		 ((.reason | split(":")[0]) as $c |
		  [.sim.unicast.lost_requests[] | select(.command == $c)] | length >= 3))' \
		"$CP_DIR/joined.json"
}

# TS004 v1 class C, no loss, fixed redundancy: every device verified; fuota-sim --until-done exits
# by itself once fuotad is done, every cleanup answered.
scenario_v1() {
	start v1
	fleet 3000 --devices 6 --v2-fraction 0 "${SIM_COMMON[@]}" --seed 11 \
		--until-done --timeout 400
	# The simulator is not stopped: it must leave by itself once fuotad is done with every
	# device (its FragSessionStatusReq and both cleanup deletes answered), not before.
	JOB=$(cp_job_create "$(job_body "$FW" '{}')") || fail "job refused"
	cp_job_wait "$JOB" 240 || fail "job did not finish"
	sim_exits 60
	cp_summary "$JOB" >"$CP_DIR/summary.json" || fail "no summary"
	jq -c . "$CP_DIR/summary.json"
	joined
	check "job succeeded" '.state == "succeeded"' "$CP_DIR/summary.json"
	check "fuotad got every device's status and cleanup answers (none skipped for no answer)" \
		'length == 6 and all(.[]; .step == "done" and .last_answer.cleanup == null)' \
		"$CP_DIR/job-devices.json"
	check "every device took part, answered both deletes and was finished when the sim left" \
		'.summary.in_campaign == 6 and .summary.finished == 6 and all(.devices[];
		 .finished and (.steps | index("frag_status") and index("frag_session_delete") and
		 index("mc_group_delete")))' "$CP_DIR/report.json"
	check "6 devices, every one done" '.devices == 6 and .updated == 6' "$CP_DIR/summary.json"
	check "every device rebuilt the image (SHA-256)" '.verified == 6' "$CP_DIR/summary.json"
	check "nothing lost, 13 fragments + 2 parity on air" \
		'.nb_frag == 13 and .frames_sent == 15 and .frames_on_air == 15' "$CP_DIR/summary.json"
	check "TS004 v1 devices, no MIC or FCnt rejection, nothing missing" \
		'all(.[]; .sim.packages.ts004 == 1 and .sim.frames.mic_failures == 0 and
		 .sim.frames.fcnt_rejected == 0 and .sim.fragments.missing == 0 and
		 .sim.mic_ok == null)' "$CP_DIR/joined.json"
}

# TS004 v2 class C, 10 % loss, adaptive redundancy: every device verified, the parity sent sized
# from the answers.
scenario_v2_adaptive() { # sanitize
	CP_ADAPTIVE=1
	start v2a
	fleet 8000 --devices 8 --v2-fraction 1 --loss 0.1 "${SIM_COMMON[@]}" --seed 12
	run_job "$(job_body "$FW" '{redundancy_frames: 0}')" 300
	joined
	check "job succeeded, every device done" \
		'.state == "succeeded" and .devices == 8 and .updated == 8' "$CP_DIR/summary.json"
	check "every device verified (SHA-256 and v2 MIC)" \
		'all(.[]; .sim.sha256_ok == true and .sim.mic_ok == true and .sim.packages.ts004 == 2)' \
		"$CP_DIR/joined.json"
	check "devices lost frames and the FEC rebuilt them" \
		'([.[].sim.frames.lost] | add) > 0 and ([.[].sim.fragments.recovered] | add) > 0' \
		"$CP_DIR/joined.json"
	# No fixed parity was asked for: every parity frame was sent because a device still
	# needed it, and no more than the cap (100 % of M).
	check "adaptive parity: some parity sent, below the cap" \
		'.frames_sent > .nb_frag and .frames_sent <= 2 * .nb_frag' "$CP_DIR/summary.json"
	# Sized from the answers: every frame before the last batch went out while a device still
	# needed it, so the frames beyond the oracle (the largest frame index after which a device
	# was done) are the last batch's margin at most: the whole first batch (9 rows at M = 35
	# and 10 % loss, engine_round_first) or, for a batch sized from answers, the rows beyond
	# the largest need (a few for 8 devices); 12 bounds both.
	jq -n --slurpfile s "$CP_DIR/summary.json" --slurpfile r "$CP_DIR/report.json" \
		'{sent: $s[0].frames_sent, needed: $r[0].summary.frames_needed}' >"$CP_DIR/oracle.json"
	check "adaptive parity: at most 12 frames beyond the oracle" \
		'.needed > 0 and .sent >= .needed and .sent <= .needed + 12' "$CP_DIR/oracle.json"
	sessions_logged 1
}

# A TS004 v2 fleet of 12 behind 3 gateways (each device heard by 2 of them), 5 % loss, clock
# offsets, adaptive parity on top of 3 fixed frames, and one device that never answers: every
# other device done and verified (decoded, SHA-256, v2 MIC), the silent one failed with "no
# answer", one fragmentation session.
scenario_multi_gw() { # sanitize
	CP_ADAPTIVE=1
	start multigw
	fleet 3000 --devices 12 --v2-fraction 1 --gateways 3 --coverage 2 --loss 0.05 \
		"${SIM_COMMON[@]}" --seed 7 --misbehave silent@5
	check "a fleet of 12 TS004 v2 devices" \
		'(.devices | length) == 12 and all(.devices[]; .packages.ts004 == 2)' "$CP_DIR/fleet.json"
	run_job "$(job_body "$FW" '{redundancy_frames: 3, unicast_attempts: 3}')" 300
	joined
	check "job succeeded: 11 devices done, the silent one failed" \
		'.state == "succeeded" and .devices == 12 and .updated == 11 and .failed == 1' \
		"$CP_DIR/summary.json"
	check "the simulator reported on all 12 devices" '(.devices | length) == 12' \
		"$CP_DIR/report.json"
	check "the silent device failed: no answer" \
		'.[5].step == "failed" and (.[5].reason | test("no answer"))' "$CP_DIR/joined.json"
	check "the others done, decoded and verified (SHA-256 and v2 MIC)" \
		'(.[0:5] + .[6:]) | length == 11 and all(.[]; .step == "done" and
		 .sim.decoded == true and .sim.sha256_ok == true and .sim.mic_ok == true and
		 .sim.failed != true)' "$CP_DIR/joined.json"
	sessions_logged 1
}

# TS004 v1 and v2 devices in one job, no loss, fixed parity: one fragmentation session per
# version on the one multicast group; every device, of either version, rebuilds the exact image
# and ignores the other session's fragments.
scenario_mixed() {
	start mixed
	fleet 3000 --devices 8 --v2-fraction 0.5 "${SIM_COMMON[@]}" --seed 13
	run_job "$(job_body "$FW" '{}')" 240
	mixed_checks 8
}

mixed_checks() { # N: the devices of a v1 + v2 job
	joined
	# v1 and v2 parity rows differ: fuotad runs one fragmentation session per version on the
	# job's one multicast group, so every device rebuilds the image with its own code.
	jq '{v1: ([.[] | select(.sim.packages.ts004 == 1)] | length),
		v2: ([.[] | select(.sim.packages.ts004 == 2)] | length)}' "$CP_DIR/joined.json" \
		>"$CP_DIR/groups.json"
	check "both versions in the fleet" '.v1 > 0 and .v2 > 0' "$CP_DIR/groups.json"
	check "the simulator reported on all $1 devices" "(.devices | length) == $1" \
		"$CP_DIR/report.json"
	check "job succeeded, every device done" \
		".state == \"succeeded\" and .devices == $1 and .updated == $1" "$CP_DIR/summary.json"
	check "every device verified (v2 with its MIC), no MIC or FCnt rejection" \
		'all(.[]; .sim.decoded == true and .sim.sha256_ok == true and .sim.failed != true and
		 (.sim.packages.ts004 == 1 or .sim.mic_ok == true) and
		 .sim.frames.mic_failures == 0 and .sim.frames.fcnt_rejected == 0)' \
		"$CP_DIR/joined.json"
	check "every device heard the other session's fragments and ignored them" \
		'all(.[]; .sim.frames.other_session > 0)' "$CP_DIR/joined.json"
	sessions_logged 2
}

# A device that never answers and one with a wrong key: failed with their reasons, the others
# verified.
scenario_misbehave() { # sanitize
	start misbehave
	fleet 3000 --devices 6 --v2-fraction 1 "${SIM_COMMON[@]}" --seed 15 --misbehave silent@1 \
		--misbehave wrong-key@2
	run_job "$(job_body "$FW" '{}')" 300
	joined
	check "job succeeded for the others" \
		'.state == "succeeded" and .devices == 6 and .updated == 4 and .failed == 2' \
		"$CP_DIR/summary.json"
	check "the silent device failed: no answer" \
		'.[1].step == "failed" and (.[1].reason | test("no answer"))' "$CP_DIR/joined.json"
	# Nothing tells the server that a device holds another key: its McKey comes out wrong,
	# every multicast frame fails its MIC on the device, and its status answer says that
	# every fragment is missing.
	check "the wrong-key device failed: every fragment missing (each frame's MIC failed)" \
		'.[2].step == "failed" and (.[2].reason | test("StatusAns: 13 fragments missing")) and
		 .[2].sim.frames.mic_failures > 0 and .[2].sim.frames.accepted == 0 and
		 .[2].sim.decoded == false' "$CP_DIR/joined.json"
	check "the four others done and verified" \
		'[.[0], .[3], .[4], .[5]] | all(.step == "done" and .sim.sha256_ok == true and
		 .sim.mic_ok == true)' "$CP_DIR/joined.json"
}

# Issue 16: TS004 v1 devices that answer FragSessionStatusReq as LoRaMac-node does (last counter
# seen, uncoded fragments lost so far), with loss, fixed parity and TS006: every device verified
# and done, those that lost uncoded fragments after DevUpgradeImageReq.
scenario_loramac_node() {
	loramac_node
}
# The same with adaptive redundancy in rounds and without TS006: those devices end unconfirmed,
# none failed.
scenario_loramac_node_adaptive() {
	loramac_node
}
loramac_node() {
	# Issue 16: the devices answer as LoRaMac-node's FragDecoder and are registered with
	# "stack": "loramac-node" (the fleet JSON). One that lost uncoded fragments and rebuilt
	# them from parity keeps MissingFrag above 0 and its counter stops, which a device that
	# left coverage answers too: fuotad cannot call it done from that answer. With TS006
	# (loramac-node) it asks DevUpgradeImageReq and "Valid" makes it done; without
	# (loramac-node-adaptive) it leaves it "unconfirmed".
	if [ "$SCENARIO" = loramac-node ]; then
		extra='{redundancy_frames: 12}'
		ts006=(--misbehave ts006=1)
	else
		CP_ADAPTIVE=1
		extra='{redundancy_frames: 0}'
		ts006=()
	fi
	start "$SCENARIO"
	fleet 6000 --devices 4 --v2-fraction 0 --loss 0.06 "${SIM_COMMON[@]}" --seed 21 \
		--misbehave loramac-node=1 "${ts006[@]}"
	run_job "$(job_body "$FW" "$extra")" 300
	joined
	check "job succeeded: every device done or unconfirmed and verified, none failed" \
		'.state == "succeeded" and .devices == 4 and .updated + .unconfirmed == 4 and
		 .failed == 0 and .verified == 4' "$CP_DIR/summary.json"
	check "LoRaMac-node answers, TS004 v1" \
		'all(.[]; .sim.packages.ts004 == 1 and (.sim.misbehave | index("loramac-node")))' \
		"$CP_DIR/joined.json"
	jq -n --slurpfile j "$CP_DIR/joined.json" --slurpfile d "$CP_DIR/job-devices.json" '
		{lost: [$j[0][] | select(.sim.fragments.recovered > 0) | .dev_eui] | sort,
		 unconfirmed: [$d[0][] | select(.step == "unconfirmed") | .dev_eui] | sort,
		 asked: [$d[0][] | select(.last_answer.answer == "DevUpgradeImageAns") | .dev_eui]
		        | sort}' >"$CP_DIR/judged.json"
	if [ "$SCENARIO" = loramac-node ]; then
		check "with TS006: every device done; those that lost uncoded fragments were asked" \
			'.lost != [] and .asked == .lost and .unconfirmed == []' "$CP_DIR/judged.json"
		check "DevUpgradeImageAns Valid made them done" \
			'all(.[] | select(.last_answer.answer == "DevUpgradeImageAns");
			 .step == "done" and .last_answer.status == "valid")' "$CP_DIR/job-devices.json"
	else
		check "without TS006: the devices that lost uncoded fragments are unconfirmed" \
			'.lost != [] and .unconfirmed == .lost and .asked == []' "$CP_DIR/judged.json"
		check "an unconfirmed device's reason says why" \
			'any(.[]; .step == "unconfirmed" and .last_answer.stack == "loramac-node" and
			 (.failure_reason | test("^unconfirmed: FragSessionStatusAns \\(loramac-node\\)")))' \
			"$CP_DIR/job-devices.json"
		# In the rounds: a device whose counter stopped gets no more rows.
		check "adaptive parity: below the cap" \
			'.frames_sent > .nb_frag and .frames_sent <= 2 * .nb_frag' "$CP_DIR/summary.json"
	fi
}

# TS004 v2 devices that answer MissingFrag 1 after a lossless session as LoRa Basics Modem does:
# every device verified, none failed.
scenario_lbm_missing() {
	start lbmmissing
	fleet 2000 --devices 3 --v2-fraction 1 "${SIM_COMMON[@]}" --seed 22 --misbehave lbm-missing=1
	run_job "$(job_body "$FW" '{}')" 240
	joined
	check "job succeeded: every device done and verified, none failed" \
		'.state == "succeeded" and .devices == 3 and .updated == 3 and .failed == 0 and
		 .verified == 3' "$CP_DIR/summary.json"
	check "LBM v2 answers after a lossless session" \
		'all(.[]; .sim.packages.ts004 == 2 and .sim.mic_ok == true and
		 (.sim.misbehave | index("lbm-missing")))' "$CP_DIR/joined.json"
}

# TS004 v2 devices whose clock is LoRa Basics Modem's (synchronised only when forced, AppTimeReq
# 6-10 s after ForceDeviceResyncReq): fuotad resyncs them and asks the session again after it;
# every device verified, none failed.
scenario_lbm_resync() {
	# Issue 16: LBM sends its AppTimeReq at least 6 s after ForceDeviceResyncReq. Two of the
	# three devices answer McClassCSessionReq with an unsynchronised clock: fuotad forces a
	# resync and asks again once their late AppTimeReq was answered.
	start lbmresync
	fleet 2000 --devices 3 --v2-fraction 1 "${SIM_COMMON[@]}" --seed 23 \
		--misbehave lbm-resync@0,1
	run_job "$(job_body "$FW" '{}')" 300
	joined
	check "job succeeded: every device done and verified, none failed" \
		'.state == "succeeded" and .devices == 3 and .updated == 3 and .failed == 0 and
		 .verified == 3' "$CP_DIR/summary.json"
	check "two devices with LBM's clock, registered as lbm" \
		'([.[] | select(.sim.misbehave | index("lbm-resync"))] | length) == 2' \
		"$CP_DIR/joined.json"
	jq -Rn '[inputs | select(test("clock resync, session request after it"))] | length' \
		"$CP_DIR/fuotad.log" >"$CP_DIR/resyncs.json"
	check "fuotad resynchronised exactly those two" '. == 2' "$CP_DIR/resyncs.json"
}

# fuotad killed with SIGKILL during the transmission and restarted: the job completes and no FCnt
# is used twice.
scenario_kill() { # sanitize
	CP_ADAPTIVE=1
	start kill
	fleet 12000 --devices 6 --v2-fraction 1 --loss 0.05 "${SIM_COMMON[@]}" --seed 16
	JOB=$(cp_job_create "$(job_body "$FW" '{redundancy_frames: 0}')") || fail "job refused"
	wait_frames 16 180
	cp_fuotad_stop KILL
	printf 'campaign kill: fuotad killed (SIGKILL) after %s frames\n' "$(cp_frames "$JOB")"
	sleep 1
	# The same database, master key and instance id: it takes its lease back at once.
	cp_fuotad_start || fail "fuotad did not restart"
	cp_job_wait "$JOB" 300 || fail "job did not finish after the restart"
	sleep 1
	cp_sim_stop || fail "no simulator report"
	cp_summary "$JOB" >"$CP_DIR/summary.json"
	jq -c . "$CP_DIR/summary.json"
	joined
	check "job succeeded, every device done and verified" \
		'.state == "succeeded" and .updated == 6 and .verified == 6' "$CP_DIR/summary.json"
	check "devices saw strictly increasing FCnts (no replay, no MIC failure, no duplicate)" \
		'all(.[]; .sim.frames.fcnt_rejected == 0 and .sim.frames.mic_failures == 0 and
		 .sim.frames.duplicates == 0)' "$CP_DIR/joined.json"
	cp_psql "$CP_DB" "SELECT json_build_object('frames', count(*), 'fcnts', count(DISTINCT fcnt),
		'ordered', bool_and(ordered)) FROM (SELECT fcnt, fcnt > lag(fcnt, 1, -1)
		OVER (PARTITION BY gateway_id ORDER BY sent_ms, fcnt) AS ordered FROM engine_tx
		WHERE job_id = $JOB) t" >"$CP_DIR/fcnts.json"
	check "the engine's frames: one FCnt each, increasing in sending order" \
		'.frames > 0 and .frames == .fcnts and .ordered' "$CP_DIR/fcnts.json"
}

# The broker (a private one, on the same port) restarted during the transmission: the job
# completes, no FCnt replayed, the outage logged once.
scenario_broker() {
	# A private broker: stopping it must not disturb the other tests on the shared one.
	BROKER_DIR=$CP_DIR/broker
	"$ROOT/tests/e2e/mosquitto.sh" start "$BROKER_DIR" || fail "no broker"
	CP_MQTT_PORT=$(cat "$BROKER_DIR/port")
	CP_ADAPTIVE=1
	start broker
	fleet 12000 --devices 6 --v2-fraction 1 --loss 0.05 "${SIM_COMMON[@]}" --seed 17
	JOB=$(cp_job_create "$(job_body "$FW" '{redundancy_frames: 0}')") || fail "job refused"
	wait_frames 16 180
	"$ROOT/tests/e2e/mosquitto.sh" stop "$BROKER_DIR"
	printf 'campaign broker: broker stopped after %s frames\n' "$(cp_frames "$JOB")"
	sleep 3
	"$ROOT/tests/e2e/mosquitto.sh" start "$BROKER_DIR" "$CP_MQTT_PORT" || fail "no broker restart"
	kill "$CP_EVENTS_PID" 2>/dev/null || true
	cp_events_start
	cp_job_wait "$JOB" 300 || fail "job did not finish after the broker restart"
	sleep 1
	cp_sim_stop || fail "no simulator report"
	cp_summary "$JOB" >"$CP_DIR/summary.json"
	jq -c . "$CP_DIR/summary.json"
	joined
	check "job succeeded, every device done and verified" \
		'.state == "succeeded" and .updated == 6 and .verified == 6' "$CP_DIR/summary.json"
	check "no FCnt replayed to the devices" \
		'all(.[]; .sim.frames.fcnt_rejected == 0 and .sim.frames.mic_failures == 0)' \
		"$CP_DIR/joined.json"
	# fuotad's log tells the outage: one line when the broker went, one when it came back,
	# and no more than a few reminders between (every 10 s).
	jq -Rn '[inputs | select(test("mqtt: "))] |
		{lost: map(select(test("connection to the broker lost"))) | length,
		 back: map(select(test("broker connection back after"))) | length,
		 still: map(select(test("broker still unreachable"))) | length}' \
		"$CP_DIR/fuotad.log" >"$CP_DIR/outage.json"
	check "fuotad logged the broker outage: lost once, back once, few lines between" \
		'.lost == 1 and .back == 1 and .still <= 2' "$CP_DIR/outage.json"
}

# Job JOB's state, its phase changes so far (the engine logs each one, setup -> session first)
# and its failed devices, into $CP_DIR/setup-NAME.json.
setup_state() { # JOB NAME
	cp_job "$1" >"$CP_DIR/job-$2.json" || fail "no job"
	cp_curl GET "/api/v1/jobs/$1/events?limit=500" >"$CP_DIR/events-$2.json" ||
		fail "no job events"
	jq -n --slurpfile j "$CP_DIR/job-$2.json" --slurpfile e "$CP_DIR/events-$2.json" \
		'{state: $j[0].state,
		  phase_changes: [$e[0].items[] | select(.data.phase_from != null)] | length,
		  failed: [$e[0].items[] | select(.kind == "device" and .data.step == "failed")]
		          | length}' >"$CP_DIR/setup-$2.json"
}

# The broker away for longer than the devices' unicast attempts, while the job sets them up: no
# request is sent or judged without the broker (an attempt then reaches nobody), so every device
# is set up once it is back and the job ends with every device verified. Before, the requests
# went on and each device lost all its attempts to the outage.
scenario_broker_setup() {
	BROKER_DIR=$CP_DIR/broker
	"$ROOT/tests/e2e/mosquitto.sh" start "$BROKER_DIR" || fail "no broker"
	CP_MQTT_PORT=$(cat "$BROKER_DIR/port")
	start brokersetup
	fleet 3000 --devices 6 --v2-fraction 1 "${SIM_COMMON[@]}" --seed 29
	JOB=$(cp_job_create "$(job_body "$FW" '{unicast_timeout_s: 2, unicast_attempts: 2}')") ||
		fail "job refused"
	# The point of the scenario: the broker goes away while the job sets its devices up (3
	# unicast round trips after uplinks 1 s apart: no device can be set up within 1 s).
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		setup_state "$JOB" before
		[ "$(jq -r .state "$CP_DIR/setup-before.json")" = pending ] || break
		sleep 1
	done
	"$ROOT/tests/e2e/mosquitto.sh" stop "$BROKER_DIR"
	check "job running in its setup phase when the broker went away" \
		'.state == "running" and .phase_changes == 0' "$CP_DIR/setup-before.json"
	# 2 attempts of a 2 s timeout after a 1 s uplink: 6 s; the broker stays away 10 s.
	sleep 10
	setup_state "$JOB" outage
	check "job still in its setup phase, no device failed, when the broker comes back" \
		'.state == "running" and .phase_changes == 0 and .failed == 0' \
		"$CP_DIR/setup-outage.json"
	"$ROOT/tests/e2e/mosquitto.sh" start "$BROKER_DIR" "$CP_MQTT_PORT" || fail "no broker restart"
	kill "$CP_EVENTS_PID" 2>/dev/null || true
	cp_events_start
	cp_job_wait "$JOB" 180 || fail "job did not finish after the broker restart"
	setup_state "$JOB" after
	check "the job's phase changes are in its events (so none was before the restart)" \
		'.phase_changes >= 4' "$CP_DIR/setup-after.json"
	sleep 1
	cp_sim_stop || fail "no simulator report"
	cp_summary "$JOB" >"$CP_DIR/summary.json"
	jq -c . "$CP_DIR/summary.json"
	check "job succeeded, every device set up after the outage, done and verified" \
		'.state == "succeeded" and .updated == 6 and .verified == 6' "$CP_DIR/summary.json"
}

# One gateway speaking JSON, one protobuf: every device verified, no gateway got a frame in the
# other encoding, GET /api/v1/gateways shows each one's.
scenario_gw_json() {
	# Odd-numbered gateways speak JSON (their acks and stats tell fuotad), the others protobuf;
	# a simulated gateway refuses a DownlinkFrame in the other encoding (bad_messages). At
	# DR7 (FSK), whose frames a gateway refuses without a frequency deviation, in both.
	start gwjson
	fleet 2000 --devices 8 --v2-fraction 1 "${SIM_COMMON[@]}" --gateways 2 --coverage 1 \
		--gw-encoding mixed --gw-stats-period 2 --seed 21
	run_job "$(job_body "$FW" '{data_rate: 7}')" 300
	check "job succeeded, every device done and verified" \
		'.state == "succeeded" and .updated == 8 and .verified == 8' "$CP_DIR/summary.json"
	check "one JSON and one protobuf gateway, both sent frames, none got a frame it refused" \
		'([.gateways[].encoding] | sort) == ["json", "protobuf"] and
		 all(.gateways[]; .frames_sent > 0 and .bad_messages == 0) and
		 .summary.bad_messages == 0' "$CP_DIR/report.json"
	cp_curl GET "/api/v1/gateways" >"$CP_DIR/gateways.json" || fail "no gateway list"
	jq -n --slurpfile g "$CP_DIR/gateways.json" --slurpfile r "$CP_DIR/report.json" \
		'{api: ($g[0].items | map({key: .gateway_id, value: .encoding}) | from_entries),
		  sim: ($r[0].gateways | map({key: .gateway_id, value: .encoding}) | from_entries)}' \
		>"$CP_DIR/encodings.json"
	check "GET /api/v1/gateways shows the encoding each gateway speaks" \
		'.api == .sim' "$CP_DIR/encodings.json"
}

# The gateway behind fuota-gw and the SARA-R5 simulator: fuota-sim's gateway is a Semtech UDP
# packet forwarder, fuota-gw carries its events and fuotad's multicast frames over the
# simulator's TCP socket (paced at 115200 bit/s): every device verified, every frame a PULL_RESP
# answered by a TX_ACK.
scenario_gw_cellular() {
	start gwcell
	cellular_gw_start
	fleet 2000 --devices 4 --v2-fraction 1 "${SIM_COMMON[@]}" --gateways 1 \
		--semtech-udp "127.0.0.1:$GW_UDP_PORT" "${GW_EUI[@]}" --gw-stats-period 2 --seed 23
	run_job "$(job_body "$FW" '{}')" 300
	check "job succeeded, every device done and verified" \
		'.state == "succeeded" and .updated == 4 and .verified == 4' "$CP_DIR/summary.json"
	check "every frame came by fuota-gw as a PULL_RESP and was answered by a TX_ACK" \
		'.gateways[0].frames_sent > 0 and .gateways[0].semtech_udp.pull_resp > 0 and
		 .gateways[0].semtech_udp.tx_ack_sent == .gateways[0].semtech_udp.pull_resp and
		 .gateways[0].bad_messages == 0' "$CP_DIR/report.json"
}

# The same as gw-cellular, and the modem loses its registration mid-campaign for 8 s (the PDP
# context with it): every device verified, no uplink lost (fuota-gw's queue empty again, none
# dropped), the backhaul back on a new session.
scenario_gw_coverage() {
	# Adaptive redundancy: the frames of the outage are made up by parity once the devices
	# say what they miss.
	CP_ADAPTIVE=1
	start gwcov
	cellular_gw_start
	fleet 4000 --devices 4 --v2-fraction 1 "${SIM_COMMON[@]}" --gateways 1 \
		--semtech-udp "127.0.0.1:$GW_UDP_PORT" "${GW_EUI[@]}" --gw-stats-period 2 --seed 29
	JOB=$(cp_job_create "$(job_body "$FW" '{redundancy_frames: 0}')") || fail "job refused"
	wait_frames 3 180
	printf 'cereg 2\n' >"$CP_DIR/modem-ctl" # coverage lost: searching, the context drops
	sleep 8
	printf 'cereg 1\n' >"$CP_DIR/modem-ctl"
	cp_job_wait "$JOB" 300 || fail "job did not finish after the coverage loss"
	sleep 6 # the next state/modem (every 5 s when it changed) tells the empty queue
	cp_sim_stop || fail "no simulator report"
	cp_summary "$JOB" >"$CP_DIR/summary.json" || fail "no summary"
	jq -c . "$CP_DIR/summary.json"
	grep -q '+UUPSDD: 0' "$CP_DIR/at.log" || fail "the modem never lost its context"
	check "job succeeded, every device done and verified" \
		'.state == "succeeded" and .updated == 4 and .verified == 4' "$CP_DIR/summary.json"
	check "fuota-gw acked every uplink the forwarder sent (stored on disk)" \
		'.gateways[0].uplinks - .gateways[0].semtech_udp.rxpk_acked <= 1' "$CP_DIR/report.json"
	# The queue drains at the line's pace, later under load: wait for state/modem to say empty.
	api_wait /api/v1/gateways '.items[0].modem.queueDepth == 0' 60 "$CP_DIR/gateways.json" ||
		fail "fuota-gw's queue never empty again: $(jq -c '.items[0].modem' "$CP_DIR/gateways.json")"
	check "no uplink lost: fuota-gw's queue empty again, none dropped, a new session after" \
		'.items[0].modem.queueDepth == 0 and .items[0].modem.queueDropped == 0 and
		 .items[0].modem.relaySessions >= 2' "$CP_DIR/gateways.json"
}

# A modem update (uart, time-scaled install) POSTed to fuotad's REST API with no session near:
# fuotad publishes the command, fuota-gw runs it, the update ends done with firmware before and
# after, the gateway list shows the new firmware and no update; the backhaul dropped for the
# install and every uplink the forwarder sent reached the broker afterwards, in order, none lost;
# the APN is restored.
scenario_gw_update_api() {
	gw_update_stack 500 31
	gw_update_post >"$CP_DIR/update.json" || fail "the modem update was refused"
	check "POST: the update scheduled, no session in the way" \
		'.state == "scheduled" and .own == true and .method == "uart"' "$CP_DIR/update.json"
	UPD=$(jq .id "$CP_DIR/update.json")
	api_wait "/api/v1/modem-updates/$UPD" '.state == "done" or .state == "failed"' 60 \
		"$CP_DIR/update.json" || fail "the modem update did not end in 60 s"
	check "the update done, firmware before and after" \
		'.state == "done" and (.firmware_before | startswith("03.15")) and
		 (.firmware_after | startswith("03.16"))' "$CP_DIR/update.json"
	api_wait /api/v1/gateways '.items[0].modem.firmware == "03.16" and
		.items[0].modem.app == "A00.02" and .items[0].modem_update == null' 15 "$CP_DIR/gateways.json" ||
		fail "the gateway list does not show the new firmware without an update"
	sleep 3 # uplinks after the install
	cp_sim_stop || fail "no simulator report"
	jq -c '.gateways[0] | {uplinks, acked: .semtech_udp.rxpk_acked}' "$CP_DIR/report.json" \
		>"$CP_DIR/sent.json"
	ACKED=$(jq .acked "$CP_DIR/sent.json")
	for _ in $(seq 100); do # fuota-gw's queue drains
		[ "$(uplinks_seen "$CP_DIR/ups.txt" | jq .unique)" -ge "$ACKED" ] && break
		sleep 0.2
	done
	uplinks_seen "$CP_DIR/ups.txt" | jq -c --slurpfile s "$CP_DIR/sent.json" '. + $s[0]' \
		>"$CP_DIR/ups.json"
	jq -c . "$CP_DIR/ups.json"
	grep -q '/command/modem-update .*"action":"start".*"method":"uart"' "$CP_DIR/gw-topics.log" ||
		fail "fuotad published no uart start command"
	grep -q '/event/modem-update .*"state":"installing"' "$CP_DIR/gw-topics.log" ||
		fail "fuota-gw reported no install"
	check "the backhaul dropped for the install (the broker heard nothing for 3 s or more)" \
		'.longest_gap_s >= 3' "$CP_DIR/ups.json"
	check "every uplink fuota-gw acked reached the broker, in order, no FCnt skipped" \
		'.acked >= 15 and .unique >= .acked and .out_of_order == 0 and .skipped == 0' \
		"$CP_DIR/ups.json"
	api_wait /api/v1/gateways '.items[0].modem.queueDepth == 0' 20 "$CP_DIR/gateways.json" ||
		fail "fuota-gw's queue never empty again"
	# (fuota-gw makes a new relay after the update: its relaySessions count starts again)
	check "fuota-gw's queue empty again, none dropped, the backhaul up" \
		'.items[0].modem.queueDepth == 0 and .items[0].modem.queueDropped == 0 and
		 .items[0].modem.linkUp == true' "$CP_DIR/gateways.json"
	grep -q 'backhaul back after the modem update, firmware 03.16' "$CP_DIR/gw.log" ||
		fail "fuota-gw did not bring the backhaul back"
	grep -q '^version 03.16,A00.02' "$CP_DIR/modem-nvm" || fail "the module is not on 03.16"
	grep -q '^cgdcont1 IP fuota.test' "$CP_DIR/modem-nvm" ||
		fail "the APN the update erased was not restored"
	printf 'campaign %s: ok: the APN restored on the new firmware\n' "$SCENARIO"
}

# The same POSTed while a job through the gateway is under way: refused (409) while its session
# has no fixed start, then planned after the session window fuotad tells the gateway and its
# guard, with a note; cancelled.
scenario_gw_update_session() {
	gw_update_stack 4000 37
	JOB=$(cp_job_create "$(job_body "$FW" '{}')") || fail "job refused"
	# Until the engine fixes the session's start, its end is unknown: 409, nothing stored.
	end=$((SECONDS + 60)) refused=0
	while :; do
		[ $SECONDS -lt $end ] || fail "the update was never planned around the session"
		code=$(gw_update_post -o "$CP_DIR/update.json" -w '%{http_code}' 2>/dev/null) || true
		[ "$code" = 201 ] && break
		{ [ "$code" = 409 ] && jq -e '.error.code == "no_free_window"' "$CP_DIR/update.json" \
			>/dev/null; } || fail "POST answered $code: $(cat "$CP_DIR/update.json")"
		refused=$((refused + 1))
		sleep 0.5
	done
	printf 'campaign %s: ok: refused %d time(s) while the session had no fixed start\n' \
		"$SCENARIO" "$refused"
	jq -c . "$CP_DIR/update.json"
	# The window fuotad tells the gateway (retained, every 5 s when it changed): this job's,
	# an open one (whole hours) until the session's start is fixed, then the session's.
	planned='.state == "scheduled" and .window_end > 0 and .planned >= .window_end + 119 and
		 (.note | test("after the multicast session window"))'
	for _ in $(seq 40); do
		grep "/command/sessions " "$CP_DIR/gw-topics.log" | tail -1 | cut -d' ' -f2- |
			jq -c --argjson job "$JOB" '.windows | map(select(.job == ($job | tostring)))' \
				>"$CP_DIR/windows.json"
		jq -n --slurpfile u "$CP_DIR/update.json" --slurpfile w "$CP_DIR/windows.json" \
			'{planned: ($u[0].planned_start | sub("(\\.[0-9]+)?\\+00:00$"; "Z") |
			  fromdateiso8601), state: $u[0].state, note: $u[0].note,
			  window: $w[0][0], window_end: $w[0][0].end}' >"$CP_DIR/planned.json"
		[ "$(jq "$planned" "$CP_DIR/planned.json")" = true ] && break
		sleep 0.3
	done
	jq -c . "$CP_DIR/planned.json"
	check "planned after the session window told to the gateway and its guard, saying why" \
		"$planned" "$CP_DIR/planned.json"
	cp_curl POST "/api/v1/modem-updates/$(jq .id "$CP_DIR/update.json")/cancel" \
		>"$CP_DIR/cancel.json" || fail "cancel refused"
	check "cancelled before it started" '.state == "cancelled"' "$CP_DIR/cancel.json"
	grep -q '/command/modem-update ' "$CP_DIR/gw-topics.log" &&
		fail "fuotad sent the gateway a start during the session"
	cp_curl POST "/api/v1/jobs/$JOB/cancel" >/dev/null || fail "job cancel refused"
}

# AppTimeReq answered for devices outside any job (registered or not).
scenario_clocksync() { # sanitize
	start clocksync
	# Devices start up to 60 s off; only device 0 is registered and none is in a job.
	cp_sim_start --devices 3 "${SIM_COMMON[@]}" --clock-offset 60 --seed 18
	cp_register 0
	sleep 6
	cp_sim_stop || fail "no simulator report"
	check "every device synchronised its clock (AppTimeAns applied)" \
		'[.devices[] | .steps | index("time_sync") != null] | all' "$CP_DIR/report.json"
	check "every device's clock within 1 s of the true time" \
		'[.devices[] | .clock_error_ms | (if . < 0 then -. else . end) < 1000] | all' "$CP_DIR/report.json"
}

# `./fuota demo --json` on a few devices (its own private stack).
scenario_demo() {
	# 8 KiB = 35 fragments: with 2 KiB (9 fragments) the parity cap of M rows left a device that
	# lost 5 of 18 frames short now and then.
	"$ROOT/scripts/demo.sh" --bin "$BIN" --devices 4 --size 8192 --json >"$CP_DIR/demo.json" \
		2>"$CP_DIR/demo.log" || { cat "$CP_DIR/demo.log" >&2; fail "demo exited non-zero"; }
	jq -c . "$CP_DIR/demo.json"
	check "one JSON line with the summary fields" \
		'has("devices") and has("updated") and has("verified") and has("frames_sent") and
		 has("nb_frag") and has("duration_s")' "$CP_DIR/demo.json"
	check "4 devices updated and verified, 35 fragments" \
		'.devices == 4 and .updated == 4 and .verified == 4 and .nb_frag == 35 and
		 .frames_sent >= 35' "$CP_DIR/demo.json"
}

declare -F "scenario_${SCENARIO//-/_}" >/dev/null || {
	echo "unknown scenario $SCENARIO (tests/e2e/campaign.sh --list)" >&2
	exit 2
}
cp_services_load "$SERVICES_ENV" || exit 1
"scenario_${SCENARIO//-/_}"
# A clean shutdown: exit status 0, which in the sanitizer build also means no ASan/UBSan report.
if [ -n "${CP_FUOTAD_PID:-}" ]; then
	cp_fuotad_stop || fail "fuotad did not shut down cleanly (exit status or sanitizer report)"
fi
printf 'campaign %s: passed\n' "$SCENARIO"
