#!/usr/bin/env bash
# The local stack of fuotad: a private PostgreSQL cluster and a private mosquitto broker, each on a
# free loopback port, with their data under one directory; optionally fuotad itself.
#
#   scripts/stack.sh services-up DIR      start PostgreSQL + mosquitto (initdb on first use);
#                                         writes DIR/run/services.env (FUOTA_DSN, FUOTA_MQTT, ...)
#   scripts/stack.sh services-down DIR    stop them
#   scripts/stack.sh up DIR FUOTAD        services-up, master key, fuotad in the background, an
#                                         admin token on first start; writes DIR/run/env
#   scripts/stack.sh down DIR             stop fuotad and the services
#   scripts/stack.sh status DIR           tell what runs
#
# PostgreSQL refuses to run as root: as root, the database and the broker run as `nobody` in
# directories that user owns (DIR must then be reachable by nobody, e.g. under /tmp or /work).
# The cluster uses scram-sha-256 with a random password kept in DIR (mode 0600).
set -euo pipefail

die() { printf 'stack: %s\n' "$*" >&2; exit 1; }
say() { printf 'stack: %s\n' "$*" >&2; }

# shellcheck disable=SC2012 # the names are PostgreSQL version numbers
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)

as_service() { # run a command as the unprivileged service user
	if [ "$(id -u)" -eq 0 ]; then
		(cd / && runuser -u nobody -- "$@")
	else
		"$@"
	fi
}

own() { # give paths to the service user
	if [ "$(id -u)" -eq 0 ]; then chown -R nobody: "$@"; fi
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Below Linux's ephemeral range (32768-60999), where a client connection's local end may take the
# port between this check and the bind.
free_port() {
	local p
	for _ in $(seq 1 100); do
		p=$((20000 + RANDOM % 12000))
		port_busy "$p" || { echo "$p"; return 0; }
	done
	die "no free port found"
}

pg_running() { [ -f "$1/pg/data/postmaster.pid" ] && as_service "$PGBIN/pg_ctl" -D "$1/pg/data" status >/dev/null 2>&1; }

pg_up() {
	local dir=$1 port pw
	[ -n "$PGBIN" ] || die "PostgreSQL binaries not found under /usr/lib/postgresql/*/bin (./fuota bootstrap)"
	mkdir -p "$dir/pg" "$dir/run"
	chmod 755 "$dir" "$dir/pg"
	if [ "$(id -u)" -eq 0 ] && ! runuser -u nobody -- test -x "$dir/pg"; then
		die "$dir is not reachable by user nobody (PostgreSQL cannot run as root): use a directory under /tmp or make its parents world-executable"
	fi
	if [ ! -f "$dir/pg/password" ]; then
		umask 077
		head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/pg/password"
		umask 022
	fi
	pw=$(cat "$dir/pg/password")
	if [ ! -f "$dir/pg/data/PG_VERSION" ]; then
		rm -rf "$dir/pg/data"
		mkdir -p "$dir/pg/data" "$dir/pg/sock"
		install -m 600 "$dir/pg/password" "$dir/pg/pwfile"
		own "$dir/pg/data" "$dir/pg/sock" "$dir/pg/pwfile"
		as_service "$PGBIN/initdb" -D "$dir/pg/data" -U fuota --pwfile="$dir/pg/pwfile" \
			--auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --no-instructions \
			>"$dir/pg/initdb.log" 2>&1 || { cat "$dir/pg/initdb.log" >&2; die "initdb failed"; }
		rm -f "$dir/pg/pwfile"
	fi
	if pg_running "$dir"; then
		port=$(sed -n 4p "$dir/pg/data/postmaster.pid")
	else
		mkdir -p "$dir/pg/sock"
		own "$dir/pg/sock"
		touch "$dir/pg/postgres.log"
		own "$dir/pg/postgres.log"
		port=$(free_port)
		# pg_stat_statements: integration tests count the statements fuotad runs.
		as_service "$PGBIN/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/postgres.log" -w -t 60 \
			-o "-p $port -k $dir/pg/sock -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 -c shared_preload_libraries=pg_stat_statements" \
			start >/dev/null || { tail -20 "$dir/pg/postgres.log" >&2; die "PostgreSQL did not start"; }
	fi
	if ! PGPASSWORD=$pw "$PGBIN/psql" -h 127.0.0.1 -p "$port" -U fuota -d postgres -tAc \
		"SELECT 1 FROM pg_database WHERE datname = 'fuota'" | grep -q 1; then
		PGPASSWORD=$pw "$PGBIN/psql" -h 127.0.0.1 -p "$port" -U fuota -d postgres -qc 'CREATE DATABASE fuota' >/dev/null
	fi
	PG_PORT=$port
	PG_PASSWORD=$pw
}

mqtt_running() { [ -f "$1/mqtt/mosquitto.pid" ] && kill -0 "$(cat "$1/mqtt/mosquitto.pid")" 2>/dev/null; }

mqtt_up() {
	local dir=$1 port
	command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || die "mosquitto not installed (./fuota bootstrap)"
	mkdir -p "$dir/mqtt"
	own "$dir/mqtt"
	if mqtt_running "$dir"; then
		MQTT_PORT=$(sed -n 's/^listener \([0-9]*\).*/\1/p' "$dir/mqtt/mosquitto.conf")
		return 0
	fi
	port=$(free_port)
	# Anonymous clients on the loopback interface only: this is the private development broker.
	cat >"$dir/mqtt/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
pid_file $dir/mqtt/mosquitto.pid
log_dest file $dir/mqtt/mosquitto.log
CONF
	own "$dir/mqtt"
	as_service "$(command -v mosquitto || echo /usr/sbin/mosquitto)" -c "$dir/mqtt/mosquitto.conf" -d
	for _ in $(seq 1 50); do
		port_busy "$port" && break
		sleep 0.1
	done
	port_busy "$port" || die "mosquitto did not start (see $dir/mqtt/mosquitto.log)"
	MQTT_PORT=$port
}

services_up() {
	local dir=$1
	pg_up "$dir"
	mqtt_up "$dir"
	cat >"$dir/run/services.env" <<ENV
FUOTA_DSN='host=127.0.0.1 port=$PG_PORT dbname=fuota user=fuota password=$PG_PASSWORD'
FUOTA_MQTT=tcp://127.0.0.1:$MQTT_PORT
PG_HOST=127.0.0.1
PG_PORT=$PG_PORT
PG_USER=fuota
PG_PASSWORD=$PG_PASSWORD
MQTT_PORT=$MQTT_PORT
ENV
	chmod 600 "$dir/run/services.env"
}

services_down() {
	local dir=$1
	if pg_running "$dir"; then
		as_service "$PGBIN/pg_ctl" -D "$dir/pg/data" -m fast -w stop >/dev/null || true
	fi
	if mqtt_running "$dir"; then
		local pid
		pid=$(cat "$dir/mqtt/mosquitto.pid")
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	fi
	rm -f "$dir/mqtt/mosquitto.pid"
}

fuotad_running() { [ -f "$1/run/fuotad.pid" ] && kill -0 "$(cat "$1/run/fuotad.pid")" 2>/dev/null; }

up() {
	local dir=$1 fuotad=$2 http_port token
	[ -x "$fuotad" ] || die "fuotad not built: $fuotad"
	mkdir -p "$dir/run" "$dir/log"
	services_up "$dir"
	if [ ! -f "$dir/master.key" ]; then
		umask 077
		head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/master.key"
		umask 022
	fi
	chmod 600 "$dir/master.key"
	if fuotad_running "$dir"; then
		http_port=$(sed -n 's/^port = //p' "$dir/fuotad.ini")
	else
		http_port=$(free_port)
		umask 077
		cat >"$dir/fuotad.ini" <<INI
; written by scripts/stack.sh up: the local stack's fuotad configuration
[log]
level = info
format = text
[http]
bind = 127.0.0.1
port = $http_port
threads = 4
[database]
dsn = host=127.0.0.1 port=$PG_PORT dbname=fuota user=fuota password=$PG_PASSWORD
pool_size = 4
[mqtt]
url = tcp://127.0.0.1:$MQTT_PORT
[security]
master_key_file = $dir/master.key
INI
		umask 022
		"$fuotad" -c "$dir/fuotad.ini" migrate 2>>"$dir/log/fuotad.log" || die "migrations failed (see $dir/log/fuotad.log)"
		if [ ! -s "$dir/admin.token" ]; then
			umask 077
			"$fuotad" -c "$dir/fuotad.ini" token create --admin --name bootstrap >"$dir/admin.token" \
				2>>"$dir/log/fuotad.log" || die "token creation failed"
			umask 022
		fi
		nohup "$fuotad" -c "$dir/fuotad.ini" run >>"$dir/log/fuotad.log" 2>&1 </dev/null &
		echo $! >"$dir/run/fuotad.pid"
		for _ in $(seq 1 100); do
			curl -fs "http://127.0.0.1:$http_port/readyz" >/dev/null 2>&1 && break
			fuotad_running "$dir" || die "fuotad exited (see $dir/log/fuotad.log)"
			sleep 0.1
		done
		curl -fs "http://127.0.0.1:$http_port/readyz" >/dev/null || die "fuotad is not ready (see $dir/log/fuotad.log)"
	fi
	token=$(cat "$dir/admin.token")
	umask 077
	cat >"$dir/run/env" <<ENV
FUOTA_URL=http://127.0.0.1:$http_port
FUOTA_TOKEN=$token
FUOTA_MQTT=tcp://127.0.0.1:$MQTT_PORT
FUOTA_DSN='host=127.0.0.1 port=$PG_PORT dbname=fuota user=fuota password=$PG_PASSWORD'
ENV
	umask 022
	say "fuotad on http://127.0.0.1:$http_port, PostgreSQL on 127.0.0.1:$PG_PORT, mosquitto on 127.0.0.1:$MQTT_PORT"
	say "environment in $dir/run/env (source it: set -a; . $dir/run/env; set +a)"
}

down() {
	local dir=$1
	if fuotad_running "$dir"; then
		local pid
		pid=$(cat "$dir/run/fuotad.pid")
		kill -TERM "$pid"
		for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	fi
	rm -f "$dir/run/fuotad.pid"
	services_down "$dir"
	say "stopped"
}

status() {
	local dir=$1 rc=0
	if fuotad_running "$dir"; then echo "fuotad: running (pid $(cat "$dir/run/fuotad.pid"), $(sed -n 's/^FUOTA_URL=//p' "$dir/run/env" 2>/dev/null))"; else echo "fuotad: stopped"; rc=3; fi
	if pg_running "$dir"; then echo "postgresql: running (port $(sed -n 4p "$dir/pg/data/postmaster.pid"))"; else echo "postgresql: stopped"; rc=3; fi
	if mqtt_running "$dir"; then echo "mosquitto: running (pid $(cat "$dir/mqtt/mosquitto.pid"))"; else echo "mosquitto: stopped"; rc=3; fi
	return $rc
}

cmd=${1:-}
dir=${2:-}
{ [ -n "$cmd" ] && [ -n "$dir" ]; } || die "usage: stack.sh services-up|services-down|up|down|status DIR [FUOTAD]"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
case "$cmd" in
services-up) services_up "$dir" ;;
services-down) services_down "$dir" ;;
up) up "$dir" "${3:?fuotad path}" ;;
down) down "$dir" ;;
status) status "$dir" ;;
*) die "unknown command $cmd" ;;
esac
