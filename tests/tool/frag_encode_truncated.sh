#!/bin/sh
# fuota-tool frag encode of an input that another process truncates while the tool reads it (the
# input is mapped: the pages past the new end leave the mapping) or rewrites in place (same size:
# the MAP_PRIVATE mapping shows the new bytes). truncate_shim.so, preloaded, changes it at a fixed
# moment, so there is no race:
# - truncated at the mapping, before the encoder reads it (SIGBUS in the encoder, one thread or
#   three);
# - truncated at the writev of the output (EFAULT in the kernel's copy from the mapping);
# - rewritten at the mapping (seen by fstat after the encode) or at the writev (after the write).
# Either way the tool exits 1 with one line naming the input, dumps no core, and leaves no
# corrupt frames file: the old output untouched (encoder) or emptied (writev).
# Usage: sh frag_encode_truncated.sh <fuota-tool> <truncate_shim.so>
# shellcheck source=tests/tool/lib.sh
. "$(dirname "$0")/lib.sh"
SHIM=$2
# The ASan runtime wants to come first among the libraries; the shim is preloaded before it.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
export ASAN_OPTIONS

IN=$TMP/in.bin
OUT=$TMP/out.frg
CUT=100000
# 12500 fragments + 1250 rows: one session, no warning on stderr
head -c 600000 /dev/urandom >"$TMP/image.bin"
"$TOOL" frag encode --frag-size 48 --redundancy-percent 10 "$TMP/image.bin" "$TMP/good.frg" ||
	fail "encode of the whole image"

# the shim loaded but not asked to truncate: the same frames
cp "$TMP/image.bin" "$IN"
if LD_PRELOAD=$SHIM "$TOOL" frag encode --frag-size 48 --redundancy-percent 10 "$IN" "$OUT" &&
	cmp -s "$OUT" "$TMP/good.frg"; then
	ok "shim idle: same frames"
else
	fail "shim idle: different frames or a failure"
fi

# truncated AT THREADS WANT_OUTPUT(old|empty): exit 1, one line naming the input, no core, and
# OUTPUT as wanted; the input must really have been cut (else the shim did not run).
# With DO=rewrite, the first CUT bytes are rewritten in place instead, the size unchanged.
truncated() {
	at=$1 threads=$2 want=$3 do=${4:-truncate}
	done=truncated
	[ "$do" = rewrite ] && done=rewritten
	name="$done at $at, $threads thread(s)"
	cp "$TMP/image.bin" "$IN"
	# an old mtime: a rewrite within the clock tick of the copy still changes it
	touch -d @946684800 "$IN"
	cp "$TMP/good.frg" "$OUT"
	(cd "$TMP" && LD_PRELOAD=$SHIM FUOTA_SHIM_FILE=$IN FUOTA_SHIM_SIZE=$CUT FUOTA_SHIM_AT=$at \
		FUOTA_SHIM_DO=$do "$TOOL" frag encode --frag-size 48 --redundancy-percent 10 \
		--threads "$threads" "$IN" "$OUT" >/dev/null 2>"$TMP/err")
	rc=$?
	err=$(cat "$TMP/err")
	if [ "$do" = rewrite ]; then
		if [ "$(wc -c <"$IN")" -ne "$(wc -c <"$TMP/image.bin")" ] ||
			cmp -s "$IN" "$TMP/image.bin"; then
			fail "$name: the shim did not rewrite the input (exit $rc, stderr: $err)"
			return
		fi
	elif [ "$(wc -c <"$IN")" -ne $CUT ]; then
		fail "$name: the shim did not truncate the input (exit $rc, stderr: $err)"
		return
	fi
	[ $rc -eq 1 ] || fail "$name: exit $rc, want 1 (stderr: $err)"
	[ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "$name: want one line on stderr, got: $err"
	has "$name: message" "$err" "fuota-tool: $IN: changed while it was read"
	if ls "$TMP"/core* >/dev/null 2>&1; then fail "$name: core dumped"; fi
	rm -f "$TMP"/core*
	case $want in
	old) if cmp -s "$OUT" "$TMP/good.frg"; then ok "$name: old output kept"; else
		fail "$name: old output changed"
	fi ;;
	empty) if [ ! -s "$OUT" ]; then ok "$name: output emptied"; else
		fail "$name: output of $(wc -c <"$OUT") bytes left"
	fi ;;
	esac
}
truncated mmap 1 old
truncated mmap 3 old
truncated writev 1 empty
# rewritten in place: no SIGBUS, no EFAULT; only the input's fstat shows it
truncated mmap 1 old rewrite
truncated writev 1 empty rewrite
truncated writev 3 empty rewrite

finish "all truncated-input tests passed"
