#!/bin/sh
# fuota's Xmodem sender against lrzsz's receiver `rx` (Debian package lrzsz), over a socketpair:
# checksum and CRC-16, 128-byte and 1k blocks. The received file must be byte-identical (sizes that
# are multiples of 128 need no padding), and for an odd size the file followed by 0x1A padding.
set -eu
send=$1
command -v rx >/dev/null || { echo "rx (lrzsz) is not installed: ./fuota bootstrap" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
head -c 37120 /dev/urandom >even.bin  # 290 blocks of 128, 36 of 1k + 2 of 128
head -c 3001 /dev/urandom >odd.bin
fail=0
for crc in "-c" ""; do
	for k in "" "--1k"; do
		for f in even.bin odd.bin; do
			rm -f got.bin
			if ! "$send" $k "$f" -- rx $crc -q got.bin 2>log.txt; then
				echo "FAIL: rx $crc, sender $k, $f: transfer failed" >&2
				cat log.txt >&2
				fail=1
				continue
			fi
			size=$(wc -c <"$f")
			padded=$(( (size + 127) / 128 * 128 ))
			pad=$((padded - size))
			if ! cmp -n "$size" "$f" got.bin ||
				[ "$(wc -c <got.bin)" -ne "$padded" ] ||
				[ "$(tail -c "$pad" got.bin | tr -d '\032' | wc -c)" -ne 0 ]; then
				echo "FAIL: rx $crc, sender $k, $f: files differ" >&2
				fail=1
				continue
			fi
			echo "ok: rx ${crc:-(checksum)} sender ${k:-(128)} $f: $(tail -n 1 log.txt)"
		done
	done
done
exit $fail
