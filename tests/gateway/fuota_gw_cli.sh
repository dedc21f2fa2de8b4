#!/bin/bash
# fuota-gw as a program (bash for /dev/udp): usage errors, then a packet forwarder's PULL_DATA and
# PUSH_DATA (one rxpk, one stat) sent to it; with no backhaul both events stay in the queue
# directory, survive a SIGKILL, and the restarted daemon reports them queued.
set -u
gw=$1
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$dir/log" ] && cat "$dir/log" >&2; exit 1; }

"$gw" >/dev/null 2>&1
[ $? -eq 2 ] || fail "no --queue is not a usage error"
"$gw" --queue "$dir/q" --port 70000 >/dev/null 2>&1
[ $? -eq 2 ] || fail "a bad --port is not a usage error"
"$gw" --help | grep -q '^usage: fuota-gw' || fail "--help"

# --port 0: the kernel picks a free port, the daemon says which
port=
start() {
	"$gw" --queue "$dir/q" --port 0 2>"$dir/log" &
	pid=$!
	for _ in $(seq 50); do
		port=$(sed -n 's/^fuota-gw: listening on 127\.0\.0\.1:\([0-9]*\),.*/\1/p' "$dir/log")
		[ -n "$port" ] && return 0
		kill -0 "$pid" 2>/dev/null || fail "fuota-gw did not start"
		sleep 0.1
	done
	fail "fuota-gw not listening"
}
start
grep -q ", 0 queued" "$dir/log" || fail "fresh queue not empty: $(cat "$dir/log")"
hdr='\x02\x12\x34'
eui='\xaa\x55\x5a\x00\x00\x00\x01\x01'
printf '%b' "${hdr}\\x02${eui}" > "/dev/udp/127.0.0.1/$port" || fail "send PULL_DATA"
json='{"rxpk":[{"tmst":1,"rfch":0,"freq":868.1,"stat":1,"modu":"LORA","datr":"SF7BW125","codr":"4/5","rssi":-35,"lsnr":5.5,"size":3,"data":"AQID"}],"stat":{"time":"2026-12-07 05:00:00 GMT","rxnb":1,"rxok":1,"rxfw":1,"ackr":100.0,"dwnb":0,"txnb":0}}'
printf '%b%s' "${hdr}\\x00${eui}" "$json" > "/dev/udp/127.0.0.1/$port" || fail "send PUSH_DATA"
printf '\x02\x00' > "/dev/udp/127.0.0.1/$port" # not a datagram: dropped
sleep 0.5
kill -9 "$pid"
wait "$pid" 2>/dev/null
pid=
ls "$dir/q"/*.seg >/dev/null 2>&1 || fail "no segment written"
start
grep -q ", 2 queued" "$dir/log" || fail "after SIGKILL: $(cat "$dir/log")"
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
[ $rc -eq 0 ] || fail "SIGTERM exit $rc"
grep -q "stopping, 2 queued" "$dir/log" || fail "stop line: $(cat "$dir/log")"
echo ok
