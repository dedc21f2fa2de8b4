#!/usr/bin/env bash
# A fuzzing campaign over every libFuzzer harness (tests/fuzz/fuzz_<name>.c), for ./fuota fuzz.
#
#   scripts/fuzz.sh FUZZ_BUILD_DIR MINUTES JOBS [HARNESS...]
#
# MINUTES of wall-clock time in all: the harnesses share it, JOBS of them side by side (one per
# core), so each gets MINUTES * 60 * JOBS / harnesses seconds (at least 10). Each runs niced with
# the repository corpus tests/fuzz/corpus/<name> as its seeds and writes what it finds new into a
# scratch directory; afterwards `-merge=1` adds to the repository corpus only the inputs that add
# coverage (the hand-written seeds stay, so the corpus grows by the minimum). A crash, leak,
# timeout or out-of-memory input is kept under var/fuzz/findings/<name>/ (the reproducer: run the
# harness binary on that file) and makes the run exit 1. The summary gives per harness the
# executions, their rate, the coverage (libFuzzer's cov: edges covered by the corpus at the
# start and at the end, ft: features), the corpus files before and after, and the findings.
set -euo pipefail

BUILD=${1:?fuzz build dir}
MINUTES=${2:?minutes}
JOBS=${3:?jobs}
shift 3
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CORPUS=$ROOT/tests/fuzz/corpus
RUN=$ROOT/var/fuzz/run-$(date -u +%Y%m%dT%H%M%SZ)
FINDINGS=$ROOT/var/fuzz/findings

die() { printf 'fuzz: %s\n' "$*" >&2; exit 2; }

[[ $MINUTES =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--minutes wants a number, not '$MINUTES'"
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die "--jobs wants a positive integer, not '$JOBS'"

harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
	mapfile -t harnesses < <(cd "$ROOT/tests/fuzz" && for f in fuzz_*.c; do
		f=${f#fuzz_}
		echo "${f%.c}"
	done)
fi
[ ${#harnesses[@]} -gt 0 ] || die "no harness in tests/fuzz"
for h in "${harnesses[@]}"; do
	[ -x "$BUILD/bin/fuzz_$h" ] || die "no harness binary $BUILD/bin/fuzz_$h (unknown harness?)"
done

secs=$(awk -v m="$MINUTES" -v j="$JOBS" -v n=${#harnesses[@]} \
	'BEGIN { s = int(m * 60 * j / n); print (s < 10 ? 10 : s) }')
mkdir -p "$RUN" "$FINDINGS"
printf 'fuzz: %d harnesses, %d s each, %d side by side (%s min in all); logs in %s\n' \
	${#harnesses[@]} "$secs" "$JOBS" "$MINUTES" "$RUN" >&2

pids=()
stop() { # the fuzzers are the children of this script's fuzz_one subshells
	local p
	for p in "${pids[@]}"; do
		pkill -TERM -P "$p" 2>/dev/null || true
		kill "$p" 2>/dev/null || true
	done
	exit 130
}
trap stop INT TERM

# One harness: fuzz for secs seconds from the repository corpus, new inputs into RUN/<h>/new.
fuzz_one() {
	local h=$1 dir=$RUN/$1 rc=0
	mkdir -p "$dir/new" "$dir/artifacts" "$CORPUS/$h"
	find "$CORPUS/$h" -type f | wc -l >"$dir/corpus_before"
	nice -n 10 "$BUILD/bin/fuzz_$h" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$dir/artifacts/" "$dir/new" "$CORPUS/$h" \
		>"$dir/log" 2>&1 || rc=$?
	echo "$rc" >"$dir/rc"
}

for h in "${harnesses[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
	fuzz_one "$h" &
	pids+=($!)
done
wait || true
trap - INT TERM

# Found inputs are named by their SHA-1 (40 hex digits); every other name is a hand-written seed.
is_found() { [[ $(basename "$1") =~ ^[0-9a-f]{40}$ ]]; }

# Merge: the seeds, then the fewest of the inputs found before and now that cover everything
# they cover beyond the seeds (libFuzzer's -merge=1 into a copy of the seeds). The repository
# corpus gets exactly that: found inputs another one now covers leave it.
merge_one() {
	local h=$1 dir=$RUN/$1 f
	mkdir -p "$dir/min" "$dir/old"
	for f in "$CORPUS/$h"/*; do
		[ -f "$f" ] || continue
		if is_found "$f"; then cp "$f" "$dir/old/"; else cp "$f" "$dir/min/"; fi
	done
	if ! nice -n 10 "$BUILD/bin/fuzz_$h" -merge=1 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$dir/artifacts/" "$dir/min" "$dir/old" "$dir/new" \
		>"$dir/merge.log" 2>&1; then
		echo "merge failed (corpus unchanged): see $dir/merge.log" >>"$dir/notes"
		return 0
	fi
	for f in "$CORPUS/$h"/*; do
		if [ -f "$f" ] && is_found "$f" && [ ! -e "$dir/min/$(basename "$f")" ]; then
			rm -f "$f"
		fi
	done
	for f in "$dir/min"/*; do
		if [ -f "$f" ] && is_found "$f"; then cp "$f" "$CORPUS/$h/"; fi
	done
}

for h in "${harnesses[@]}"; do
	merge_one "$h"
	find "$CORPUS/$h" -type f | wc -l >"$RUN/$h/corpus_after"
done

# The summary, from libFuzzer's final stats and its last status line.
found=0
total_execs=0
printf '\n%-12s %6s %12s %9s %11s %6s %13s %s\n' harness secs execs 'execs/s' 'cov' ft \
	'corpus files' findings
for h in "${harnesses[@]}"; do
	dir=$RUN/$h
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)
	cov0=$(sed -n 's/.*INITED cov: \([0-9]*\).*/\1/p' "$dir/log" | head -1)
	cov=$(grep -o 'cov: [0-9]*' "$dir/log" | tail -1 | cut -d' ' -f2)
	ft=$(grep -o 'ft: [0-9]*' "$dir/log" | tail -1 | cut -d' ' -f2)
	kept=()
	for a in "$dir"/artifacts/*; do
		[ -e "$a" ] || continue
		mkdir -p "$FINDINGS/$h"
		cp "$a" "$FINDINGS/$h/"
		kept+=("$FINDINGS/$h/$(basename "$a")")
	done
	what=none
	if [ ${#kept[@]} -gt 0 ] || [ "$(cat "$dir/rc")" != 0 ]; then
		found=1
		what="rc $(cat "$dir/rc"): ${kept[*]:-no reproducer (see $dir/log)}"
	fi
	[ -f "$dir/notes" ] && what="$what; $(cat "$dir/notes")"
	total_execs=$((total_execs + ${execs:-0}))
	printf '%-12s %6s %12s %9s %4s -> %-4s %6s %5s -> %-5s %s\n' "$h" "$secs" "${execs:-?}" \
		"${rate:-?}" "${cov0:-?}" "${cov:-?}" "${ft:-?}" "$(cat "$dir/corpus_before")" \
		"$(cat "$dir/corpus_after")" "$what"
done
printf 'fuzz: %d executions in %s harness-seconds (wall time, side by side); corpus %s bytes (tests/fuzz/corpus)\n' \
	"$total_execs" $((secs * ${#harnesses[@]})) "$(du -sb "$CORPUS" | cut -f1)"
if [ "$found" -ne 0 ]; then
	printf 'fuzz: FINDINGS: reproduce with %s/bin/fuzz_<harness> <file>\n' "$BUILD" >&2
	exit 1
fi
echo "fuzz: no finding"
