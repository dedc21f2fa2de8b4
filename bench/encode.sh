#!/usr/bin/env bash
# The TS004 encoder as users run it: `fuota-tool frag encode` timed as a whole process (start-up,
# reading the input file, encoding, writing the frames file) against fuota-plain-encode, a plain
# -O2 C encoder (bench/plain_encode.c: each row drawn with prbs23, the selected fragments XORed
# byte by byte) run the same way on the same file. Both outputs must be identical (cmp).
# Times are the best of N runs of each process, measured by the shell around fork+exec+wait; run
# it niced on a quiet machine and more than once: the spread between runs is large on a shared
# box. The in-process figures are `fuota-tool frag bench`'s.
#
# usage: bench/encode.sh BIN_DIR [--workloads abcd] [--reps N] [--plain-reps N] [--ts004 1|2]
set -euo pipefail

bin=${1:?usage: bench/encode.sh BIN_DIR [--workloads abcd] [--reps N] [--plain-reps N]}
shift
workloads=abcd reps=20 plain_reps=5 version=1
while (($#)); do
	case $1 in
	--workloads) workloads=$2; shift 2 ;;
	--reps) reps=$2; shift 2 ;;
	--plain-reps) plain_reps=$2; shift 2 ;;
	--ts004) version=$2; shift 2 ;;
	*) echo "bench/encode.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
tool=$bin/fuota-tool plain=$bin/fuota-plain-encode
[[ -x $tool && -x $plain ]] || { echo "bench/encode.sh: build first (no $tool or $plain)" >&2; exit 1; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/fuota-encode-XXXXXX")
trap 'rm -rf "$dir"' EXIT

# best_us N CMD...: the shortest of N runs, in microseconds.
best_us() {
	local n=$1 best=0 t0 t1 d
	shift
	for ((i = 0; i < n; i++)); do
		t0=$EPOCHREALTIME
		"$@" >/dev/null 2>>"$dir/stderr"
		t1=$EPOCHREALTIME
		d=$((10#${t1/./} - 10#${t0/./}))
		((best == 0 || d < best)) && best=$d
	done
	echo "$best"
}

ms() { printf '%d.%02d' $(($1 / 1000)) $((($1 % 1000) / 10)); }

echo "TS004 v$version encoder, whole process (best of $reps; plain best of $plain_reps), $(nproc) CPUs"
start_tool=$(best_us "$reps" "$tool" --help)
start_plain=$(best_us "$reps" "$plain")
echo "start-up alone: fuota-tool --help $(ms "$start_tool") ms, fuota-plain-encode (no arguments) $(ms "$start_plain") ms"
json="{\"ts004\": $version, \"startup_us\": {\"fuota_tool\": $start_tool, \"plain\": $start_plain}, \"workloads\": ["
sep=
for w in a b c d; do
	[[ $workloads == *$w* ]] || continue
	case $w in
	a) size=65536 s=48 p=10 ;;
	b) size=1048576 s=48 p=10 ;;
	c) size=1048576 s=200 p=25 ;;
	d) size=4194304 s=232 p=10 ;;
	esac
	head -c "$size" /dev/urandom >"$dir/in"
	t_plain=$(best_us "$plain_reps" "$plain" "$s" "$p" "$version" "$dir/in" "$dir/plain.frg")
	t_tool=$(best_us "$reps" "$tool" frag encode --frag-size "$s" --redundancy-percent "$p" \
		--ts004 "$version" "$dir/in" "$dir/tool.frg")
	cmp -s "$dir/plain.frg" "$dir/tool.frg" || { echo "bench/encode.sh: workload $w: outputs differ" >&2; exit 1; }
	ratio=$(awk -v a="$t_plain" -v b="$t_tool" 'BEGIN { printf "%.1f", a / b }')
	echo "$w: $size bytes, FragSize $s, $p % | plain $(ms "$t_plain") ms | fuota-tool frag encode $(ms "$t_tool") ms | ${ratio}x (outputs identical)"
	json+="$sep{\"workload\": \"$w\", \"plain_us\": $t_plain, \"fuota_us\": $t_tool, \"ratio\": $ratio}"
	sep=", "
done
echo "$json]}"
