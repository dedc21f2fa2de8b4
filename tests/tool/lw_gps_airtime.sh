#!/bin/sh
# fuota-tool lw / gps / airtime against known answers.
# - lw: brocaar/lorawan's uplink vector (PROTOCOL-NOTES §6) and a downlink whose bytes were
#   computed independently with the openssl command line (AES-128-ECB for A_1, CMAC over B0|msg).
# - gps: PROTOCOL-NOTES §3.5 vectors (ChirpStack gpstime.rs, brocaar gps/).
# - airtime: Semtech formula values worked out by hand (tests/unit/test_lw_airtime.c).
# Usage: sh lw_gps_airtime.sh <fuota-tool>
# shellcheck source=tests/tool/lib.sh
. "$(dirname "$0")/lib.sh"
K1=01010101010101010101010101010101
K2=02020202020202020202020202020202

BROCAAR=400403020180010001a694642615d6c3b582
DOWN=6004030201000000c99eb3b5c39d28d6

expect lw-frame-brocaar-uplink $BROCAAR 0 -- lw frame --up --fctrl 0x80 --dev-addr 01020304 \
	--fcnt 1 --fport 1 --app-s-key $K1 --nwk-s-key $K2 68656c6c6f
expect lw-frame-downlink-openssl $DOWN 0 -- lw frame --dev-addr 01020304 --fcnt 65536 \
	--fport 201 --app-s-key $K1 --nwk-s-key $K2 0800c0
expect_out lw-parse-brocaar '"payload":"68656c6c6f"' 0 -- lw parse --app-s-key $K1 \
	--nwk-s-key $K2 $BROCAAR
expect_out lw-parse-brocaar-fields \
	'{"mtype":"UnconfirmedDataUp","dir":"up","dev_addr":"01020304","fctrl":{"adr":true,' 0 \
	-- lw parse --app-s-key $K1 --nwk-s-key $K2 $BROCAAR
expect_out lw-parse-downlink '"fcnt":65536,"fopts":"","fport":201,"mic":"c39d28d6","mic_ok":true,"payload":"0800c0"' \
	0 -- lw parse --app-s-key $K1 --nwk-s-key $K2 --fcnt-high 1 $DOWN
expect_out lw-parse-wrong-fcnt-high '"mic_ok":false' 1 -- lw parse --app-s-key $K1 \
	--nwk-s-key $K2 --fcnt-high 0 $DOWN
expect_out lw-parse-wrong-key '"mic_ok":false' 1 -- lw parse --app-s-key $K1 \
	--nwk-s-key $K1 --fcnt-high 1 $DOWN
expect_out lw-parse-tampered '"mic_ok":false' 1 -- lw parse --app-s-key $K1 \
	--nwk-s-key $K2 --fcnt-high 1 6004030201000000c99eb3b4c39d28d6
expect lw-parse-truncated "" 1 -- lw parse --app-s-key $K1 --nwk-s-key $K2 6004030201000000c9
expect lw-parse-foptslen-past-end "" 1 -- lw parse --app-s-key $K1 --nwk-s-key $K2 \
	6004030201050000c99eb3b5c39d28d6
expect lw-frame-missing-key "" 2 -- lw frame --dev-addr 01020304 --fcnt 1 --fport 1 \
	--nwk-s-key $K2 00
expect lw-frame-bad-addr "" 2 -- lw frame --dev-addr 010203 --fcnt 1 --fport 1 \
	--app-s-key $K1 --nwk-s-key $K2 00

expect gps-epoch 0 0 -- gps --from-utc 1980-01-06T00:00:00Z
expect gps-2010 948731799 0 -- gps --from-utc 2010-01-28T16:36:24Z
expect gps-before-leap 1025136014 0 -- gps --from-utc 2012-06-30T23:59:59Z
expect gps-leap-second 1025136015 0 -- gps --from-utc 2012-06-30T23:59:60Z
expect gps-after-leap 1025136016 0 -- gps --from-utc 2012-07-01T00:00:00Z
expect gps-2025 1436486418 0 -- gps --from-utc 2025-07-14T00:00:00Z
expect gps-to-utc-2025 2025-07-14T00:00:00Z 0 -- gps --to-utc 1436486418
expect gps-to-utc-leap 2012-06-30T23:59:60Z 0 -- gps --to-utc 1025136015
expect gps-to-utc-after-leap 2012-07-01T00:00:00Z 0 -- gps --to-utc 1025136016
expect gps-from-unix 1436486418 0 -- gps --from-unix 1752451200
expect gps-to-unix 1752451200 0 -- gps --to-unix 1436486418
expect gps-no-such-leap "" 1 -- gps --from-utc 2013-06-30T23:59:60Z
expect gps-before-epoch "" 1 -- gps --from-utc 1980-01-05T23:59:59Z
expect gps-bad-date "" 1 -- gps --from-utc 2023-02-29T00:00:00Z
expect gps-bad-syntax "" 2 -- gps --from-utc 2025-07-14

expect airtime-eu868-dr0-51 2793.472 0 -- airtime --region EU868 --dr 0 --size 51
expect airtime-eu868-dr0-51-up 2793.472 0 -- airtime --region eu868 --dr 0 --size 51 --up
expect airtime-eu868-dr5-0-up 46.336 0 -- airtime --region EU868 --dr 5 --size 0 --up
expect airtime-eu868-dr5-0-down 41.216 0 -- airtime --region EU868 --dr 5 --size 0
expect airtime-eu868-dr5-phy13 41.216 0 -- airtime --region EU868 --dr 5 --phy-size 13
expect airtime-eu868-dr7-fsk 12.000 0 -- airtime --region EU868 --dr 7 --size 51
expect airtime-us915-dr8-53 616.448 0 -- airtime --region US915 --dr 8 --size 53
expect airtime-too-big "" 1 -- airtime --region EU868 --dr 0 --size 52
expect airtime-us915-dr0-down "" 1 -- airtime --region US915 --dr 0 --size 10
expect airtime-unknown-region "" 2 -- airtime --region XX123 --dr 0 --size 10

finish "all passed"
