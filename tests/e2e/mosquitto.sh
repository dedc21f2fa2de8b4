#!/usr/bin/env bash
# A private mosquitto for the end-to-end tests: one broker per directory, on a free loopback port,
# with its own configuration, persistence file and log in that directory.
#
#   tests/e2e/mosquitto.sh start DIR [PORT]   start (PORT, else the port DIR/port remembers if it
#                                             is free, else a random free one); writes DIR/port,
#                                             DIR/pid and DIR/env (MQTT_URI=tcp://127.0.0.1:PORT)
#   tests/e2e/mosquitto.sh stop DIR           stop it (SIGTERM: mosquitto saves its persistence
#                                             file, so a restart on the same port keeps sessions)
#
# Why not scripts/stack.sh: its broker starts only together with PostgreSQL (services-up), gets a
# new port on every start and runs without persistence; the broker-restart tests need the same
# port and the persistent sessions back.
#
# mosquitto 2.x started as root drops its privileges to the user "mosquitto" (which may not exist
# or may not be able to write DIR); as root the configuration therefore says `user root`, which
# keeps it as it is. It runs in the foreground (no -d), in its own session so that it outlives a
# ctest fixture's setup step, and the pid file is what stop kills.
set -euo pipefail

die() { printf 'mosquitto.sh: %s\n' "$*" >&2; exit 1; }

MOSQUITTO=${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running() { [ -f "$1/pid" ] && kill -0 "$(cat "$1/pid")" 2>/dev/null; }

write_conf() { # DIR PORT
	local dir=$1 port=$2
	{
		echo "listener $port 127.0.0.1"
		echo "allow_anonymous true"
		echo "persistence true"
		echo "persistence_location $dir/"
		echo "persistence_file mosquitto.db"
		echo "autosave_interval 1"
		echo "log_dest file $dir/mosquitto.log"
		echo "log_type error"
		echo "log_type warning"
		echo "log_type notice"
		echo "log_type information"
		echo "max_queued_messages 100000"
		if [ "$(id -u)" -eq 0 ]; then echo "user root"; fi
	} >"$dir/mosquitto.conf"
}

# Starts mosquitto on PORT; returns 1 if it exited (port taken) or never listened.
try_start() { # DIR PORT
	local dir=$1 port=$2 pid
	write_conf "$dir" "$port"
	setsid "$MOSQUITTO" -c "$dir/mosquitto.conf" </dev/null >>"$dir/mosquitto.out" 2>&1 &
	pid=$!
	for _ in $(seq 1 100); do
		if ! kill -0 "$pid" 2>/dev/null; then
			return 1
		fi
		if port_open "$port"; then
			echo "$pid" >"$dir/pid"
			echo "$port" >"$dir/port"
			echo "MQTT_URI=tcp://127.0.0.1:$port" >"$dir/env"
			return 0
		fi
		sleep 0.05
	done
	kill "$pid" 2>/dev/null || true
	return 1
}

start() { # DIR [PORT]
	local dir=$1 want=${2:-} port
	[ -x "$MOSQUITTO" ] || die "mosquitto not found (./fuota bootstrap)"
	mkdir -p "$dir"
	if running "$dir"; then
		die "a broker already runs for $dir (pid $(cat "$dir/pid"))"
	fi
	if [ -n "$want" ]; then
		# The same port again (a restart): it may take a moment to be released.
		for _ in $(seq 1 20); do
			try_start "$dir" "$want" && return 0
			sleep 0.1
		done
		die "could not start mosquitto on port $want (see $dir/mosquitto.log)"
	fi
	if [ -f "$dir/port" ] && ! port_open "$(cat "$dir/port")"; then
		try_start "$dir" "$(cat "$dir/port")" && return 0
	fi
	for _ in $(seq 1 30); do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		port_open "$port" && continue
		try_start "$dir" "$port" && return 0
	done
	die "no free port for mosquitto (see $dir/mosquitto.log)"
}

stop() { # DIR
	local dir=$1 pid
	[ -f "$dir/pid" ] || return 0
	pid=$(cat "$dir/pid")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		{ kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null; } || true
	fi
	rm -f "$dir/pid"
}

cmd=${1:-}
dir=${2:-}
{ [ -n "$cmd" ] && [ -n "$dir" ]; } || die "usage: mosquitto.sh start|stop DIR [PORT]"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
case "$cmd" in
start) start "$dir" "${3:-}" ;;
stop) stop "$dir" ;;
*) die "unknown command $cmd" ;;
esac
