# shellcheck shell=sh
# The start every fuota-tool shell test shares. A test runs as `sh <script> <fuota-tool>` and
# begins with
#     . "$(dirname "$0")/lib.sh"
# which sets TOOL (the program under test), FAILS (0) and TMP (a fresh directory, removed on
# exit), and defines the helpers below. It ends with `finish "<what passed>"`.
set -u
TOOL=$1
FAILS=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

ok() { echo "ok   $1"; }
fail() {
	echo "FAIL $1"
	FAILS=$((FAILS + 1))
}

# has NAME STRING SUBSTRING
has() {
	case "$2" in
	*"$3"*) ok "$1" ;;
	*) fail "$1: '$2' lacks '$3'" ;;
	esac
}

# hex2bin HEX...: the bytes of the hex arguments (joined) on stdout. perl is part of every Debian
# system (perl-base is essential); POSIX printf has octal escapes only.
hex2bin() { perl -e 'print pack("H*", join("", @ARGV))' "$@"; }

# expect NAME WANT_STDOUT WANT_STATUS -- ARGS...: fuota-tool ARGS must print exactly WANT_STDOUT
# and exit with WANT_STATUS.
expect() {
	name=$1 want=$2 want_rc=$3
	shift 4
	got=$("$TOOL" "$@" 2>/dev/null)
	rc=$?
	if [ "$got" != "$want" ] || [ "$rc" -ne "$want_rc" ]; then
		fail "$name: got '$got' (exit $rc), want '$want' (exit $want_rc)"
	else
		ok "$name"
	fi
}

# expect_in STREAM NAME SUBSTRING WANT_STATUS -- ARGS...: fuota-tool ARGS must write SUBSTRING
# to STREAM (out or err) and exit with WANT_STATUS.
expect_in() {
	stream=$1 name=$2 want=$3 want_rc=$4
	shift 5
	if [ "$stream" = out ]; then
		got=$("$TOOL" "$@" 2>/dev/null)
	else
		got=$("$TOOL" "$@" 2>&1 >/dev/null)
	fi
	rc=$?
	case "$got" in
	*"$want"*) [ "$rc" -eq "$want_rc" ] && ok "$name" && return ;;
	esac
	fail "$name: std$stream '$got' (exit $rc), want '*$want*' (exit $want_rc)"
}

# expect_out / expect_err NAME SUBSTRING WANT_STATUS -- ARGS...: expect_in for stdout / stderr.
expect_out() { expect_in out "$@"; }
expect_err() { expect_in err "$@"; }

# finish MESSAGE: exits 1 after a failure, else prints MESSAGE.
finish() {
	if [ "$FAILS" -ne 0 ]; then
		echo "$FAILS failure(s)"
		exit 1
	fi
	echo "$1"
}
