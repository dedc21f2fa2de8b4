#!/usr/bin/env bash
# No call circle between the files of a static library: from nm, which object defines each global
# symbol and which objects use it, the file-level graph "a uses b"; tsort (coreutils) finds any
# loop, printed with the symbols that make each of its edges.
#
#   acyclic.sh LIB.a             check LIB.a (libfuota_engine.a); exit 1 on a circle
#   acyclic.sh --self-test CC    builds a library with a circle and one without with CC, and
#                                proves the first is refused and the second passes
set -euo pipefail

die() { printf 'acyclic: %s\n' "$*" >&2; exit 2; }

# "user definer symbol" for every symbol a member uses that another member defines.
edges() { # edges LIB
	nm -A "$1" 2>/dev/null | awk '
		{
			n = split($1, p, ":"); obj = p[n - 1]; sub(/\.o$/, "", obj)
			type = $(NF - 1); sym = $NF
			if (type == "U") used[obj " " sym] = 1
			else if (type ~ /^[A-Z]$/) def[sym] = obj
		}
		END {
			for (k in used) {
				split(k, u, " ")
				if ((u[2] in def) && def[u[2]] != u[1]) print u[1], def[u[2]], u[2]
			}
		}' | sort
}

check() { # check LIB
	local lib=$1 all loops
	[ -f "$lib" ] || die "no such library: $lib"
	all=$(edges "$lib")
	[ -n "$all" ] || die "$lib: no symbol of one member is used by another (is it a library?)"
	if loops=$(cut -d' ' -f1,2 <<<"$all" | sort -u | tsort 2>&1 >/dev/null) && [ -z "$loops" ]; then
		echo "acyclic: $(basename "$lib"): $(cut -d' ' -f1,2 <<<"$all" | sort -u | wc -l) file edges, no circle"
		return 0
	fi
	echo "acyclic: $(basename "$lib"): its files call each other in a circle:"
	# tsort names each loop's members after "input contains a loop:", one per line.
	local members
	members=$(sed -n 's/^tsort: \([^ ]*\)$/\1/p' <<<"$loops" | sort -u)
	while read -r a b sym; do
		if grep -qx "$a" <<<"$members" && grep -qx "$b" <<<"$members"; then
			printf '  %s -> %s (%s)\n' "$a" "$b" "$sym"
		fi
	done <<<"$all"
	return 1
}

self_test() { # self_test CC
	local cc=$1
	tmp=$(mktemp -d) # global: the EXIT trap reads it
	trap 'rm -rf "$tmp"' EXIT
	printf 'int b(int);\nint a(int x) { return x ? b(x - 1) : 0; }\n' >"$tmp/a.c"
	printf 'int a(int);\nint b(int x) { return x ? a(x - 1) : 1; }\n' >"$tmp/b.c"
	printf 'int c(int);\nint c(int x) { return x + 1; }\n' >"$tmp/c.c"
	printf 'int c(int);\nint d(int);\nint d(int x) { return c(x); }\n' >"$tmp/d.c"
	for f in a b c d; do "$cc" -c "$tmp/$f.c" -o "$tmp/$f.o"; done
	ar rcs "$tmp/circle.a" "$tmp/a.o" "$tmp/b.o" "$tmp/c.o"
	ar rcs "$tmp/line.a" "$tmp/c.o" "$tmp/d.o"
	local out
	if out=$(check "$tmp/circle.a"); then die "self-test: a -> b -> a passed"; fi
	if ! grep -q 'a -> b (b)' <<<"$out" || ! grep -q 'b -> a (a)' <<<"$out"; then
		die "self-test: the circle was not printed: $out"
	fi
	! grep -q '^  c' <<<"$out" || die "self-test: c is in no circle: $out"
	check "$tmp/line.a" >/dev/null || die "self-test: d -> c was refused"
	echo "acyclic: self-test passed"
}

case "${1:-}" in
--self-test) self_test "${2:?usage: acyclic.sh --self-test CC}" ;;
"") die "usage: acyclic.sh LIB.a | --self-test CC" ;;
*) check "$1" ;;
esac
