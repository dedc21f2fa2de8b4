#!/usr/bin/env bash
# Campaign figures (`./fuota bench campaign`), each on its own private stack (PostgreSQL +
# mosquitto from scripts/stack.sh services-up under /tmp, fuotad, fuota-sim), driven through the
# REST API with scripts/campaign-lib.sh:
#
#   adaptive   N devices (1,000) at 10 % independent multicast loss, TS004 v2, adaptive
#              redundancy, at two image sizes (64 KiB, M = 275, and 256 KiB, M = 1,097; --size
#              for one): frames sent / (nb_frag / 0.9); the oracle's count (the simulator's
#              summary.frames_needed: the fixed count that would have sufficed for exactly this
#              run's losses), its ratio and sent / oracle; the rounds (multicast status requests
#              per session, where the server keeps them); the job's duration; then the fixed
#              redundancy a user would have had to pick for the same completion (every device
#              rebuilt the image), found by replaying the same loss model through the project's
#              decoder (fuota-tool frag decode, one seed per device) over the image's own frames
#              (BENCH_FIXED=0 skips it: it does not depend on the server)
#   clocksync  AppTimeReq answers per second end to end (fuota-sim -> mosquitto -> fuotad ->
#              mosquitto -> fuota-sim) with every device asking at every uplink
#   scale      fuotad's CPU time and memory (/proc/PID: utime + stime, VmRSS, VmHWM) sampled
#              during a job for many devices (10,000, each sending an uplink every 10 s), the
#              uplinks fuotad handled per second and its inbound queue (its 10 s stats lines),
#              and the database transactions per uplink (pg_stat_database)
#
#   bench/campaign.sh BIN_DIR [--only adaptive|clocksync|scale] [--devices N]
#                     [--scale-devices N] [--scale-period S] [--scale-timeout S] [--size BYTES]...
#                     [--clocksync-devices N] [--seconds S]
#
# Radio: EU868 869.525 MHz DR6, duty-cycle enforcement off (the simulated gateway too), class C
# frames at a GPS instant. Prints one human line per figure and, at the end, one JSON line with
# all of them.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/campaign-lib.sh
. "$ROOT/scripts/campaign-lib.sh"

CP_BIN=${1:?usage: bench/campaign.sh BIN_DIR [options]}
shift
ONLY='' DEVICES=1000 SCALE_DEVICES=10000 SCALE_PERIOD=10 SCALE_TIMEOUT='' SIZES='' CS_DEVICES=20000 SECONDS_CS=12
while [ $# -gt 0 ]; do
	case $1 in
	--only) ONLY=${2:?}; shift ;;
	--devices) DEVICES=${2:?}; shift ;;
	--scale-devices) SCALE_DEVICES=${2:?}; shift ;;
	--scale-period) SCALE_PERIOD=${2:?}; shift ;;
	--scale-timeout) SCALE_TIMEOUT=${2:?}; shift ;;
	--size) SIZES="$SIZES ${2:?}"; shift ;;
	--clocksync-devices) CS_DEVICES=${2:?}; shift ;;
	--seconds) SECONDS_CS=${2:?}; shift ;;
	*) echo "bench/campaign.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
SIZES=${SIZES:-65536 262144}
# A class A device answers at its next uplink, a period after the request reached it: the
# unicast timeout must be longer than the period (15 s for the 10 s default).
SCALE_TIMEOUT=${SCALE_TIMEOUT:-$(awk "BEGIN{printf \"%d\", $SCALE_PERIOD * 1.5 < $SCALE_PERIOD + 5 ? $SCALE_PERIOD + 5 : $SCALE_PERIOD * 1.5}")}

say() { printf 'bench campaign: %s\n' "$*" >&2; }
RESULTS='{}'
WORK=
STACK_UP=0

stop_stack() {
	cp_cleanup
	if [ "$STACK_UP" = 1 ]; then
		"$ROOT/scripts/stack.sh" services-down "$WORK/stack" >/dev/null 2>&1 || true
		STACK_UP=0
	fi
}

finish() {
	local rc=$?
	stop_stack
	[ -n "$WORK" ] && [ "$rc" -eq 0 ] && [ "${BENCH_KEEP:-0}" = 0 ] && rm -rf "$WORK"
	[ "$rc" -ne 0 ] && [ -n "$WORK" ] && say "logs kept in $WORK"
	exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

# A fresh private stack and fuotad for one figure.
new_stack() { # NAME
	stop_stack
	[ -n "$WORK" ] && rm -rf "$WORK"
	WORK=$(mktemp -d "/tmp/fuota-bench-$1.XXXXXX")
	chmod 755 "$WORK"
	CP_DIR=$WORK/run
	mkdir -p "$CP_DIR"
	"$ROOT/scripts/stack.sh" services-up "$WORK/stack" 2>"$CP_DIR/stack.log"
	STACK_UP=1
	cp_services_load "$WORK/stack/run/services.env"
	cp_db_create fuota_bench
	CP_TOKEN=
	CP_LOG_LEVEL=${BENCH_LOG_LEVEL:-warn}
	cp_fuotad_start
	cp_events_start
}

# fuotad's CPU seconds (utime + stime) and resident memory in KiB, from /proc.
proc_cpu_s() {
	awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"
}
proc_kib() { # PID FIELD (VmRSS, VmHWM)
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}
# Transactions committed or rolled back in the bench's database so far (every statement outside
# BEGIN/COMMIT is one).
db_xacts() {
	cp_psql "$CP_DB" "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$CP_DB'"
}

job_json() { # FW_ID REDUNDANCY TIMEOUT_S: a class C job for every device of the fleet
	jq -c --argjson fw "$1" --argjson r "$2" --argjson t "$3" '{
		name: "bench", firmware_id: $fw, devices: [.devices[].dev_eui],
		redundancy_frames: $r, unicast_timeout_s: $t, unicast_attempts: 2, data_rate: 6,
		frequency_hz: 869525000, region: "EU868", multicast_class: "C"}' "$CP_DIR/fleet.json"
}

# The smallest fixed parity count R for which every one of n simulated devices, each losing
# frames independently with probability loss %, rebuilds the image from its M + R frames.
fixed_redundancy() { # IMAGE M N LOSS
	local img=$1 m=$2 n=$3 loss=$4 lo=0 hi mid frg=$CP_DIR/fixed.frg s
	hi=$m
	all_decode() { # R
		# R = ceil(P / 100 * M): a percentage a hair below R / M gives exactly R rows.
		"$CP_BIN/fuota-tool" frag encode --frag-size 239 --ts004 2 --redundancy-percent \
			"$(awk "BEGIN{r = $1 > 0 ? ($1 - 0.001) * 100 / $m : 0; printf \"%.6f\", r}")" \
			"$img" "$frg" >/dev/null 2>&1
		for s in $(seq 1 "$n"); do
			"$CP_BIN/fuota-tool" frag decode --ts004 2 --loss "$loss" --seed "$s" "$frg" \
				"$CP_DIR/fixed.out" >/dev/null 2>&1 || return 1
		done
	}
	while [ "$lo" -lt "$hi" ]; do
		mid=$(((lo + hi) / 2))
		if all_decode "$mid"; then hi=$mid; else lo=$((mid + 1)); fi
	done
	echo "$lo"
}

bench_adaptive() { # SIZE
	local size=$1 fw job s m sent ratio r_fixed t0 oracle rounds fixed='null' key
	say "adaptive: $DEVICES devices, 10 % loss, a $size-byte image (TS004 v2, adaptive redundancy)"
	CP_ADAPTIVE=1 CP_CLASS_C_TIMING=gps
	new_stack adaptive
	head -c "$size" /dev/urandom >"$CP_DIR/fw.bin"
	# The devices' decoder memory: the image, its matrix (M^2 / 8 bytes) and more (the
	# simulator's default, 256 KiB, is too small from M = 1,097 on).
	cp_sim_start --devices "$DEVICES" --v2-fraction 1 --loss 0.1 --uplink-period 5 \
		--gw-duty-cycle 0 --image "$CP_DIR/fw.bin" --seed 21 \
		--mem-limit $((size * 2 + 1048576))
	# shellcheck disable=SC2119 # no index given: every device of the fleet
	cp_register
	fw=$(cp_firmware "$CP_DIR/fw.bin")
	t0=$SECONDS
	job=$(cp_job_create "$(job_json "$fw" 0 12)")
	cp_job_wait "$job" 3600
	sleep 1
	cp_sim_stop
	s=$(cp_summary "$job")
	say "adaptive: $(printf '%s' "$s" | jq -c '{updated, verified, devices, frames_sent, nb_frag, duration_s}') in $((SECONDS - t0)) s"
	m=$(printf '%s' "$s" | jq .nb_frag)
	sent=$(printf '%s' "$s" | jq .frames_sent)
	oracle=$(jq '.summary.frames_needed // 0' "$CP_DIR/report.json")
	# Multicast status requests per session (engine_session.round); a server without them: null.
	rounds=$(cp_psql "$CP_DB" "SELECT max(round) FROM engine_session" 2>/dev/null || true)
	rounds=${rounds:-null}
	ratio=$(awk "BEGIN{printf \"%.3f\", $sent * 0.9 / $m}")
	say "adaptive: frames sent / (nb_frag / 0.9) = $sent / $(awk "BEGIN{printf \"%.1f\", $m / 0.9}") = $ratio; rounds $rounds; job $(printf '%s' "$s" | jq .duration_s) s"
	say "adaptive: oracle (frames_needed) $oracle = $(awk "BEGIN{printf \"%.3f\", $oracle * 0.9 / $m}") x (nb_frag / 0.9); sent / oracle = $(awk "BEGIN{printf \"%.3f\", ($oracle > 0 ? $sent / $oracle : 0)}")"
	if [ "${BENCH_FIXED:-1}" != 0 ]; then
		say "fixed: searching the smallest parity count with which all $DEVICES devices decode (10 % loss, one decoder run per device)"
		r_fixed=$(fixed_redundancy "$CP_DIR/fw.bin" "$m" "$DEVICES" 10)
		say "fixed: $r_fixed parity frames ($(awk "BEGIN{printf \"%.1f\", $r_fixed * 100 / $m}") % of M): $((m + r_fixed)) frames, ratio $(awk "BEGIN{printf \"%.3f\", ($m + $r_fixed) * 0.9 / $m}")"
		fixed=$(jq -nc --argjson rf "$r_fixed" --argjson m "$m" \
			'{parity: $rf, frames: ($m + $rf), ratio: (($m + $rf) * 0.9 / $m * 1000 | round / 1000)}')
	fi
	key=adaptive
	[ "$size" = 65536 ] || key=adaptive_$size
	RESULTS=$(jq -c --argjson s "$s" --argjson ratio "$ratio" --argjson fixed "$fixed" \
		--argjson m "$m" --argjson o "$oracle" --argjson rounds "$rounds" --arg key "$key" \
		'. + {($key): ($s + {ratio: $ratio, rounds: $rounds, oracle: {frames: $o,
		ratio: ($o * 0.9 / $m * 1000 | round / 1000),
		sent_over_oracle: (if $o > 0 then ($s.frames_sent / $o * 1000 | round / 1000) else null end)},
		fixed: $fixed})}' <<<"$RESULTS")
}

bench_clocksync() {
	local pid c0 c1 t0 t1 up dl rate synced
	# TS003 answers only a request whose correction is not 0 (or that asks for an answer):
	# every device starts 2..60 s off and sends its first AppTimeReq within the first 4 s.
	say "clocksync: $CS_DEVICES devices asking within 4 s, their clocks up to 60 s off; $SECONDS_CS s"
	CP_ADAPTIVE=0
	new_stack clocksync
	cp_sim_start --devices "$CS_DEVICES" --uplink-period 4 --clock-offset 60 \
		--seed 22 --timeout "$SECONDS_CS"
	pid=$CP_FUOTAD_PID
	c0=$(proc_cpu_s "$pid")
	t0=$(date +%s.%N)
	wait "$CP_SIM_PID" || true
	t1=$(date +%s.%N)
	c1=$(proc_cpu_s "$pid")
	CP_SIM_PID=
	up=$(jq .summary.uplinks "$CP_DIR/report.json")
	dl=$(jq .summary.downlinks "$CP_DIR/report.json")
	rate=$(awk "BEGIN{printf \"%.0f\", $dl / ($t1 - $t0)}")
	synced=$(jq '[.devices[] | select(.steps | index("time_sync"))] | length' "$CP_DIR/report.json")
	say "clocksync: $up uplinks, $dl AppTimeAns received, $synced devices synchronised in $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s: $rate answers/s averaged over the run (fuotad CPU $(awk "BEGIN{printf \"%.0f\", 100 * ($c1 - $c0) / ($t1 - $t0)}") % of a core)"
	RESULTS=$(jq -c --argjson up "$up" --argjson dl "$dl" --argjson rate "$rate" \
		--argjson synced "$synced" --argjson cpu "$(awk "BEGIN{print ($c1 - $c0) / ($t1 - $t0)}")" \
		'. + {clocksync: {uplinks: $up, answers: $dl, synced: $synced, answers_per_s: $rate,
		fuotad_cpu_cores: ($cpu * 100 | round / 100)}}' <<<"$RESULTS")
}

bench_scale() {
	local fw job pid c0 x0 t0 s cpu peak_rss hwm samples size=16384 up xacts qmax rate
	say "scale: $SCALE_DEVICES devices (an uplink every $SCALE_PERIOD s), a $size-byte image, 20 % fixed parity, unicast timeout $SCALE_TIMEOUT s"
	CP_ADAPTIVE=0 CP_CLASS_C_TIMING=gps BENCH_LOG_LEVEL=info
	# BENCH_PGSS=1: the statements' own figures (pg_stat_statements) in $CP_DIR/statements.txt.
	new_stack scale # stack.sh preloads pg_stat_statements
	[ "${BENCH_PGSS:-0}" = 1 ] && cp_psql "$CP_DB" "CREATE EXTENSION pg_stat_statements" >/dev/null
	BENCH_LOG_LEVEL=
	samples=$CP_DIR/samples.tsv
	head -c "$size" /dev/urandom >"$CP_DIR/fw.bin"
	cp_sim_start --devices "$SCALE_DEVICES" --v2-fraction 1 --loss 0.05 \
		--uplink-period "$SCALE_PERIOD" --gw-duty-cycle 0 --gateways 8 --coverage 2 \
		--image "$CP_DIR/fw.bin" --seed 23
	t0=$SECONDS
	# shellcheck disable=SC2119 # no index given: every device of the fleet
	cp_register
	say "scale: $SCALE_DEVICES devices registered in $((SECONDS - t0)) s"
	fw=$(cp_firmware "$CP_DIR/fw.bin")
	pid=$CP_FUOTAD_PID
	c0=$(proc_cpu_s "$pid")
	x0=$(db_xacts)
	t0=$SECONDS
	job=$(cp_job_create "$(job_json "$fw" 14 "$SCALE_TIMEOUT")")
	say "scale: job $job created in $((SECONDS - t0)) s"
	sample() { # JOB STATE
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$((SECONDS - t0))" "$(proc_cpu_s "$pid")" \
			"$(proc_kib "$pid" VmRSS)" "$(proc_kib "$pid" VmHWM)" "$2" "$(db_xacts)" \
			>>"$samples"
		sleep 1
	}
	cp_job_wait "$job" 3600 sample
	sleep 1
	cp_sim_stop
	s=$(cp_summary "$job")
	cpu=$(awk -v c0="$c0" 'END { printf "%.1f", $2 - c0 }' "$samples")
	peak_rss=$(sort -t$'\t' -k3 -n "$samples" | tail -1 | cut -f3)
	hwm=$(tail -1 "$samples" | cut -f4)
	up=$(jq .summary.uplinks "$CP_DIR/report.json")
	xacts=$(($(tail -1 "$samples" | cut -f6) - x0))
	# fuotad's own stats lines (every 10 s): the deepest inbound queue and the best rate.
	qmax=$(sed -n 's/.*queue [0-9]* (max \([0-9]*\)).*/\1/p' "$CP_DIR/fuotad.log" | sort -n | tail -1)
	rate=$(sed -n 's/.*engine: \([0-9]*\) uplinks\/s.*/\1/p' "$CP_DIR/fuotad.log" | sort -n | tail -1)
	[ "${BENCH_PGSS:-0}" = 1 ] && cp_psql "$CP_DB" "SELECT calls, round(total_exec_time)::bigint AS ms,
		rows, left(regexp_replace(query, '\s+', ' ', 'g'), 160) FROM pg_stat_statements
		ORDER BY total_exec_time DESC LIMIT 25" >"$CP_DIR/statements.txt"
	say "scale: $(printf '%s' "$s" | jq -c '{state, updated, verified, devices, failed, frames_sent, nb_frag, duration_s, failures}')"
	say "scale: fuotad used $cpu CPU s over $((SECONDS - t0)) s of job ($(awk "BEGIN{printf \"%.0f\", 100 * $cpu / ($SECONDS - $t0)}") % of a core), RSS peak $((peak_rss / 1024)) MiB sampled (VmHWM $((hwm / 1024)) MiB)"
	say "scale: $up uplinks offered ($(awk "BEGIN{printf \"%.0f\", $SCALE_DEVICES / $SCALE_PERIOD}")/s), fuotad handled up to ${rate:-0}/s (10 s average), inbound queue at most ${qmax:-0} messages; $xacts database transactions ($(awk "BEGIN{printf \"%.2f\", $xacts / ($up > 0 ? $up : 1)}") per uplink)"
	RESULTS=$(jq -c --argjson s "$s" --argjson cpu "$cpu" --argjson rss "$peak_rss" \
		--argjson hwm "$hwm" --argjson wall "$((SECONDS - t0))" --argjson up "$up" \
		--argjson xacts "$xacts" --argjson qmax "${qmax:-0}" --argjson rate "${rate:-0}" \
		--argjson period "$SCALE_PERIOD" '. + {scale: ($s +
		{fuotad_cpu_s: $cpu, wall_s: $wall, fuotad_rss_peak_kib: $rss, fuotad_vmhwm_kib: $hwm,
		uplink_period_s: $period, uplinks: $up, uplinks_per_s_handled_max: $rate,
		inbound_queue_max: $qmax, db_transactions: $xacts})}' <<<"$RESULTS")
}

case ${ONLY:-all} in
adaptive) for z in $SIZES; do bench_adaptive "$z"; done ;;
clocksync) bench_clocksync ;;
scale) bench_scale ;;
all) for z in $SIZES; do bench_adaptive "$z"; done; bench_clocksync; bench_scale ;;
*) echo "bench/campaign.sh: --only adaptive|clocksync|scale" >&2; exit 2 ;;
esac
printf '%s\n' "$RESULTS"
