#!/usr/bin/env bash
# fuota-gw's backlog drain (`./fuota bench gw`): N uplinks queued while the backhaul is down,
# then fuota-gw started with the modem simulator (line paced at BAUD) and a private mosquitto;
# the time from the first uplink at the broker to the last is the drain, N over it the uplinks
# per second the modem carries. Also the queue's disk use per uplink, and how long the backlog
# of a 30-minute outage at a given uplink rate would take.
#
#   bench/gw_drain.sh BIN_DIR [--uplinks N] [--baud B] [--json]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${1:?usage: bench/gw_drain.sh BIN_DIR [--uplinks N] [--baud B] [--json]}
shift
N=1000 BAUD=115200 JSON=''
while [ $# -gt 0 ]; do
	case $1 in
	--uplinks) N=$2; shift 2 ;;
	--baud) BAUD=$2; shift 2 ;;
	--json) JSON=--json; shift ;;
	*) echo "bench/gw_drain.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

dir=$(mktemp -d /tmp/fuota-gw-drain-XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	"$ROOT/tests/e2e/mosquitto.sh" stop "$dir/broker" >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT

gw_port() { # LOG: the UDP port fuota-gw listens on
	local port=''
	for _ in $(seq 100); do
		port=$(sed -n 's/^fuota-gw: listening on 127\.0\.0\.1:\([0-9]*\),.*/\1/p' "$1")
		[ -n "$port" ] && { echo "$port"; return 0; }
		sleep 0.1
	done
	return 1
}

# 1. N uplinks into the queue, no backhaul
"$BIN/fuota-gw" --queue "$dir/q" --port 0 $JSON 2>"$dir/gw0.log" &
pids+=($!)
port=$(gw_port "$dir/gw0.log")
eui='\xaa\x55\x5a\x00\x00\x00\x01\x01'
for i in $(seq "$N"); do
	data=AQIDBA==
	json="{\"rxpk\":[{\"tmst\":$i,\"rfch\":0,\"freq\":868.1,\"stat\":1,\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"codr\":\"4/5\",\"rssi\":-60,\"lsnr\":7.5,\"size\":4,\"data\":\"$data\"}]}"
	printf '%b%s' "\\x02\\x00\\x01\\x00$eui" "$json" >"/dev/udp/127.0.0.1/$port"
	# the forwarder's pace is not what is measured: let fuota-gw keep up
	[ $((i % 200)) -eq 0 ] && sleep 0.2
done
sleep 1
kill -TERM "${pids[0]}"
wait "${pids[0]}" 2>/dev/null || true
queued=$(sed -n 's/^fuota-gw: stopping, \([0-9]*\) queued.*/\1/p' "$dir/gw0.log")
bytes=$(du -sb "$dir/q" | cut -f1)

# 2. the backhaul comes back: modem simulator, broker, fuota-gw draining
"$ROOT/tests/e2e/mosquitto.sh" start "$dir/broker" >/dev/null
bport=$(cat "$dir/broker/port")
"$BIN/fuota-modem-sim" --fs "$dir/fs" --state "$dir/nvm" --baud "$BAUD" --boot-ms 100 \
	--reg-ms 100 >"$dir/msim.out" 2>"$dir/msim.err" &
pids+=($!)
for _ in $(seq 50); do [ -s "$dir/msim.out" ] && break; sleep 0.1; done
pty=$(head -1 "$dir/msim.out")
mosquitto_sub -h 127.0.0.1 -p "$bport" -t 'eu868/gateway/+/event/up' -C "$queued" \
	-F '%U' >"$dir/times" &
sub=$!
pids+=("$sub")
sleep 0.5
"$BIN/fuota-gw" --queue "$dir/q" --port 0 --broker "127.0.0.1:$bport" --modem "$pty" \
	--baud "$BAUD" --prefix eu868 $JSON 2>"$dir/gw1.log" &
pids+=($!)
if ! timeout 1800 tail --pid="$sub" -f /dev/null; then
	echo "bench/gw_drain.sh: the backlog did not drain" >&2
	exit 1
fi
first=$(head -1 "$dir/times")
last=$(tail -1 "$dir/times")
awk -v n="$queued" -v b="$bytes" -v f="$first" -v l="$last" -v baud="$BAUD" -v enc="${JSON:-protobuf}" 'BEGIN {
	s = l - f; rate = (n - 1) / s
	printf "baud %d, %s: %d uplinks queued, %.0f bytes on disk (%.0f per uplink)\n", baud, enc, n, b, b / n
	printf "drain: %.1f s from the first uplink at the broker to the last, %.1f uplinks/s\n", s, rate
	split("1 10 100", r, " ")
	for (i = 1; i <= 3; i++)
		printf "a 30-minute outage at %d uplinks/s (%d queued) drains in %.0f s\n", r[i], r[i] * 1800, r[i] * 1800 / rate
}'
