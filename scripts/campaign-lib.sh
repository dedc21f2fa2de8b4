# shellcheck shell=bash
# A firmware campaign driven from the shell, through fuotad's REST API: sourced by scripts/demo.sh,
# the campaign end-to-end tests (tests/e2e/campaign.sh) and the campaign benchmark
# (bench/campaign.sh). Needs bash, curl, jq; mosquitto_sub for the job's MQTT events.
#
# The caller sets, before calling anything:
#   CP_DIR        a private work directory (logs, fleet, report, pid files)
#   CP_BIN        the directory holding fuotad and fuota-sim
#   CP_PG_HOST CP_PG_PORT CP_PG_USER CP_PG_PASSWORD   a PostgreSQL server (cp_services_load)
#   CP_MQTT_HOST CP_MQTT_PORT                           a broker
# and may set the engine's settings, passed to fuotad as FUOTA_<SECTION>_<KEY> variables:
#   CP_DUTY_CYCLE (off: no duty-cycle enforcement for the simulated network, the default; on),
#   CP_ADAPTIVE (0/1: adaptive redundancy),
#   CP_CLASS_C_TIMING (immediately, fuotad's default, or gps: class C frames at a GPS instant),
#   CP_TAG (a word: every MQTT topic prefix and the shared-subscription group get it, so that
#   several campaigns share one broker without hearing each other).
#
# Functions (each returns non-zero and says why on stderr when it fails):
#   cp_services_load FILE        reads scripts/stack.sh's services.env into CP_PG_* / CP_MQTT_*
#   cp_db_create NAME            a fresh database NAME (dropped first) on that server; CP_DSN
#   cp_fuotad_start              fuotad on a free loopback port (migrates first); CP_URL, CP_TOKEN
#   cp_fuotad_stop [SIGNAL]      TERM (default, waits for the clean exit) or KILL
#   cp_events_start              mosquitto_sub on the job events into $CP_DIR/events.log
#   cp_sim_start ARGS...         fuota-sim in the background (fleet in $CP_DIR/fleet.json once it is
#                                subscribed, report in $CP_DIR/report.json when it stops)
#   cp_sim_stop                  SIGTERM, waits for the report
#   cp_register [INDEX...]       POSTs the fleet's devices (all, or those indices) to /api/v1/devices
#   cp_firmware FILE             uploads an image; prints its id
#   cp_job_create JSON           POST /api/v1/jobs; prints the job id
#   cp_job JOB                   GET /api/v1/jobs/JOB
#   cp_job_devices JOB           every device of the job, one JSON array (all pages)
#   cp_job_wait JOB TIMEOUT_S [FN] polls until the job is succeeded/failed/cancelled, calling FN JOB
#                                after every poll; returns 1 on timeout
#   cp_frames JOB                the last progress event's "frames_sent ..." (engine's counters)
#   cp_summary JOB               the campaign summary JSON (API + simulator report + events)
#   cp_cleanup                   stops what this library started (for a trap)

cp_die() { printf 'campaign: %s\n' "$*" >&2; return 1; }

# Below Linux's ephemeral range (32768-60999): a port there may be taken between this check and
# fuotad's bind by the local end of any client connection on the machine.
cp_free_port() {
	local p
	for _ in $(seq 1 100); do
		p=$((20000 + RANDOM % 12000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
	done
	cp_die "no free port"
}

cp_services_load() { # FILE: scripts/stack.sh's services.env
	local f=$1
	[ -r "$f" ] || cp_die "cannot read $f" || return 1
	CP_PG_HOST=$(sed -n 's/^PG_HOST=//p' "$f")
	CP_PG_PORT=$(sed -n 's/^PG_PORT=//p' "$f")
	CP_PG_USER=$(sed -n 's/^PG_USER=//p' "$f")
	CP_PG_PASSWORD=$(sed -n 's/^PG_PASSWORD=//p' "$f")
	CP_MQTT_HOST=127.0.0.1
	CP_MQTT_PORT=$(sed -n 's/^MQTT_PORT=//p' "$f")
	{ [ -n "$CP_PG_PORT" ] && [ -n "$CP_MQTT_PORT" ]; } || cp_die "$f lacks PG_PORT or MQTT_PORT"
}

cp_psql() { # DBNAME SQL: one query, unaligned tuples
	PGPASSWORD=$CP_PG_PASSWORD PGOPTIONS="-c client_min_messages=warning" psql -X -q -h "$CP_PG_HOST" -p "$CP_PG_PORT" -U "$CP_PG_USER" \
		-d "$1" -v ON_ERROR_STOP=1 -tAc "$2"
}

cp_db_create() { # NAME
	local name=$1
	cp_psql postgres "DROP DATABASE IF EXISTS $name" >/dev/null &&
		cp_psql postgres "CREATE DATABASE $name" >/dev/null ||
		cp_die "cannot create database $name" || return 1
	# shellcheck disable=SC2034 # read by the scripts that source this file
	CP_DB=$name
	CP_DSN="host=$CP_PG_HOST port=$CP_PG_PORT dbname=$name user=$CP_PG_USER password=$CP_PG_PASSWORD"
}

# fuotad's configuration, all from the environment (FUOTA_<SECTION>_<KEY>), in a subshell.
cp_fuotad_env() {
	export FUOTA_DATABASE_DSN=$CP_DSN FUOTA_DATABASE_POOL_SIZE=4
	export FUOTA_HTTP_BIND=127.0.0.1 FUOTA_HTTP_PORT=${CP_HTTP_PORT:-0} FUOTA_HTTP_THREADS=4
	export FUOTA_MQTT_URL=tcp://$CP_MQTT_HOST:$CP_MQTT_PORT
	export FUOTA_MQTT_APPLICATION_TOPIC=$CP_APP_TOPIC FUOTA_MQTT_EVENT_TOPIC=$CP_EVENT_TOPIC
	export FUOTA_MQTT_SHARE_GROUP=$CP_SHARE_GROUP FUOTA_MQTT_CLIENT_ID=fuotad-$$-$RANDOM
	# One instance id for every start of this campaign's fuotad: a restart takes its leases
	# back at once, as a fuotad restarted with its configuration does.
	export FUOTA_ENGINE_INSTANCE_ID=${CP_INSTANCE_ID:-fuotad${CP_TAG:+-$CP_TAG}-$$}
	export FUOTA_SECURITY_MASTER_KEY=$CP_MASTER_KEY FUOTA_LOG_LEVEL=${CP_LOG_LEVEL:-info}
	export FUOTA_ENGINE_REGIONS=EU868:$CP_GW_PREFIX:${CP_DUTY_CYCLE:-off}
	export FUOTA_ENGINE_ADAPTIVE_REDUNDANCY=${CP_ADAPTIVE:-0}
	[ -z "${CP_CLASS_C_TIMING:-}" ] || export FUOTA_ENGINE_CLASS_C_TIMING=$CP_CLASS_C_TIMING
	unset FUOTA_CONFIG
}

# The MQTT topic prefixes of fuotad and fuota-sim (with CP_TAG: private ones).
cp_topics() {
	local tag=${CP_TAG:+-$CP_TAG}
	CP_APP_TOPIC=application$tag CP_GW_PREFIX=eu868$tag CP_EVENT_TOPIC=fuota$tag
	CP_SHARE_GROUP=fuotad$tag
}

cp_fuotad_start() {
	cp_topics
	[ -x "$CP_BIN/fuotad" ] || cp_die "fuotad not built: $CP_BIN/fuotad" || return 1
	mkdir -p "$CP_DIR"
	if [ -z "${CP_MASTER_KEY:-}" ]; then
		CP_MASTER_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	fi
	(cp_fuotad_env && "$CP_BIN/fuotad" migrate) >>"$CP_DIR/fuotad.log" 2>&1 ||
		cp_die "fuotad migrate failed (see $CP_DIR/fuotad.log)" || return 1
	if [ -z "${CP_TOKEN:-}" ]; then
		CP_TOKEN=$(cp_fuotad_env && "$CP_BIN/fuotad" token create --admin --name campaign \
			2>>"$CP_DIR/fuotad.log") || cp_die "token creation failed" || return 1
	fi
	# A port found free may still be taken before fuotad binds it (tests run side by side):
	# another port is tried when fuotad says it cannot listen.
	local try
	for try in 1 2 3 4 5; do
		CP_HTTP_PORT=$(cp_free_port) || return 1
		cp_fuotad_launch && return 0
		tail -n 1 "$CP_DIR/fuotad.log" | grep -q 'cannot listen' || break
		printf 'campaign: port %s was taken (try %s), another one\n' "$CP_HTTP_PORT" "$try" >&2
	done
	tail -5 "$CP_DIR/fuotad.log" >&2
	cp_die "fuotad did not become ready (see $CP_DIR/fuotad.log)"
}

# Starts fuotad on CP_HTTP_PORT and waits until it is ready; 1 if it exits or stays unready
# (then CP_FUOTAD_PID still names it).
cp_fuotad_launch() {
	(cp_fuotad_env && exec "$CP_BIN/fuotad" run) >>"$CP_DIR/fuotad.log" 2>&1 </dev/null &
	CP_FUOTAD_PID=$!
	CP_URL=http://127.0.0.1:$CP_HTTP_PORT
	for _ in $(seq 1 200); do
		curl -fs "$CP_URL/readyz" >/dev/null 2>&1 && return 0
		kill -0 "$CP_FUOTAD_PID" 2>/dev/null || break
		sleep 0.1
	done
	# Still running but not ready: left for cp_cleanup to stop.
	kill -0 "$CP_FUOTAD_PID" 2>/dev/null && return 1
	wait "$CP_FUOTAD_PID" 2>/dev/null
	CP_FUOTAD_PID=
	return 1
}

cp_fuotad_stop() { # [SIGNAL]
	local sig=${1:-TERM} pid=${CP_FUOTAD_PID:-} rc=0
	[ -n "$pid" ] || return 0
	kill "-$sig" "$pid" 2>/dev/null || true
	for _ in $(seq 1 200); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid" 2>/dev/null; rc=1; }
	wait "$pid" 2>/dev/null || rc=$?
	CP_FUOTAD_PID=
	[ "$sig" = KILL ] && return 0
	return "$rc"
}

cp_events_start() {
	cp_topics
	mosquitto_sub -h "$CP_MQTT_HOST" -p "$CP_MQTT_PORT" -q 1 -v -t "$CP_EVENT_TOPIC/+/job/+/event/#" \
		>>"$CP_DIR/events.log" 2>/dev/null &
	CP_EVENTS_PID=$!
}

cp_sim_start() { # fuota-sim options (the broker, fleet and report paths are added)
	rm -f "$CP_DIR/fleet.json" "$CP_DIR/report.json"
	cp_topics
	"$CP_BIN/fuota-sim" --mqtt "tcp://$CP_MQTT_HOST:$CP_MQTT_PORT" --app-prefix "$CP_APP_TOPIC" \
		--gw-prefix "$CP_GW_PREFIX" --client-id "fuota-sim-$$-$RANDOM" \
		--fleet-out "$CP_DIR/fleet.json" --report "$CP_DIR/report.json" "$@" \
		>"$CP_DIR/sim.out" 2>"$CP_DIR/sim.log" </dev/null &
	CP_SIM_PID=$!
	for _ in $(seq 1 300); do
		[ -s "$CP_DIR/fleet.json" ] && return 0
		kill -0 "$CP_SIM_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$CP_DIR/sim.log" >&2
	cp_die "fuota-sim did not start"
}

cp_sim_stop() {
	local pid=${CP_SIM_PID:-}
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	# Up to 2 minutes: the report of 100,000 devices takes a while to write.
	for _ in $(seq 1 2400); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	CP_SIM_PID=
	[ -s "$CP_DIR/report.json" ] || cp_die "fuota-sim wrote no report"
}

cp_curl() { # METHOD PATH [curl args...]: the body on stdout; fails on an HTTP error
	local method=$1 path=$2
	shift 2
	curl -sS --fail-with-body -X "$method" -H "Authorization: Bearer $CP_TOKEN" \
		"$@" "$CP_URL$path"
}

# One curl process for every device (keep-alive), so 10,000 registrations take seconds.
cp_register() { # [INDEX...]
	local sel=. cfg=$CP_DIR/register.curl bad
	if [ $# -gt 0 ]; then
		sel="[$(IFS=,; echo "$*")] as \$want | [.devices | to_entries[] |
			select(.key as \$k | \$want | index(\$k)) | .value]"
	else
		sel=.devices
	fi
	# One entry a device, "next" between them, written as they come: a join of them all is
	# quadratic in jq (100,000 devices took more than 10 minutes).
	jq -r --arg url "$CP_URL/api/v1/devices" --arg auth "Authorization: Bearer $CP_TOKEN" "$sel"' |
		to_entries[] | (if .key > 0 then "next\n" else "" end) +
		"url = \($url | @json)\nheader = \($auth | @json)\n" +
		"header = \"Content-Type: application/json\"\n" +
		"data = \(.value | tojson | @json)\noutput = \"/dev/null\"\n" +
		"write-out = \"%{http_code}\\n\""' \
		"$CP_DIR/fleet.json" >"$cfg" || return 1
	bad=$(curl -sS -K "$cfg" | grep -vc '^201$' || true)
	rm -f "$cfg"
	[ "$bad" -eq 0 ] || cp_die "$bad device registration(s) refused"
}

cp_firmware() { # FILE
	cp_curl POST /api/v1/firmware -F "file=@$1" -F "name=$(basename "$1")" | jq -e .id
}

cp_job_create() { # JSON
	# Through stdin: a job for 10,000 devices is longer than one command-line argument may be.
	printf '%s' "$1" | cp_curl POST /api/v1/jobs -H 'Content-Type: application/json' \
		--data-binary @- | jq -e .id
}

cp_job() { cp_curl GET "/api/v1/jobs/$1"; }

cp_job_devices() { # JOB: all pages as one array
	local off=0 page n
	{
		while :; do
			page=$(cp_curl GET "/api/v1/jobs/$1/devices?limit=500&offset=$off") || return 1
			printf '%s\n' "$page" | jq -c '(.items // .)[]'
			n=$(printf '%s\n' "$page" | jq '(.items // .) | length')
			[ "$n" -eq 500 ] || break
			off=$((off + 500))
		done
	} | jq -s .
}

cp_job_wait() { # JOB TIMEOUT_S [FN]
	local job=$1 timeout=$2 fn=${3:-} end state
	end=$((SECONDS + timeout))
	while [ $SECONDS -lt $end ]; do
		state=$(cp_job "$job" | jq -r .state) || state=unknown
		[ -n "$fn" ] && "$fn" "$job" "$state"
		case $state in succeeded | failed | cancelled) return 0 ;; esac
		sleep 1
	done
	cp_die "job $job not finished after $timeout s (state $state)"
}

cp_frames() { # JOB: "frames_sent frames_resent" of the last progress event
	local line
	line=$(grep "/job/$1/event/progress " "$CP_DIR/events.log" 2>/dev/null | tail -1)
	[ -n "$line" ] || { echo "0 0"; return 0; }
	printf '%s\n' "${line#* }" | jq -r '"\(.frames_sent // 0) \(.frames_resent // 0)"'
}

# The campaign's figures: what the API says of each device, what the simulator's devices say of
# their image, and the engine's frame counters.
cp_summary() { # JOB
	local job=$1 frames
	cp_job "$job" >"$CP_DIR/job.json" || return 1
	cp_job_devices "$job" >"$CP_DIR/job-devices.json" || return 1
	frames=$(cp_frames "$job")
	jq -n --slurpfile job "$CP_DIR/job.json" --slurpfile devs "$CP_DIR/job-devices.json" \
		--slurpfile rep "$CP_DIR/report.json" --argjson sent "${frames% *}" \
		--argjson resent "${frames#* }" '
		$job[0] as $j | $devs[0] as $d | $rep[0] as $r |
		($r.devices | map({key: .dev_eui, value: .}) | from_entries) as $sim |
		def secs(t): t | sub("\\.[0-9]+"; "") | sub("\\+00:00$"; "Z") | fromdateiso8601;
		{
		  job_id: $j.id, state: $j.state,
		  devices: ($d | length),
		  updated: ([$d[] | select(.step == "done")] | length),
		  verified: ([$d[] | select($sim[.dev_eui].sha256_ok == true)] | length),
		  failed: ([$d[] | select(.step == "failed")] | length),
		  unconfirmed: ([$d[] | select(.step == "unconfirmed")] | length),
		  frames_sent: $sent, frames_resent: $resent,
		  frames_on_air: $r.summary.frames_sent,
		  nb_frag: $j.plan.fragments, fragment_size: $j.plan.fragment_size,
		  frame_airtime_ms: $j.plan.frame_airtime_ms,
		  airtime_s: (($r.summary.frames_sent * $j.plan.frame_airtime_ms / 10) | round / 100),
		  duration_s: (if $j.finished_at and $j.created_at
		               then secs($j.finished_at) - secs($j.created_at) else null end),
		  gateway_acks: $r.summary.acks,
		  failures: ([$d[] | select(.step == "failed") | .failure_reason // "unknown"]
		             | group_by(.) | map({reason: .[0], devices: length}))
		}'
}

cp_cleanup() {
	[ -n "${CP_SIM_PID:-}" ] && { kill -TERM "$CP_SIM_PID" 2>/dev/null || true; }
	[ -n "${CP_EVENTS_PID:-}" ] && { kill "$CP_EVENTS_PID" 2>/dev/null || true; }
	[ -n "${CP_FUOTAD_PID:-}" ] && { kill -TERM "$CP_FUOTAD_PID" 2>/dev/null || true; }
	[ -n "${CP_SIM_PID:-}" ] && { wait "$CP_SIM_PID" 2>/dev/null || true; }
	[ -n "${CP_FUOTAD_PID:-}" ] && { wait "$CP_FUOTAD_PID" 2>/dev/null || true; }
	CP_SIM_PID='' CP_EVENTS_PID='' CP_FUOTAD_PID=''
}
