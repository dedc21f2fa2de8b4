#!/usr/bin/env bash
# The size rule of STYLE.md, checked: no .c or .h file under DIR over MAX_FILE lines, and no C
# function over MAX_FUNC lines (its first line to its closing brace, as universal-ctags reports
# them) unless it is an option parser named in ALLOWED below.
#
#   size_check.sh DIR          check DIR (the server/ folder); prints every offender, exit 1
#   size_check.sh --self-test  proves the check fails on a file and a function over the limits
#                              and passes an allowed parser
set -euo pipefail

MAX_FILE=900
MAX_FUNC=80

# Functions allowed over MAX_FUNC lines: option parsers only (a long flat list of options reads
# best in one place). Each entry is "file-suffix:function", with why.
ALLOWED=(
	# (none today; e.g. "fuotad/src/main.c:parse_args" # getopt_long over every flag)
)

die() { printf 'size_check: %s\n' "$*" >&2; exit 2; }

allowed() { # allowed FILE FUNC
	local a
	for a in "${ALLOWED[@]+"${ALLOWED[@]}"}"; do
		if [[ "$1" == *"${a%%:*}" && "$2" == "${a#*:}" ]]; then
			return 0
		fi
	done
	return 1
}

check() { # check DIR
	local dir=$1 bad=0 file lines end start name n
	command -v ctags >/dev/null || die "needs universal-ctags (./fuota bootstrap installs it)"
	ctags --version 2>/dev/null | grep -q 'Universal Ctags' || die "ctags is not universal-ctags"
	[ -d "$dir" ] || die "no such folder: $dir"
	while IFS= read -r -d '' file; do
		lines=$(wc -l <"$file")
		if [ "$lines" -gt "$MAX_FILE" ]; then
			printf 'file over %d lines: %s (%d)\n' "$MAX_FILE" "$file" "$lines"
			bad=1
		fi
	done < <(find "$dir" -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z)
	while read -r end start name file; do
		n=$((end - start + 1))
		if [ "$n" -gt "$MAX_FUNC" ] && ! allowed "$file" "$name"; then
			printf 'function over %d lines: %s in %s:%d (%d)\n' "$MAX_FUNC" "$name" "$file" \
				"$start" "$n"
			bad=1
		fi
	done < <(ctags -x --languages=C --langmap=C:.c.h --kinds-C=f \
		--_xformat='%{end} %n %N %F' -R "$dir")
	if [ "$bad" -ne 0 ]; then
		echo "size_check: $dir breaks the size rule (files <= $MAX_FILE lines, functions <= $MAX_FUNC)"
		return 1
	fi
	echo "size_check: $dir: every file <= $MAX_FILE lines, every function <= $MAX_FUNC lines"
}

# A function of n + 4 lines (its signature, braces and return around n statements), then a blank.
emit_func() { # emit_func NAME N
	local i
	printf 'int %s(int x)\n{\n' "$1"
	for ((i = 0; i < $2; i++)); do
		printf '\tx += %d;\n' "$i"
	done
	printf '\treturn x;\n}\n\n'
}

self_test() {
	local rc
	tmp=$(mktemp -d) # global: the EXIT trap reads it
	trap 'rm -rf "$tmp"' EXIT
	mkdir -p "$tmp/ok" "$tmp/longfile" "$tmp/longfunc"
	emit_func fits 76 >"$tmp/ok/a.c" # 80 lines: at the limit
	emit_func also_fits 10 >"$tmp/ok/b.h"
	emit_func fits 77 >"$tmp/longfunc/a.c" # 81 lines: one over
	for ((rc = 0; rc < 60; rc++)); do emit_func "f$rc" 11; done >"$tmp/longfile/big.c" # 960 lines
	check "$tmp/ok" >/dev/null || die "self-test: a tree within the limits was refused"
	if check "$tmp/longfunc" >/dev/null; then die "self-test: an 81-line function passed"; fi
	if check "$tmp/longfile" >/dev/null; then die "self-test: a 960-line file passed"; fi
	ALLOWED=("longfunc/a.c:fits")
	check "$tmp/longfunc" >/dev/null || die "self-test: an allowed parser was refused"
	echo "size_check: self-test passed"
}

case "${1:-}" in
--self-test) self_test ;;
"") die "usage: size_check.sh DIR | --self-test" ;;
*) check "$1" ;;
esac
