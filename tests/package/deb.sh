#!/usr/bin/env bash
# The Debian package as an operator gets it: scripts/package.sh builds it (lintian: no error),
# its metadata and file list are checked, it is unpacked with dpkg-deb -x, and the fuotad inside
# runs with the packaged configuration (the test's database, broker, port and master key given
# through FUOTA_* variables, which win over the file) against the test database: migrations,
# an admin token, /readyz, the web UI at /, the API with the token, a clean stop on SIGTERM.
#
#   tests/package/deb.sh SERVICES_ENV WORKDIR
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/campaign-lib.sh
. "$ROOT/scripts/campaign-lib.sh"
SERVICES_ENV=${1:?services env}
WORK=${2:?work dir}

fail() { printf 'package test: FAILED: %s\n' "$*" >&2; exit 1; }
ok() { printf 'package test: %s\n' "$*"; }

rm -rf "$WORK"
mkdir -p "$WORK"
deb=$("$ROOT/scripts/package.sh" --out "$WORK/out") || fail "scripts/package.sh"
ok "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

# Metadata: the shared libraries' packages found by dpkg-shlibdeps, the user tools.
info=$(dpkg-deb -f "$deb" Package Architecture Depends)
for want in 'Package: fuota' 'libpq5' 'libmicrohttpd12' 'libjansson4' 'libpaho-mqtt1.3' \
	'libprotobuf-c1' 'adduser'; do
	grep -qF "$want" <<<"$info" || fail "control lacks $want: $info"
done
files=$(dpkg-deb -c "$deb" | awk '{print $6}')
for want in ./usr/bin/fuotad ./usr/bin/fuota-tool ./usr/bin/fuota-sim ./usr/bin/fuota-gw \
	./usr/bin/fuota-modem ./etc/fuota/fuotad.ini ./lib/systemd/system/fuotad.service \
	./usr/share/fuota/web/index.html ./usr/share/doc/fuota/copyright; do
	grep -qxF "$want" <<<"$files" || fail "the package lacks $want"
done
if grep -q -e '^\./usr/bin/fuota-modem-sim$' -e '^\./usr/bin/test_' <<<"$files"; then
	fail "the package holds test programs"
fi
ok "control and file list as expected ($(wc -l <<<"$files") entries)"

root=$WORK/root
dpkg-deb -x "$deb" "$root"
if command -v systemd-analyze >/dev/null; then
	# The unit as systemd reads it (its ExecStart pointed at the unpacked fuotad): an unknown
	# key or a bad value is only a warning for systemd-analyze, so any output fails.
	sed "s|/usr/bin/fuotad|$root/usr/bin/fuotad|" "$root/lib/systemd/system/fuotad.service" \
		>"$WORK/fuotad.service"
	systemd-analyze verify "$WORK/fuotad.service" >"$WORK/verify.log" 2>&1 || true
	if [ -s "$WORK/verify.log" ]; then
		cat "$WORK/verify.log" >&2
		fail "systemd-analyze verify fuotad.service"
	fi
	ok "systemd-analyze verify: fuotad.service has no finding"
fi

cp_services_load "$SERVICES_ENV"
cp_db_create fuota_package
pid=
# Set before the first step that can fail, so that a failed migration or token still drops the
# database (and a fuotad already started is killed).
trap 'if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
cp_psql postgres "DROP DATABASE IF EXISTS fuota_package" >/dev/null 2>&1 || true' EXIT
key=$WORK/master.key
(umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$key")
port=$(cp_free_port)
fuotad() { # the packaged fuotad with the packaged configuration, exec'd (signals reach it)
	FUOTA_DATABASE_DSN=$CP_DSN FUOTA_MQTT_URL=tcp://$CP_MQTT_HOST:$CP_MQTT_PORT \
		FUOTA_HTTP_PORT=$port FUOTA_HTTP_WEB_ROOT=$root/usr/share/fuota/web \
		FUOTA_SECURITY_MASTER_KEY_FILE=$key FUOTA_ENGINE_INSTANCE_ID=package-test \
		exec "$root/usr/bin/fuotad" -c "$root/etc/fuota/fuotad.ini" "$@"
}
(fuotad migrate) >>"$WORK/fuotad.log" 2>&1 || { cat "$WORK/fuotad.log" >&2; fail "fuotad migrate"; }
token=$(fuotad token create --admin --name package 2>>"$WORK/fuotad.log") || fail "token create"
(fuotad run) >>"$WORK/fuotad.log" 2>&1 </dev/null &
pid=$!
url=http://127.0.0.1:$port
for _ in $(seq 1 100); do
	curl -fs "$url/readyz" >/dev/null 2>&1 && break
	kill -0 "$pid" 2>/dev/null || { cat "$WORK/fuotad.log" >&2; fail "fuotad exited"; }
	sleep 0.1
done
curl -fs "$url/readyz" >/dev/null || fail "fuotad not ready at $url"
curl -fs "$url/" | grep -qi '<!doctype html' || fail "the web UI is not served at /"
status=$(curl -s -o /dev/null -w '%{http_code}' "$url/api/v1/jobs")
[ "$status" = 401 ] || fail "GET /api/v1/jobs without a token: $status, not 401"
curl -fs -H "Authorization: Bearer $token" "$url/api/v1/jobs" | jq -e '.items | type == "array"' \
	>/dev/null || fail "GET /api/v1/jobs with the admin token"
# A device root key is sealed with the master key the configuration names.
appkey=000102030405060708090a0b0c0d0e0f
status=$(curl -s -o "$WORK/device.json" -w '%{http_code}' -H "Authorization: Bearer $token" \
	-H 'Content-Type: application/json' -d '{"dev_eui": "70b3d57ed0000001", "application_id":
	"app", "lorawan_version": "1.0.4", "gen_app_key": "'$appkey'", "class": "C", "region": "EU868"}' \
	"$url/api/v1/devices")
[ "$status" = 201 ] || { cat "$WORK/device.json" >&2; fail "POST /api/v1/devices: $status"; }
sealed=$(cp_psql fuota_package "SELECT count(*) FROM device WHERE dev_eui = '70b3d57ed0000001'
	AND length(key_box) > 16 AND position('\\x$appkey'::bytea IN key_box) = 0")
[ "$sealed" = 1 ] || fail "the device's root key is not sealed in the database ($sealed)"
ok "the packaged fuotad serves the API, the web UI and /readyz, and seals device keys"
grep -qF "$token" "$WORK/fuotad.log" && fail "the token is in fuotad's log"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid= # reaped: its number may be another process's by the time the trap runs
[ "$rc" = 0 ] || fail "fuotad exited $rc on SIGTERM"
ok "fuotad stopped cleanly on SIGTERM"
