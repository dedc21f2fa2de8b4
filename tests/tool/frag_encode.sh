#!/bin/sh
# fuota-tool frag encode and frag bench.
# - The frames file of data = bytes 0..99, FragSize 10, 10 redundancy rows must hold the header,
#   the data and the PROTOCOL-NOTES §4.7 coded fragments (v1, v2 relative, v2 absolute).
# - Padding, --redundancy-percent rounding, threads giving identical files, the 16383 warning,
#   and clear errors for bad options and an empty input.
# - frag bench on the smallest workload verifies the fast encoder against the reference.
# Usage: sh frag_encode.sh <fuota-tool>
# shellcheck source=tests/tool/lib.sh
. "$(dirname "$0")/lib.sh"

# hexof FILE OFFSET COUNT: COUNT bytes at OFFSET as space-separated lowercase hex.
hexof() {
	od -An -v -tx1 -j "$2" -N "$3" "$1" | tr -s ' \n' '  ' | sed 's/^ //; s/ $//'
}

# check NAME FILE OFFSET WANT_HEX
check() {
	got=$(hexof "$2" "$3" $(($(echo "$4" | wc -w))))
	if [ "$got" = "$4" ]; then ok "$1"; else fail "$1: got '$got', want '$4'"; fi
}

i=0
while [ $i -lt 100 ]; do
	printf "%b" "\\0$(printf %03o "$i")"
	i=$((i + 1))
done >"$TMP/d100.bin"

# header: FRG1, nb_frag 10, frag_size 10, redundancy 10, padding 0; then data, then N = 11..20
"$TOOL" frag encode --frag-size 10 --redundancy 10 "$TMP/d100.bin" "$TMP/v1.frg" ||
	fail "encode v1 exit status"
check "v1 header" "$TMP/v1.frg" 0 "46 52 47 31 0a 00 00 00 0a 00 00 00 0a 00 00 00 00 00 00 00"
check "v1 data copied" "$TMP/v1.frg" 20 "00 01 02 03 04 05 06 07 08 09 0a"
check "v1 N=11" "$TMP/v1.frg" 120 "26 26 22 22 2e 2e 22 22 26 26"
check "v1 N=14" "$TMP/v1.frg" 150 "36 36 32 32 3e 3e 22 22 36 36"
check "v1 N=20" "$TMP/v1.frg" 210 "22 23 24 25 26 27 18 19 0a 0b"
if [ "$(wc -c <"$TMP/v1.frg")" -eq 220 ]; then ok "v1 size"; else fail "v1 size"; fi

# the output is written over in place, not truncated first: a longer old file is cut to size,
# a shorter one grows, the input may be the output, and a device (no truncation) works
head -c 5000 /dev/urandom >"$TMP/over.frg"
cp "$TMP/d100.bin" "$TMP/self.frg"
for out in over self; do
	"$TOOL" frag encode --frag-size 10 --redundancy 10 "$TMP/d100.bin" "$TMP/$out.frg" &&
		"$TOOL" frag encode --frag-size 10 --redundancy 10 "$TMP/$out.frg" "$TMP/$out.frg"
done
"$TOOL" frag encode --frag-size 10 --redundancy 10 "$TMP/d100.bin" "$TMP/over.frg"
if cmp -s "$TMP/v1.frg" "$TMP/over.frg"; then ok "longer old output cut to size"; else
	fail "old output not replaced exactly"
fi
"$TOOL" frag encode --frag-size 10 --redundancy 10 "$TMP/v1.frg" "$TMP/big1.frg"
if cmp -s "$TMP/big1.frg" "$TMP/self.frg"; then ok "input = output"; else fail "input = output"; fi
if "$TOOL" frag encode --frag-size 10 --redundancy 10 "$TMP/d100.bin" /dev/null; then
	ok "output to a device"
else
	fail "output to /dev/null"
fi

# the input is mapped, not read, unless it is the output: an image ending on a page boundary
# has its padding past the file's last page (zero, not a fault), and both paths agree
for size in 4096 8192 12001; do
	head -c "$size" /dev/urandom >"$TMP/pg.bin"
	cp "$TMP/pg.bin" "$TMP/pgself.frg"
	if "$TOOL" frag encode --frag-size 100 --redundancy 60 "$TMP/pg.bin" "$TMP/pg.frg" &&
		"$TOOL" frag encode --frag-size 100 --redundancy 60 "$TMP/pgself.frg" \
			"$TMP/pgself.frg" && cmp -s "$TMP/pg.frg" "$TMP/pgself.frg" &&
		[ "$(hexof "$TMP/pg.frg" $((20 + size)) $((100 - size % 100)) | tr -d ' 0')" = "" ]; then
		ok "mapped input of $size bytes: zero padding, same frames as a read one"
	else
		fail "mapped input of $size bytes"
	fi
done

"$TOOL" frag encode --frag-size 10 --redundancy 10 --ts004 2 "$TMP/d100.bin" "$TMP/v2.frg" ||
	fail "encode v2 exit status"
check "v2 relative N=11" "$TMP/v2.frg" 120 "68 69 52 53 5c 5d 76 77 70 71"
check "v2 relative N=20" "$TMP/v2.frg" 210 "00 01 3a 3b 44 45 7e 7f 68 69"
"$TOOL" frag encode --frag-size 10 --redundancy 10 --ts004 2 --v2-seed absolute \
	"$TMP/d100.bin" "$TMP/v2a.frg" || fail "encode v2 absolute exit status"
check "v2 absolute N=11" "$TMP/v2a.frg" 120 "5a 5b 64 65 1e 1f 18 19 02 03"
check "v2 absolute N=20" "$TMP/v2a.frg" 210 "1a 1b 24 25 5e 5f 48 49 42 43"

# 95 bytes in fragments of 10: 10 fragments, 5 bytes of padding; 25 % of 10 -> R = ceil(2.5) = 3
head -c 95 "$TMP/d100.bin" >"$TMP/d95.bin"
"$TOOL" frag encode --frag-size 10 --redundancy-percent 25 "$TMP/d95.bin" "$TMP/p.frg" ||
	fail "encode percent exit status"
check "padding and percent header" "$TMP/p.frg" 4 \
	"0a 00 00 00 0a 00 00 00 03 00 00 00 05 00 00 00"
check "zero padding" "$TMP/p.frg" 110 "5a 5b 5c 5d 5e 00 00 00 00 00"

# threads: identical frames (jobs large enough that 3 threads really start), FragSize 1..255
head -c 300000 /dev/urandom >"$TMP/r.bin"
head -c 1048576 /dev/urandom >"$TMP/r2.bin"
for job in "1 300 r" "48 1000 r2" "255 3000 r2"; do
	# shellcheck disable=SC2086 # split on purpose: FragSize, redundancy, input
	set -- $job
	if "$TOOL" frag encode --frag-size "$1" --redundancy "$2" "$TMP/$3.bin" "$TMP/t1.frg" \
		2>/dev/null &&
		"$TOOL" frag encode --frag-size "$1" --redundancy "$2" --threads 3 "$TMP/$3.bin" \
			"$TMP/t3.frg" 2>/dev/null && cmp -s "$TMP/t1.frg" "$TMP/t3.frg"; then
		ok "threads 1 == threads 3 (FragSize $1)"
	else
		fail "threads differ (FragSize $1)"
	fi
done

# more than one session can carry: written, with a warning
if "$TOOL" frag encode --frag-size 16 --redundancy-percent 10 "$TMP/r.bin" "$TMP/big.frg" \
	2>"$TMP/err" && grep -q "16383" "$TMP/err" && [ -s "$TMP/big.frg" ]; then
	ok "warning above 16383 frames"
else
	fail "warning above 16383 frames"
fi
if "$TOOL" frag encode --frag-size 10 --redundancy 10 "$TMP/d100.bin" "$TMP/v1b.frg" \
	2>"$TMP/err" && [ ! -s "$TMP/err" ]; then
	ok "no warning for one session"
else
	fail "unexpected stderr for one session"
fi

# errors: exit status 2 for bad options, 1 for a bad input file, with a message on stderr
encode_err() { # NAME WANT_RC WORD ARGS...
	name=$1 want=$2 word=$3
	shift 3
	"$TOOL" frag encode "$@" >/dev/null 2>"$TMP/err"
	rc=$?
	if [ $rc -eq "$want" ] && grep -qi -- "$word" "$TMP/err"; then ok "$name"; else
		fail "$name: exit $rc, stderr: $(cat "$TMP/err")"
	fi
}
: >"$TMP/empty.bin"
encode_err "frag size 0" 2 frag-size --frag-size 0 --redundancy 1 "$TMP/d100.bin" "$TMP/x"
encode_err "frag size 256" 2 frag-size --frag-size 256 --redundancy 1 "$TMP/d100.bin" "$TMP/x"
encode_err "empty input" 1 empty --frag-size 10 --redundancy 1 "$TMP/empty.bin" "$TMP/x"
encode_err "missing input" 1 "$TMP/nope" --frag-size 10 --redundancy 1 "$TMP/nope" "$TMP/x"
encode_err "both redundancies" 2 redundancy --frag-size 10 --redundancy 1 \
	--redundancy-percent 5 "$TMP/d100.bin" "$TMP/x"
encode_err "bad percent" 2 percent --frag-size 10 --redundancy-percent 5x "$TMP/d100.bin" "$TMP/x"
encode_err "bad version" 2 ts004 --frag-size 10 --redundancy 1 --ts004 3 "$TMP/d100.bin" "$TMP/x"
encode_err "absolute seed needs v2" 2 v2-seed --frag-size 10 --redundancy 1 --v2-seed absolute \
	"$TMP/d100.bin" "$TMP/x"
encode_err "seed too large" 2 "too large" --frag-size 10 --redundancy 4294967295 \
	"$TMP/d100.bin" "$TMP/x"

# bench: smallest workload, verified against the reference, machine-readable
if "$TOOL" frag bench --workloads a --reps 1 --ref-reps 1 --json >"$TMP/bench.json" &&
	grep -q '"verified": true' "$TMP/bench.json" && grep -q '"encoder": "reference"' \
	"$TMP/bench.json"; then ok "bench a verified"; else fail "bench a"; fi
# bench --isa: the portable kernels run on every CPU and are the ones the run names
if "$TOOL" frag bench --workloads a --reps 1 --ref-reps 1 --isa portable --json \
	>"$TMP/bench.json" && grep -q '"kernels": "portable"' "$TMP/bench.json" &&
	grep -q '"verified": true' "$TMP/bench.json"; then ok "bench --isa portable"; else
	fail "bench --isa portable"; fi
rc=0
"$TOOL" frag bench --isa sse9 >/dev/null 2>&1 || rc=$?
if [ "$rc" -eq 2 ]; then ok "bench --isa sse9 refused"; else fail "bench --isa sse9"; fi

finish "all frag encode tests passed"
