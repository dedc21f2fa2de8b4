#!/usr/bin/env bash
# What the benches of a private fuotad share (sourced by api.sh, job_get.sh and web.sh, which set
# ROOT): a PostgreSQL of their own (scripts/stack.sh services-up) in DIR, stopped and removed at
# exit (BENCH_KEEP=1 keeps the directory), psql_ on its database, and start_fuotad/stop_fuotad
# for a fuotad on URL.

# bench_stack NAME: DIR=/tmp/NAME.XXXXXX, the services up, their settings (services.env) in the
# environment, PGBIN the newest PostgreSQL's programs.
bench_stack() {
	DIR=$(mktemp -d "/tmp/$1.XXXXXX")
	chmod 755 "$DIR"
	FPID=
	trap bench_cleanup EXIT
	"$ROOT/scripts/stack.sh" services-up "$DIR" >/dev/null
	set -a
	# shellcheck source=/dev/null # written by stack.sh services-up
	. "$DIR/run/services.env"
	set +a
	# shellcheck disable=SC2012 # the names are PostgreSQL version numbers
	PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
}

bench_cleanup() {
	{ [ -n "$FPID" ] && kill -TERM "$FPID" 2>/dev/null && wait "$FPID" 2>/dev/null; } || true
	"$ROOT/scripts/stack.sh" services-down "$DIR" >/dev/null 2>&1 || true
	if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench: kept $DIR" >&2; else rm -rf "$DIR"; fi
}

psql_() { PGPASSWORD=$PG_PASSWORD "$PGBIN/psql" -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d fuota -qtAX "$@"; }

# start_fuotad BINARY: `BINARY run` in the background (FPID), its log in DIR, until URL/readyz
# answers (10 s, else the bench stops).
start_fuotad() {
	"$1" run 2>>"$DIR/fuotad.log" &
	FPID=$!
	for _ in $(seq 1 100); do curl -fs "$URL/readyz" >/dev/null 2>&1 && return; sleep 0.1; done
	echo "bench: $1 did not start" >&2
	exit 1
}

stop_fuotad() {
	{ kill -TERM "$FPID" && wait "$FPID"; } || true
	FPID=
}
