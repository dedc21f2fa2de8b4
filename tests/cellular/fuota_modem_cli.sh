#!/bin/sh
# fuota-modem without a modem: status from the state file (text and JSON), the desired
# configuration edited in it, a cut state file refused (exit 6), and an update refused (exit 4)
# while the state file says an install is under way, before any port is opened.
set -u
tool=$1
seeds=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
st="$dir/modem.state"
fail() { echo "FAIL: $*" >&2; exit 1; }

out=$("$tool" --state "$st" --json status) || fail "status of a fresh start: $?"
echo "$out" | grep -q '"state":"idle"' || fail "fresh start not idle: $out"

out=$("$tool" --state "$st" config --mno 100 --apn 1,IP,iot.example \
	--psm 00000110,00000011 --edrx 0101 --urcs) || fail "config: $?"
echo "$out" | grep -qx 'AT+CGDCONT=1,"IP","iot.example"' || fail "config plan: $out"
echo "$out" | grep -qx 'AT+CPSMS=1,,,"00000110","00000011"' || fail "config plan: $out"
grep -q '^mno=100$' "$st" || fail "mno not kept"
"$tool" --state "$st" config --apn 'x,IP,a' >/dev/null 2>&1
[ $? -eq 2 ] || fail "a bad --apn is not a usage error"

out=$("$tool" --state "$st" status) || fail "status: $?"
echo "$out" | grep -q '^state: *idle' || fail "text status: $out"

head -c 100 "$st" > "$dir/cut" && mv "$dir/cut" "$st"
"$tool" --state "$st" status >/dev/null 2>&1
[ $? -eq 6 ] || fail "a cut state file is not exit 6"

cp "$seeds/state_installing" "$st"
out=$("$tool" --state "$st" --json update --method uart --package "$st" 2>/dev/null)
rc=$?
[ $rc -eq 4 ] || fail "update over an install: exit $rc"
echo "$out" | grep -q '"state":"installing"' || fail "refusal status: $out"
echo "$out" | grep -q '"reset_allowed":false' || fail "reset allowed mid-install: $out"
cmp -s "$seeds/state_installing" "$st" || fail "a refused update changed the state file"

"$tool" --state "$st" update --method foat >/dev/null 2>&1
[ $? -eq 2 ] || fail "update without a package is not a usage error"
echo "ok"
