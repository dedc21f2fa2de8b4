#!/bin/sh
# cellular.fw-cli-<case>: the fuota-modem command line updates fuota-modem-sim on its pty.
#   fw_cli.sh SIM CLI CASE    CASE: foat | uart | http | ftp | install-powerloss |
#                             validation-fail | uart-dl-powerloss | http-dl-powerloss |
#                             ftp-dl-powerloss (power lost mid-download: downloaded again) |
#                             http-dl-greeting (the same, seen by the boot greeting at once) |
#                             http-pdp-left (SIGKILL with PSD up: the next run takes it down) |
#                             uart-again (the finished update asked again: done, nothing sent) |
#                             foat-fallback (the state file says Firmware Update Mode, the
#                             module runs normally: a fresh FOAT at once) |
#                             ufota-ack (a uFOTA campaign in wait-for-ack mode) |
#                             kill-uart | kill-http | kill-ftp (SIGKILL at random
#                             points) | kill-foat (SIGKILL
#                             mid-transfer, then mid-install) | kill-ufota (a
#                             campaign: SIGKILL and power loss mid-download, SIGKILL
#                             mid-install) | ufota-register (+ULWM2MREG, +USECMODE,
#                             the SRLT, a check-in; exit 4 for a failed registration)
# Checks the exit code, the state file (read back complete by `status`, exit 6 otherwise) with
# the versions the CLI read by ATI9, no credential in a log, and the simulator's NVM: the version it runs and, after a
# success, the MNO profile restored (Table 16 resets it). FW_CLI_KEEP=DIR keeps the work folder
# (the AT log, the state file, the NVM) for a look after the run.
set -u
SIM=$1 CLI=$2 CASE=$3
D=$(mktemp -d /tmp/fwcli-XXXXXX)
trap 'kill "$SIMPID" 2>/dev/null; wait "$SIMPID" 2>/dev/null; [ -n "${FW_CLI_KEEP:-}" ] && cp -r "$D" "$FW_CLI_KEEP"; rm -rf "$D"' EXIT
mkdir "$D/fs" "$D/www"
python3 - "$D" <<'PY'
import os, struct, sys, zlib
def pkg(frm, to, body):
    h = b'FSIMFWP1' + frm.encode().ljust(24, b'\0') + to.encode().ljust(24, b'\0')
    h += struct.pack('<I', len(body))
    return h + struct.pack('<I', zlib.crc32(h + body)) + body
d = sys.argv[1]
open(d + '/full.upd', 'wb').write(pkg('', '03.16,A00.02', os.urandom(20000)))
open(d + '/delta.upd', 'wb').write(pkg('03.15,A00.01', '03.16,A00.02', os.urandom(6000)))
open(d + '/www/big.upd', 'wb').write(pkg('03.15,A00.01', '03.16,A00.02', os.urandom(200000)))
bad = bytearray(pkg('03.15,A00.01', '03.16,A00.02', os.urandom(6000)))
bad[200] ^= 1
open(d + '/bad.upd', 'wb').write(bytes(bad))
PY
FAULT=
NETRATE=
case $CASE in
kill-ufota) NETRATE=40000 ;; # a 200 kB uFOTA download in about 5 s
ufota-register) NETRATE=4000 ;; # 6 kB: the download outlasts the CLI that starts it
install-powerloss) FAULT="fw-power-install 40" ;;
*-dl-powerloss | http-dl-greeting) FAULT="fw-power-dl 3000" ;;
esac
cp "$D/delta.upd" "$D/www/delta.upd"
# credentials that must never reach a log
SECRET=pw-$$-never-logged
"$SIM" --fs "$D/fs" --www "$D/www" --state "$D/nvm" --control "$D/ctl" --boot-ms 300 \
	--reg-ms 300 --install-ms 1500 --xmodem-scale 20 ${FAULT:+--fault} ${FAULT:+"$FAULT"} \
	${NETRATE:+--net-rate} ${NETRATE:+"$NETRATE"} >"$D/pty" 2>"$D/sim.err" &
SIMPID=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$D/pty" ] && break; sleep 0.2; done
PTY=$(head -n 1 "$D/pty")
run() { "$CLI" --tty "$PTY" --state "$D/st" --log "$D/at.log" "$@"; }
fail() { echo "FAIL: $*"; tail -n 40 "$D/at.log" 2>/dev/null; exit 1; }
# the state the state file holds ("" when it cannot be read)
state() { "$CLI" --state "$D/st" --json status 2>/dev/null | sed -n 's/.*"state": *"\([a-z -]*\)".*/\1/p'; }
# killat STATE PCT ARGS...: fuota-modem ARGS in the background, SIGKILLed once its state file
# says STATE at PCT % or more (polled every 50 ms; 60 s at most)
killat() {
	want=$1 pct=$2
	shift 2
	"$CLI" --tty "$PTY" --state "$D/st" --log "$D/at.log" "$@" >/dev/null 2>&1 &
	kpid=$!
	for _ in $(seq 1200); do
		j=$("$CLI" --state "$D/st" --json status 2>/dev/null)
		p=$(echo "$j" | sed -n 's/.*"pct": *\([0-9]*\).*/\1/p')
		case $j in *"\"state\":\"$want\""*) [ "${p:-0}" -ge "$pct" ] && break ;; esac
		kill -0 "$kpid" 2>/dev/null || fail "fuota-modem ended before $want $pct %"
		sleep 0.05
	done
	kill -9 "$kpid"
	wait "$kpid" 2>/dev/null
	echo "SIGKILL: $want at $p %"
	"$CLI" --state "$D/st" status >/dev/null || fail "state file incomplete after SIGKILL"
}
# watch_campaign FILE TIMEOUT OUT: fuota-modem watch in the background ($wpid: the CLI itself,
# not a subshell), then, once it has booted the module, a uFOTA campaign of FILE
watch_campaign() {
	boots=$(grep -c '> AT+CEREG=2' "$D/at.log")
	"$CLI" --tty "$PTY" --state "$D/st" --log "$D/at.log" watch --timeout "$2" >"$3" 2>&1 &
	wpid=$!
	for _ in $(seq 200); do
		[ "$(grep -c '> AT+CEREG=2' "$D/at.log")" -gt "$boots" ] && break
		sleep 0.05
	done
	echo "ufota-campaign $1" >"$D/ctl"
}
run config --mno 100 --apn 1,IP,fuota.apn || fail "config"
case $CASE in
foat) run update --method foat --package "$D/full.upd"; rc=$? ;;
uart | install-powerloss) run update --method uart --package "$D/delta.upd"; rc=$? ;;
foat-fallback)
	# a state file left in Firmware Update Mode (a host killed mid-transfer) while the module
	# runs its old firmware (it never got +UFWUPD, or the window passed)
	python3 - "$D/st" <<'PY'
import sys, zlib
body = ('fuota-modem-state 1\nstate=update-mode\nmethod=foat\npct=20\nresult=0\nfail=0\n'
        'fail_code=0\nufota_mode=0\nsends=1\nfoat_baud=460800\nseq=7\n'
        'ver_before=03.15,A00.01\nver_after=\nmno=100\napn=0,,\napn=0,,\napn=0,,\napn=0,,\n'
        'psm=-1,,\nedrx=-1,4,\nurcs=0,0\n')
open(sys.argv[1], 'w').write(body + 'crc=%08x\n' % zlib.crc32(body.encode()))
PY
	"$CLI" --state "$D/st" status >/dev/null || fail "the crafted state file does not read"
	run update --method foat --package "$D/full.upd" 2>"$D/err"
	rc=$?
	# the AT probe answers at once: +UFWUPD follows within seconds, not after the 25 s wait
	# for a handshake that never comes
	t0=$(sed -n 's/^\[ *\([0-9]*\)\.[0-9]*\] FOAT under way: the package again.*/\1/p' "$D/at.log")
	t1=$(sed -n 's/^\[ *\([0-9]*\)\.[0-9]*\] AT+UFWUPD=.*/\1/p' "$D/at.log" | head -n 1)
	echo "probe to +UFWUPD: $t0 s to $t1 s"
	if [ -z "$t0" ] || [ -z "$t1" ]; then fail "no resume or no +UFWUPD"; fi
	[ $((t1 - t0)) -lt 10 ] || fail "the fallback waited $((t1 - t0)) s"
	grep -q 'the module answers AT' "$D/at.log" || fail "no AT probe first"
	;;
uart-again)
	run update --method uart --package "$D/delta.upd" >/dev/null 2>&1 || fail "first update"
	# the delta again to the module it updated would fail with 168 (wrong base version)
	run update --method uart --package "$D/delta.upd" 2>"$D/err"
	rc=$?
	grep -q 'done already' "$D/err" || fail "not reported done: $(cat "$D/err")"
	[ "$(grep -c 'AT+UDWNFILE=' "$D/at.log")" -eq 1 ] || fail "the package was sent again"
	;;
validation-fail) run update --method uart --package "$D/bad.upd"; rc=$? ;;
uart-dl-powerloss)
	# the power goes at byte 3000 of the +UDWNFILE: no OK; the download again from scratch
	run update --method uart --package "$D/delta.upd" --timeout 4 2>"$D/err"
	rc=$?
	;;
http | ftp | http-dl-powerloss | ftp-dl-powerloss)
	# +UHTTPC=0,100 / +UFTPC=100 into the FOAT area, the MD5 checked against the package's;
	# with the fault the power goes at byte 3000 and the download starts again
	run update --method "${CASE%%-*}" --server fw.example --path /delta.upd \
		--package "$D/delta.upd" --user fuota --password "$SECRET" --timeout 4 2>"$D/err"
	rc=$?
	grep -q "$SECRET" "$D/at.log" "$D/err" && fail "the password is in a log"
	grep -q 'AT+U[HF]TT*P=.*\*\*\*' "$D/at.log" || fail "no masked credential in the AT log"
	;;
http-pdp-left)
	# SIGKILL right after PSD came up: the profile stays active in the module and the next
	# run's activation is refused until it is taken down
	set -- update --method http --server fw.example --path /delta.upd --package "$D/delta.upd" \
		--user fuota --password "$SECRET" --timeout 4
	"$CLI" --tty "$PTY" --state "$D/st" --log "$D/at.log" "$@" >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 400); do
		grep -q '< +UUPSDA: 0' "$D/at.log" 2>/dev/null && break
		sleep 0.02
	done
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	run "$@" 2>"$D/err"
	rc=$?
	grep -q 'AT+UPSDA=0,4' "$D/at.log" || fail "the profile left active was not taken down"
	;;
http-dl-greeting)
	# the restart is told by the module's greeting (+CSGT, enabled at boot): the download
	# starts again at once, not when the 60 s --timeout runs out
	t0=$(date +%s)
	run update --method http --server fw.example --path /delta.upd \
		--package "$D/delta.upd" --user fuota --password "$SECRET" --timeout 60 2>"$D/err"
	rc=$?
	t=$(($(date +%s) - t0))
	echo "update with a restart mid-download: $t s"
	[ "$t" -lt 40 ] || fail "the restart was seen only at the timeout ($t s)"
	grep -q 'AT+CSGT=1,"FUOTA: READY"' "$D/at.log" || fail "the greeting was not enabled"
	grep -q 'boot greeting: it restarted' "$D/at.log" || fail "the greeting was not recognised"
	grep -q "$SECRET" "$D/at.log" "$D/err" && fail "the password is in a log"
	;;
kill-foat)
	# SIGKILL mid-transfer, then the same update again killed mid-install, then once more to
	# the end: the update must go on from where it stands each time (§4.1.1: the package
	# again to a module in Firmware Update Mode; an install waited for, never sent again)
	killat "update-mode" 20 update --method foat --package "$D/full.upd"
	killat "installing" 30 update --method foat --package "$D/full.upd"
	run update --method foat --package "$D/full.upd"
	rc=$?
	grep -q 'FOAT under way: the package again' "$D/at.log" || fail "no package sent again"
	grep -q 'FOAT under way: waiting for its install' "$D/at.log" || fail "no install waited for"
	[ "$(grep -c 'AT+UFWUPD=' "$D/at.log")" -eq 1 ] || fail "+UFWUPD sent more than once"
	;;
ufota-ack)
	# a wait-for-ack campaign (§3.4.2) from the command line: watch returns when the server
	# asks; ack 20 accepts (the download starts 1 s later at the simulator's scale) and
	# follows the download and the server's install to the new version
	run ufota config 2 >/dev/null || fail "ufota config"
	run ufota enable >/dev/null || fail "ufota enable"
	watch_campaign delta.upd 30 "$D/watch.out"
	wait "$wpid" || fail "watch: exit $?"
	grep -q 'ack-pending' "$D/watch.out" || fail "watch did not stop at the server's request"
	run ufota ack 20
	rc=$?
	;;
ufota-register)
	# §3.1.1 / §3.6 from the command line: registered to server 721 with the secure suite on;
	# the SRLT read, then written, a check-in that starts the campaign the server held (download
	# only, installed by the host); then a module whose suite was off before its first
	# registration: exit 4 and why
	run ufota config 1 >/dev/null || fail "ufota config"
	run ufota enable >/dev/null || fail "ufota enable"
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		run ufota register >"$D/reg.out" 2>&1 && grep -q 'status 3' "$D/reg.out" && break
		sleep 0.3
	done
	grep -q 'server 721 status 3 (3: registered), USECMODE 1' "$D/reg.out" ||
		fail "not registered: $(cat "$D/reg.out")"
	run ufota srlt | grep -q 'lifetime 86400 s' || fail "SRLT not read"
	echo "ufota-offer delta.upd" >"$D/ctl"
	run ufota srlt 7200 | grep -q 'lifetime 7200 s' || fail "SRLT not written"
	run watch --timeout 30 >/dev/null 2>&1 || fail "watch: exit $?"
	[ "$(state)" = downloaded ] || fail "the campaign did not follow the check-in: $(state)"
	run install
	rc=$?
	printf 'ufota-secmode 0\nufota-fresh\nreboot\n' >"$D/ctl"
	sleep 1
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		run ufota register >"$D/reg.out" 2>&1
		rrc=$?
		grep -q 'status 0' "$D/reg.out" || break
		sleep 0.3
	done
	cat "$D/reg.out"
	[ "$rrc" -eq 4 ] || fail "register: exit $rrc, wanted 4 (refused: uFOTA not possible)"
	grep -q 'with +USECMODE: 0.*not possible' "$D/reg.out" || fail "the reason is not given"
	;;
kill-ufota)
	# a default-mode campaign (§3.5) followed by watch, SIGKILLed mid-download; the power
	# lost while no fuota-modem runs (the module downloads again from the start, §3.2.2);
	# resume says where the download stands (+UFOTA?); watch SIGKILLed mid-install; resume
	# waits for the install (never a reset) and restores the settings
	run ufota enable >/dev/null || fail "ufota enable"
	watch_campaign big.upd 60 /dev/null
	for _ in $(seq 400); do
		j=$("$CLI" --state "$D/st" --json status 2>/dev/null)
		case $j in *'"state":"downloading"'*'"pct":'[3-9]0*) break ;; esac
		sleep 0.05
	done
	kill -9 "$wpid"
	wait "$wpid" 2>/dev/null
	echo "SIGKILL: watch, $(state)"
	[ "$(state)" = downloading ] || fail "not killed mid-download"
	echo power-off >"$D/ctl"
	sleep 0.3
	echo power-on >"$D/ctl"
	sleep 1
	run resume >"$D/resume.out" 2>&1
	cat "$D/resume.out"
	grep -q 'uFOTA download: [0-9]* of 200064 bytes' "$D/resume.out" ||
		fail "resume did not say where the download stands"
	killat installing 20 watch --timeout 60
	run resume
	rc=$?
	grep -c 'AT+UFWINSTALL' "$D/at.log" | grep -q '^0$' || fail "the host sent +UFWINSTALL"
	;;
kill-uart | kill-http | kill-ftp)
	m=${CASE#kill-}
	pkg=$D/delta.upd
	# the update's arguments, word-split on purpose (no blank in any of them)
	upd="update --method $m --package $pkg"
	case $m in http | ftp)
		upd="$upd --server fw.example --path /delta.upd --user fuota --password $SECRET"
		upd="$upd --timeout 4"
		;;
	esac
	# SIGKILL after 0.3 .. 9 s, three times: each time the operator's next step (the update
	# while nothing is under way, else resume) is started and killed. The CLI is started right
	# here, not in a function's subshell: killing such a subshell left fuota-modem running on,
	# a second client on the same port beside the next one (the cause of the old flake).
	for k in 1 2 3; do
		st=$(state)
		[ "$st" = "done" ] && break
		if [ "$st" = idle ] || [ "$st" = failed ]; then
			# shellcheck disable=SC2086
			set -- $upd
		else
			set -- resume
		fi
		"$CLI" --tty "$PTY" --state "$D/st" --log "$D/at.log" "$@" >/dev/null 2>&1 &
		pid=$!
		t=$(awk -v s="$$$k" 'BEGIN { srand(s); printf "%.1f", 0.3 + rand() * 8.7 }')
		# FW_CLI_KILLS="T1 T2 T3" replays the kill times a failed run printed
		[ -n "${FW_CLI_KILLS:-}" ] && t=$(echo "$FW_CLI_KILLS" | cut -d' ' -f"$k")
		echo "SIGKILL $k: $1 ($st) after $t s"
		sleep "$t"
		kill -9 "$pid" 2>/dev/null || echo "  it had ended already"
		wait "$pid" 2>/dev/null
		kill -0 "$pid" 2>/dev/null && fail "fuota-modem $pid outlived its SIGKILL"
		"$CLI" --state "$D/st" status >/dev/null || fail "state file incomplete after SIGKILL $k"
	done
	# resume first; the update again only while the module is not on the new version (a
	# full FOAT package would install again over it)
	rc=1
	for _ in 1 2 3 4; do
		run resume >/dev/null 2>&1
		rc=$?
		echo "resume: exit $rc"
		[ $rc -eq 0 ] && grep -q '^version 03.16,A00.02' "$D/nvm" 2>/dev/null && break
		grep -q '^version 03.16,A00.02' "$D/nvm" 2>/dev/null && continue
		# shellcheck disable=SC2086
		run $upd >/dev/null 2>&1
		rc=$?
		echo "update: exit $rc"
		[ $rc -eq 0 ] && break
	done
	;;
*) fail "unknown case $CASE" ;;
esac
"$CLI" --state "$D/st" --json status >"$D/status.json"
src=$?
[ $src -eq 0 ] || fail "status exit $src: the state file is not complete"
cat "$D/status.json"
if [ "$CASE" = validation-fail ]; then
	[ $rc -eq 1 ] || fail "exit $rc, wanted 1 (the update failed)"
	grep -q '"state": *"failed"' "$D/status.json" || fail "not failed"
	grep -q '148' "$D/status.json" || fail "no code 148"
	grep -q '"version_after":"03.15,A00.01"' "$D/status.json" || fail "the version changed"
	[ ! -f "$D/nvm" ] || grep -q '^version 03.15,A00.01' "$D/nvm" || fail "the module changed"
else
	[ $rc -eq 0 ] || fail "exit $rc, wanted 0"
	grep -q '"state": *"done"' "$D/status.json" || fail "not done"
	grep -q '03.16,A00.02' "$D/status.json" || fail "no new version"
	grep -q '^version 03.16,A00.02' "$D/nvm" || fail "the module is not on the new version"
	grep -q '^mnoprof 100' "$D/nvm" || fail "the MNO profile was not restored"
fi
case $CASE in *-dl-powerloss | http-dl-greeting)
	grep -q 'the download again' "$D/at.log" || fail "the download did not start again"
	[ "$(grep -c 'AT+UDELFILE="updatePackage.bin","FOAT"' "$D/at.log")" -ge 2 ] ||
		fail "the stale package was not deleted before the second download"
	;;
esac
grep -q "$SECRET" "$D/at.log" && fail "the password is in the AT log"
# the simulator tells of a reset command sent while it installed or waited in update mode
grep 'RESET DURING UPDATE' "$D/sim.err" && fail "a reset during the update"
grep -E 'Sanitizer|runtime error' "$D/sim.err" && fail "the simulator's sanitizer report"
echo PASS
