#!/usr/bin/env bash
# `./fuota demo --ui` end to end: a small campaign (3 devices, a 3 kB image) on the demo's own
# private stack; the demo prints the web UI's address and a token of its tenant; with --ui the
# stack stays up after the job: the UI and the job answer with that token; Ctrl-C (SIGINT) stops
# everything and the demo exits with the campaign's status (0).
#
#   tests/e2e/demo-ui.sh BIN_DIR WORKDIR
set -euo pipefail
set -m # the demo in a process group of its own, as in a terminal: SIGINT reaches it

BIN=${1:?bin dir}
WORK=${2:?work dir}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
rm -rf "$WORK"
mkdir -p "$WORK"
PID=

fail() {
	printf 'demo-ui: FAILED: %s\n' "$*" >&2
	tail -20 "$WORK/demo.err" >&2 || true
	exit 1
}
# However this script ends, the demo (and the stack it started) does not outlive it.
stop_demo() {
	[ -z "$PID" ] || { kill -INT "$PID" 2>/dev/null && wait "$PID"; } || true
}
trap stop_demo EXIT

"$ROOT/scripts/demo.sh" --bin "$BIN" --devices 3 --size 3000 --loss 0 --ui \
	>"$WORK/demo.out" 2>"$WORK/demo.err" &
PID=$!
for _ in $(seq 1200); do
	grep -q 'demo: --ui:' "$WORK/demo.err" && break
	kill -0 "$PID" 2>/dev/null || fail "the demo ended before keeping the stack up"
	sleep 0.5
done
grep -q 'demo: --ui:' "$WORK/demo.err" || fail "no --ui line after 600 s"
line=$(grep -m1 'demo: web UI: ' "$WORK/demo.err") || fail "the demo printed no web UI address"
url=$(printf '%s\n' "$line" | sed -E 's/^demo: web UI: ([^ ]+) .*/\1/')
token=$(printf '%s\n' "$line" | sed -E 's/.*sign in with the token ([^)]+)\)$/\1/')
base=${url%/jobs/*}
job=${url##*/}
printf 'demo-ui: ok: the demo printed %s and a token\n' "$url"
got=$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$url")
case $got in "200 text/html"*) ;; *) fail "$url is not the web UI ($got)" ;; esac
state=$(curl -sf -H "Authorization: Bearer $token" "$base/api/v1/jobs/$job" | jq -r .state) ||
	fail "the printed token does not read the job"
[ "$state" = succeeded ] || fail "the job is $state"
curl -sf -H "Authorization: Bearer $token" "$base/api/v1/tenants" >/dev/null &&
	fail "the printed token is an admin token"
printf 'demo-ui: ok: after the job the UI answers, and the token reads the succeeded job\n'
kill -INT "$PID"
rc=0
wait "$PID" || rc=$?
PID=
[ "$rc" -eq 0 ] || fail "the demo exited with $rc after Ctrl-C, not the campaign's 0"
curl -s -o /dev/null "$base/healthz" && fail "fuotad still answers after Ctrl-C"
printf 'demo-ui: ok: Ctrl-C stopped the stack; exit status 0\n'
