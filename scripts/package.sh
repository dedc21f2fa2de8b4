#!/usr/bin/env bash
# The Debian package: fuota_<version>_<arch>.deb, built with Debian's tools (dpkg-buildpackage,
# debhelper) from a copy of the source tree, then checked by lintian (an error fails the build).
#
#   scripts/package.sh [--out DIR] [--jobs N]     (default DIR: build/package)
#
# The copy holds the files git knows (tracked and new, not ignored) or, outside a checkout,
# everything but the build trees: a stale build/ or web/node_modules never reaches the package.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/build/package
JOBS=$(nproc 2>/dev/null || echo 2)
while [ $# -gt 0 ]; do
	case $1 in
	--out) OUT=$2; shift 2 ;;
	--jobs) JOBS=$2; shift 2 ;;
	-h | --help) sed -n '2,8p' "$0"; exit 0 ;;
	*) echo "package: unknown option $1" >&2; exit 2 ;;
	esac
done

say() { printf 'package: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

for tool in dpkg-buildpackage dh lintian; do
	command -v "$tool" >/dev/null || die "$tool is missing: run ./fuota bootstrap"
done

version=$(sed -n 's/^project(fuota VERSION \([0-9.]*\).*/\1/p' "$ROOT/CMakeLists.txt")
deb_version=$(sed -n '1s/^fuota (\([^)]*\)).*/\1/p' "$ROOT/debian/changelog")
[ "$version" = "$deb_version" ] ||
	die "CMakeLists.txt says $version, debian/changelog says $deb_version: add a changelog entry"

work=$(mktemp -d /tmp/fuota-package.XXXXXX)
trap 'rm -rf "$work"' EXIT
src=$work/fuota-$version
mkdir -p "$src"
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$ROOT" ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			if [ -e "$ROOT/$f" ]; then printf '%s\0' "$f"; fi
		done | tar -C "$ROOT" --null -T - -cf - | tar -C "$src" -xf -
else
	tar -C "$ROOT" --exclude='./build*' --exclude=./var --exclude=./web/node_modules -cf - . |
		tar -C "$src" -xf -
fi

say "dpkg-buildpackage in $src ($JOBS jobs)"
(cd "$src" && DEB_BUILD_OPTIONS="parallel=$JOBS nocheck" dpkg-buildpackage -b -us -uc) \
	>"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; die "dpkg-buildpackage failed"; }

mkdir -p "$OUT"
deb=$(find "$work" -maxdepth 1 -name 'fuota_*.deb' | head -1)
[ -n "$deb" ] || die "no .deb produced"
cp "$deb" "$OUT/"
deb=$OUT/$(basename "$deb")

say "lintian $deb"
lintian --fail-on error --tag-display-limit 0 "$deb" >&2 || die "lintian found errors in $deb"
echo "$deb"
