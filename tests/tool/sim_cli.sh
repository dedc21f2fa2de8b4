#!/bin/sh
# fuota-sim's command line without a broker (--print-fleet): --fw-version and
# --image-fw-version give the devices' TS006 firmware versions, for all or listed devices, and
# bad values are refused.
# Usage: sh sim_cli.sh <fuota-sim>
# shellcheck source=tests/tool/lib.sh
. "$(dirname "$0")/lib.sh"

# versions DEVICE: "fw image" of device DEVICE in the fleet JSON on stdin
versions() { jq -r ".sim[$1] | \"\\(.fw_version) \\(.image_fw_version)\""; }

# same NAME GOT WANT
same() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got '$2', want '$3'"; fi
}

fleet=$("$TOOL" --print-fleet --devices 4 --misbehave ts006=1 --fw-version 0x01020300 \
	--fw-version 7@2,3 --fw-version 9@3 --image-fw-version 16909312)
same "print-fleet exit" "$?" 0
same "every device" "$(printf '%s' "$fleet" | versions 0)" "16909056 16909312"
same "listed devices" "$(printf '%s' "$fleet" | versions 2)" "7 16909312"
same "the last spec naming a device wins" "$(printf '%s' "$fleet" | versions 3)" "9 16909312"
same "default 0" "$("$TOOL" --print-fleet --devices 1 | versions 0)" "0 0"

expect_in err too_big "bad value for --fw-version" 2 -- --print-fleet --fw-version 4294967296
expect_in err no_indices "bad value for --fw-version" 2 -- --print-fleet --fw-version 5@
expect_in err junk "bad value for --image-fw-version" 2 -- --print-fleet --image-fw-version 1.2
expect_in err negative "bad value for --fw-version" 2 -- --print-fleet --fw-version -1
finish "fuota-sim --fw-version and --image-fw-version"
