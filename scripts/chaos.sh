#!/usr/bin/env bash
# Chaos run: firmware campaigns while fuotad is killed with SIGKILL at random instants of every
# phase of a job (setup, session wait, transmission, round wait, cleanup) and the broker and
# PostgreSQL are restarted mid-job. Then checks what must hold whatever happened:
#   - every job completed (succeeded) with every device updated and verified by the simulator;
#   - no multicast FCnt reused or sent out of order (engine_tx, per job and gateway, and the
#     simulated devices: no FCnt rejected, no MIC failure, no duplicate);
#   - no McAddr or McKey reused (one group per job, sealed McKeys all different);
#   - no TS004 v2 SessionCnt reused or lowered for a device across the jobs (job_device and
#     engine_device), no device failing with SessionCntReplay;
#   - every broker and database outage logged once when lost and once when back.
#
#   scripts/chaos.sh [--campaigns N] [--kills K] [--devices D] [--bin DIR] [--dir DIR]
#                    [--seed S] [--v2-fraction F] [--quick] [--services-early]
#
# The campaigns run one after the other on one private stack (PostgreSQL and mosquitto on free
# loopback ports under DIR), one database, one fleet (the same devices in every job, so that
# their SessionCnt must grow from job to job) and one fuotad instance id (a restart takes its
# leases back at once). K kills are spread over the campaigns, their phases taken in turn.
# --quick: time-scaled for the tests (short unicast timeout and round wait, small image).
# The broker restarts during the transmission and PostgreSQL in the session wait, or both in the
# setup with --services-early (unicast steps only: what the e2e test runs, see the README for
# what a restart during the transmission still costs).
# Prints one JSON line with the figures; exits non-zero when a check fails.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/campaign-lib.sh
. "$ROOT/scripts/campaign-lib.sh"

CAMPAIGNS=2 KILLS=4 DEVICES=24 SEED=$RANDOM QUICK=0 V2=0.5 EARLY=0
CP_BIN=$ROOT/build/bin
DIR=
while [ $# -gt 0 ]; do
	case $1 in
	--campaigns) CAMPAIGNS=$2; shift 2 ;;
	--kills) KILLS=$2; shift 2 ;;
	--devices) DEVICES=$2; shift 2 ;;
	--bin) CP_BIN=$2; shift 2 ;;
	--dir) DIR=$2; shift 2 ;;
	--seed) SEED=$2; shift 2 ;;
	--v2-fraction) V2=$2; shift 2 ;;
	--quick) QUICK=1; shift ;;
	--services-early) EARLY=1; shift ;;
	-h | --help) sed -n '2,21p' "$0"; exit 0 ;;
	*) echo "chaos: unknown option $1" >&2; exit 2 ;;
	esac
done
DIR=${DIR:-/tmp/fuota-chaos-$$}
RANDOM=$SEED
# shellcheck disable=SC2012 # the names are PostgreSQL version numbers
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)

say() { printf 'chaos: %s\n' "$*" >&2; }
FAILED=0
fail() { say "FAILED: $*"; FAILED=1; }

as_service() { if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u nobody -- "$@"); else "$@"; fi; }

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	cp_cleanup
	"$ROOT/tests/e2e/mosquitto.sh" stop "$DIR/broker" >/dev/null 2>&1 || true
	"$ROOT/scripts/stack.sh" services-down "$DIR/stack" >/dev/null 2>&1 || true
}
trap cleanup EXIT

mkdir -p "$DIR"
chmod 755 "$DIR"
"$ROOT/scripts/stack.sh" services-up "$DIR/stack" >/dev/null 2>"$DIR/stack.log" ||
	{ cat "$DIR/stack.log" >&2; exit 1; }
cp_services_load "$DIR/stack/run/services.env"
# A broker of our own that comes back on the same port (stack.sh's gets a new one).
"$ROOT/tests/e2e/mosquitto.sh" start "$DIR/broker" >/dev/null || exit 1
CP_MQTT_PORT=$(cat "$DIR/broker/port")
CP_TAG=chaos$$
CP_INSTANCE_ID=fuotad-chaos-$$
CP_ADAPTIVE=1
CP_DIR=$DIR/run
rm -rf "$CP_DIR"
mkdir -p "$CP_DIR"
if [ "$QUICK" = 1 ]; then
	export FUOTA_ENGINE_ADAPTIVE_WAIT_S=4
	UNICAST_TIMEOUT=4 IMAGE=4000
else
	UNICAST_TIMEOUT=4 IMAGE=12000
fi
cp_db_create "fuota_chaos_$$"
cp_fuotad_start || cp_fuotad_start || exit 1
cp_events_start

phase_of() { # JOB: the engine's phase, "waiting" in a round wait, "" before the start
	cp_psql "$CP_DB" "SELECT CASE WHEN e.phase = 'transmit' AND EXISTS (SELECT 1 FROM
		engine_session s WHERE s.job_id = e.job_id AND s.asked_at > 0 AND s.round > 0)
		THEN 'roundwait' ELSE e.phase END FROM engine_job e WHERE e.job_id = $1" 2>/dev/null ||
		true
}

job_state() { cp_psql "$CP_DB" "SELECT state FROM job WHERE id = $1" 2>/dev/null || echo unknown; }

# Waits until the job is in phase WANT (or beyond it: the kill then lands where the job is), then
# a random 0-1.5 s more. Prints the phase the instant falls in.
PHASES=(setup session transmit roundwait cleanup)
phase_rank() { case $1 in setup) echo 0 ;; session) echo 1 ;; transmit) echo 2 ;;
	roundwait) echo 3 ;; status) echo 4 ;; cleanup) echo 5 ;; *) echo 9 ;; esac; }
wait_phase() { # JOB WANT TIMEOUT_S
	local job=$1 want=$2 end=$((SECONDS + $3)) p
	while [ $SECONDS -lt $end ]; do
		p=$(phase_of "$job")
		case $(job_state "$job") in succeeded | failed | cancelled) echo 'done'; return ;; esac
		if [ -n "$p" ] && [ "$(phase_rank "$p")" -ge "$(phase_rank "$want")" ]; then
			sleep "0.$((RANDOM % 15))"
			p=$(phase_of "$job")
			echo "${p:-$want}"
			return
		fi
		sleep 0.2
	done
	echo timeout
}

declare -A KILLED=()
KILLS_DONE=0 PG_RESTARTS=0 BROKER_RESTARTS=0
kill_fuotad() { # PHASE
	cp_fuotad_stop KILL
	KILLED[$1]=$((${KILLED[$1]:-0} + 1))
	KILLS_DONE=$((KILLS_DONE + 1))
	sleep "$((RANDOM % 2)).$((RANDOM % 10))"
	# A free port can be taken between the look and the bind: another one then.
	cp_fuotad_start || cp_fuotad_start || { fail "fuotad did not restart"; return 1; }
}

# Waits up to 30 s for fuotad's log to hold more than N lines matching PATTERN.
log_grows() { # PATTERN N
	for _ in $(seq 1 150); do
		[ "$(grep -c "$1" "$CP_DIR/fuotad.log" || true)" -gt "$2" ] && return 0
		sleep 0.2
	done
	return 1
}

restart_pg() {
	local back
	back=$(grep -c 'database (engine): connection back' "$CP_DIR/fuotad.log" || true)
	as_service "$PGBIN/pg_ctl" -D "$DIR/stack/pg/data" -w -t 60 -m fast restart \
		>>"$DIR/pg-restart.log" 2>&1 || fail "PostgreSQL did not restart"
	PG_RESTARTS=$((PG_RESTARTS + 1))
	log_grows 'database (engine): connection back' "$back" ||
		fail "fuotad did not log the database back within 30 s"
}

restart_broker() {
	local back
	back=$(grep -c 'mqtt: broker connection back' "$CP_DIR/fuotad.log" || true)
	"$ROOT/tests/e2e/mosquitto.sh" stop "$DIR/broker" >/dev/null
	sleep 2
	"$ROOT/tests/e2e/mosquitto.sh" start "$DIR/broker" "$CP_MQTT_PORT" >/dev/null ||
		fail "broker did not restart"
	kill "$CP_EVENTS_PID" 2>/dev/null || true
	cp_events_start
	BROKER_RESTARTS=$((BROKER_RESTARTS + 1))
	log_grows 'mqtt: broker connection back' "$back" ||
		fail "fuotad did not log the broker back within 30 s"
}

service_restart() { # CAMPAIGN BROKER_PHASE PG_PHASE: the broker in odd campaigns, else PostgreSQL
	local at
	if [ $(($1 % 2)) = 1 ]; then
		at=$(wait_phase "$JOB" "$2" 240)
		[ "$at" != "done" ] && { say "campaign $1: broker restart in phase $at"; restart_broker; }
	else
		at=$(wait_phase "$JOB" "$3" 240)
		[ "$at" != "done" ] && { say "campaign $1: PostgreSQL restart in phase $at"; restart_pg; }
	fi
	return 0
}

head -c "$IMAGE" /dev/urandom >"$CP_DIR/fw.bin"
JOBS=() K=0 NEXT_PHASE=0
for c in $(seq 1 "$CAMPAIGNS"); do
	# The same fleet every time (one seed): the devices' SessionCnt must grow across the jobs.
	cp_sim_start --devices "$DEVICES" --v2-fraction "$V2" --loss 0.05 --uplink-period 1 \
		--gw-duty-cycle 0 --clock-offset 20 --seed "$SEED" --image "$CP_DIR/fw.bin" ||
		{ fail "fuota-sim did not start"; break; }
	cp "$CP_DIR/fleet.json" "$CP_DIR/fleet-$c.json"
	if [ "$c" = 1 ]; then
		# shellcheck disable=SC2119 # no index: every device of the fleet
		cp_register || { fail "devices not registered"; break; }
		FW=$(cp_firmware "$CP_DIR/fw.bin") || { fail "firmware refused"; break; }
	fi
	body=$(jq -c --argjson fw "$FW" --argjson t "$UNICAST_TIMEOUT" '{name: "chaos",
		firmware_id: $fw, devices: [.devices[].dev_eui], redundancy_frames: 0,
		unicast_timeout_s: $t, unicast_attempts: 3, data_rate: 6, frequency_hz: 869525000,
		region: "EU868", multicast_class: "C"}' "$CP_DIR/fleet.json")
	JOB=$(cp_job_create "$body") || { fail "job refused"; break; }
	JOBS+=("$JOB")
	# This campaign's share of the kills, and one service restart (broker, then PostgreSQL).
	[ "$EARLY" = 1 ] && service_restart "$c" setup setup
	n=$(((KILLS - K + CAMPAIGNS - c) / (CAMPAIGNS - c + 1)))
	targets=()
	for _ in $(seq 1 "$n"); do
		targets+=("${PHASES[$((NEXT_PHASE % ${#PHASES[@]}))]}")
		NEXT_PHASE=$((NEXT_PHASE + 1))
	done
	# In the order the job goes through them: a later phase first would leave the others none.
	mapfile -t targets < <(for t in "${targets[@]}"; do echo "$(phase_rank "$t") $t"; done |
		sort -n | cut -d' ' -f2)
	for want in "${targets[@]}"; do
		at=$(wait_phase "$JOB" "$want" 240)
		[ "$at" = "done" ] && break
		say "campaign $c job $JOB: SIGKILL in phase $at (aimed at $want)"
		kill_fuotad "$at" || break
		K=$((K + 1))
	done
	[ "$EARLY" = 0 ] && service_restart "$c" transmit session
	cp_job_wait "$JOB" 420 || fail "job $JOB did not finish"
	sleep 1
	cp_sim_stop || fail "campaign $c: no simulator report"
	cp "$CP_DIR/report.json" "$CP_DIR/report-$c.json"
	cp_summary "$JOB" >"$CP_DIR/summary-$c.json" || fail "campaign $c: no summary"
	jq -c . "$CP_DIR/summary-$c.json" >&2
	jq -e --argjson n "$DEVICES" '.state == "succeeded" and .devices == $n and .updated == $n and
		.verified == $n' "$CP_DIR/summary-$c.json" >/dev/null ||
		fail "campaign $c: job $JOB not completed with every device updated and verified"
	jq -e 'all(.devices[]; .frames.fcnt_rejected == 0 and .frames.mic_failures == 0 and
		.frames.duplicates == 0)' "$CP_DIR/report-$c.json" >/dev/null ||
		fail "campaign $c: a device rejected an FCnt, failed a MIC or saw a duplicate"
done
cp_fuotad_stop || fail "fuotad did not shut down cleanly"

# What the database says of every job of the run.
q() { cp_psql "$CP_DB" "$1"; }
FCNT_BAD=$(q "SELECT count(*) FROM (SELECT fcnt, fcnt > lag(fcnt, 1, -1) OVER (PARTITION BY
	job_id, gateway_id ORDER BY sent_ms, fcnt) AS ordered, count(*) OVER (PARTITION BY job_id,
	gateway_id, fcnt) AS uses FROM engine_tx) t WHERE NOT ordered OR uses > 1")
N_GROUPS=$(q "SELECT count(*) FROM multicast_group")
ADDRS=$(q "SELECT count(DISTINCT mc_addr) FROM multicast_group")
KEYS=$(q "SELECT count(DISTINCT mc_key_box) FROM multicast_group")
CNT_BAD=$(q "SELECT count(*) FROM (SELECT session_cnt, session_cnt > lag(session_cnt, 1, 0)
	OVER (PARTITION BY dev_eui ORDER BY job_id) AS up FROM job_device
	WHERE session_cnt IS NOT NULL) t WHERE NOT up")
CNT_AHEAD=$(q "SELECT count(*) FROM job_device j JOIN engine_device e USING (dev_eui)
	WHERE j.session_cnt > e.session_cnt")
V2_JOBS=$(q "SELECT count(*) FROM job_device WHERE session_cnt IS NOT NULL")
REPLAY=$(q "SELECT count(*) FROM job_device WHERE failure_reason LIKE '%SessionCntReplay%'")
[ "$FCNT_BAD" = 0 ] || fail "$FCNT_BAD multicast frames reused an FCnt or went out of order"
[ "$N_GROUPS" = "$ADDRS" ] || fail "a McAddr was used by two groups"
[ "$N_GROUPS" = "$KEYS" ] || fail "a sealed McKey was used by two groups"
{ [ "$CNT_BAD" = 0 ] && [ "$CNT_AHEAD" = 0 ] && [ "$REPLAY" = 0 ]; } ||
	fail "v2 SessionCnt reused or lowered ($CNT_BAD, $CNT_AHEAD ahead, $REPLAY replays)"
[ "$V2_JOBS" -gt 0 ] || fail "no v2 device in the run: SessionCnt not exercised"
# Every outage said once lost, once back (the broker's by the engine; the database's by each
# pool that met it).
LOG=$CP_DIR/fuotad.log
MQ_LOST=$(grep -c 'mqtt: connection to the broker lost' "$LOG" || true)
MQ_BACK=$(grep -c 'mqtt: broker connection back' "$LOG" || true)
DB_LOST=$(grep -c 'database (engine): connection lost' "$LOG" || true)
DB_BACK=$(grep -c 'database (engine): connection back' "$LOG" || true)
DB_LINES=$(grep -Ec '(warn|error) +database' "$LOG" || true)
if [ "$BROKER_RESTARTS" -gt 0 ]; then
	{ [ "$MQ_LOST" -ge 1 ] && [ "$MQ_BACK" -ge 1 ]; } || fail "broker outage not logged"
fi
if [ "$PG_RESTARTS" -gt 0 ]; then
	{ [ "$DB_LOST" -ge 1 ] && [ "$DB_BACK" -ge 1 ]; } || fail "database outage not logged"
	[ "$DB_LINES" -le $((PG_RESTARTS * 12)) ] ||
		fail "$DB_LINES database warnings for $PG_RESTARTS restarts"
fi
COMPLETED=0 UPDATED=0 VERIFIED=0 TOTAL=0
for c in $(seq 1 "${#JOBS[@]}"); do
	[ -s "$CP_DIR/summary-$c.json" ] || continue
	f=$CP_DIR/summary-$c.json
	ok=$(jq 'if .state == "succeeded" then 1 else 0 end' "$f")
	up=$(jq .updated "$f") ver=$(jq .verified "$f") n=$(jq .devices "$f")
	COMPLETED=$((COMPLETED + ok)) UPDATED=$((UPDATED + up)) VERIFIED=$((VERIFIED + ver))
	TOTAL=$((TOTAL + n))
done
kills_json=$(for p in "${!KILLED[@]}"; do printf '"%s":%s\n' "$p" "${KILLED[$p]}"; done |
	paste -sd, -)
printf '{"campaigns":%d,"jobs_completed":%d,"devices":%d,"devices_updated":%d,' \
	"$CAMPAIGNS" "$COMPLETED" "$TOTAL" "$UPDATED"
printf '"devices_verified":%d,"kills":%d,"kills_by_phase":{%s},"broker_restarts":%d,' \
	"$VERIFIED" "$KILLS_DONE" "$kills_json" "$BROKER_RESTARTS"
printf '"postgres_restarts":%d,"fcnt_reused_or_out_of_order":%s,"groups":%s,' \
	"$PG_RESTARTS" "$FCNT_BAD" "$N_GROUPS"
printf '"mc_addr_distinct":%s,"mc_key_distinct":%s,"session_cnt_reused":%s,' \
	"$ADDRS" "$KEYS" "$CNT_BAD"
printf '"v2_sessions":%s,"log_broker_lost_back":[%s,%s],"log_db_lost_back":[%s,%s],' \
	"$V2_JOBS" "$MQ_LOST" "$MQ_BACK" "$DB_LOST" "$DB_BACK"
printf '"log_db_warnings":%s,"passed":%s}\n' "$DB_LINES" "$([ $FAILED = 0 ] && echo true || echo false)"
exit "$FAILED"
