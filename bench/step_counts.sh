#!/usr/bin/env bash
# What the step counters' triggers (sql/047_job_step_count.sql) cost the statements that write
# job_device: a private PostgreSQL migrated by fuotad, a job of N devices, then each kind of
# statement timed with the triggers enabled and disabled, on the same data.
#   bench/step_counts.sh BUILD_DIR [devices (default 100000)] [single-row statements (default 5000)]
# Single-row statements (pgbench, one a transaction, as the engine moves one device per uplink):
# a device moved to another step, a device touched without a move (deadline, as most of the
# engine's updates). Bulk statements (psql, vacuumed before each): every row of the job moved,
# every row touched, the job's rows inserted (a job created). BENCH_REPS (default 5) runs each
# way, alternating, medians; "trigger alone": the trigger's own time in EXPLAIN ANALYZE (what
# the wall times add beyond it is the capture of the transition tables).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/api-lib.sh
. "$ROOT/bench/api-lib.sh"
BUILD=${1:?usage: bench/step_counts.sh BUILD_DIR [devices] [single-row statements]}
NDEV=${2:-100000}
NONE=${3:-5000}
REPS=${BENCH_REPS:-5}
FUOTAD=$BUILD/bin/fuotad
[ -x "$FUOTAD" ] || { echo "bench: $FUOTAD not built" >&2; exit 1; }

bench_stack fuota-bench-stepcounts
MASTER_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export FUOTA_DATABASE_DSN=$FUOTA_DSN FUOTA_LOG_LEVEL=warn FUOTA_SECURITY_MASTER_KEY=$MASTER_KEY
"$FUOTAD" token create --admin --name bench >/dev/null # migrates the database
psql_ -c "SELECT 1 FROM job_step_count LIMIT 0" >/dev/null ||
	{ echo "bench: no job_step_count: $FUOTAD is older than migration 047" >&2; exit 1; }

psql_ -c "INSERT INTO device (tenant_id, dev_eui, application_id, lorawan_version, class, region,
                              key_kind, key_box)
          SELECT 1, '7' || lpad(to_hex(x), 15, '0'), 'bench', '1.0.3', 'A', 'EU868',
                 'gen_app_key', '\\x00' FROM generate_series(1, $NDEV) x;
          INSERT INTO job (tenant_id, name, region, data_rate, frequency_hz, unicast_timeout_s,
                           unicast_attempts, multicast_class, multicast_timeout_s, plan,
                           device_count)
          SELECT 1, 'bench', 'EU868', 5, 869525000, 60, 3, 'C', 60, '{}', $NDEV
          FROM generate_series(1, 2)"
JOB=1     # the job whose rows are moved
SPARE=2   # the job whose rows are inserted and deleted again
psql_ -c "INSERT INTO job_device (job_id, tenant_id, dev_eui, step)
          SELECT $JOB, 1, dev_eui, 'ready' FROM device"
psql_ -c "VACUUM ANALYZE"

triggers() { psql_ -c "ALTER TABLE job_device $1 TRIGGER USER"; } # ENABLE or DISABLE

# single SQL: pgbench, NONE transactions of SQL (:d a random device), latency in ms.
single() {
	local f=$DIR/pgbench.sql
	printf '\\set d random(1, %d)\n%s\n' "$NDEV" "$1" >"$f"
	PGPASSWORD=$PG_PASSWORD "$PGBIN/pgbench" -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -n \
		-t "$NONE" -f "$f" fuota 2>/dev/null | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p'
}
EUI="'7' || lpad(to_hex(:d), 15, '0')"
MOVE="UPDATE job_device SET step = CASE step WHEN 'ready' THEN 'session' ELSE 'ready' END
      WHERE job_id = $JOB AND dev_eui = $EUI;"
TOUCH="UPDATE job_device SET deadline = now() WHERE job_id = $JOB AND dev_eui = $EUI;"

# bulk SQL: one run of SQL, in ms (vacuumed before).
bulk() {
	psql_ -c "VACUUM job_device, job_step_count" >/dev/null
	printf '\\timing on\n%s\n' "$1" | psql_ | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1
}
BMOVE="UPDATE job_device SET step = CASE step WHEN 'ready' THEN 'session' ELSE 'ready' END
       WHERE job_id = $JOB;"
BTOUCH="UPDATE job_device SET deadline = now() WHERE job_id = $JOB;"
BINSERT="DELETE FROM job_device WHERE job_id = $SPARE; VACUUM job_device;
         INSERT INTO job_device (job_id, tenant_id, dev_eui) SELECT $SPARE, 1, dev_eui FROM device;"

echo "bench: $NDEV job_device rows; single-row: $NONE statements (pgbench, mean latency); bulk: one"
echo "bench: statement; $REPS runs each way, alternating; medians (ms)"
printf '%-34s %12s %12s %14s\n' statement "no triggers" triggers "trigger alone"
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# trigger_ms PREP STATEMENT: the time EXPLAIN ANALYZE gives the step counters' trigger for
# STATEMENT after PREP (5 times in one session, the last: its plans made; rolled back), in ms.
trigger_ms() {
	{
		echo "BEGIN;"
		for _ in 1 2 3 4 5; do printf '%s\nEXPLAIN (ANALYZE) %s\n' "$1" "$2"; done
		echo "ROLLBACK;"
	} | psql_ 2>/dev/null | sed -n 's/^Trigger job_step_count_[a-z]*: time=\([0-9.]*\).*/\1/p' |
		tail -1
}
row() { # row LABEL KIND SQL PREP STATEMENT (the last two: trigger_ms's)
	local i off=() on=()
	for i in $(seq 1 "$REPS"); do
		triggers DISABLE
		off+=("$($2 "$3")")
		triggers ENABLE
		on+=("$($2 "$3")")
		: "$i"
	done
	printf '%-34s %9s ms %9s ms %11s ms\n' "$1" "$(printf '%s\n' "${off[@]}" | median)" \
		"$(printf '%s\n' "${on[@]}" | median)" "$(trigger_ms "$4" "$5")"
}
row "one device moved" single "$MOVE" "" "${MOVE//:d/1}"
row "one device touched (no move)" single "$TOUCH" "" "${TOUCH//:d/1}"
row "$NDEV devices moved" bulk "$BMOVE" "" "$BMOVE"
row "$NDEV devices touched (no move)" bulk "$BTOUCH" "" "$BTOUCH"
row "$NDEV rows inserted (a new job)" bulk "$BINSERT" "DELETE FROM job_device WHERE job_id = $SPARE;" \
	"INSERT INTO job_device (job_id, tenant_id, dev_eui) SELECT $SPARE, 1, dev_eui FROM device;"
