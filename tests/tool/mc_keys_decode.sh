#!/bin/sh
# fuota-tool mc keys and decode --port 200/202/203 against known answers.
# - mc keys: PROTOCOL-NOTES §5.4 (brocaar keys_test.go, ChirpStack v2.rs test_encrypt_mc_key), and
#   McAppSKey for McAddr 01ffffff recomputed with the openssl command line when it is installed.
# - decode: §3.4 (brocaar clocksync), §5.5 (brocaar, ChirpStack), §8 (brocaar, SWL2001) vectors;
#   truncated payloads must fail naming the command and the missing field.
# Usage: sh mc_keys_decode.sh <fuota-tool>
# shellcheck source=tests/tool/lib.sh
. "$(dirname "$0")/lib.sh"
K1=01010101010101010101010101010101
K2=02020202020202020202020202020202

# ---- mc keys ---------------------------------------------------------------------------------
expect gen_app_key \
	'{"mc_root_key":"55344e82570eaec8bf03b99962d1f445","mc_ke_key":"65104ab8b3bcac9e3b80c1f6608fe43e"}' 0 \
	-- mc keys --gen-app-key 0302030405060708090a0b0c0d0e0f10
expect app_key \
	'{"mc_root_key":"264fd859583fcc670241ac071cc9f5bb","mc_ke_key":"63b08cbdc750462c60610f9fb2898384"}' 0 \
	-- mc keys --app-key 0202030405060708090a0b0c0d0e0f10
expect mc_root_key \
	'{"mc_root_key":"0402030405060708090a0b0c0d0e0f10","mc_ke_key":"9083bebf704257883160dbfcde33ad71"}' 0 \
	-- mc keys --mc-root-key 0402030405060708090a0b0c0d0e0f10
expect session_keys \
	'{"mc_key":"0102030405060708090a0b0c0d0e0f10","mc_app_s_key":"95cb4518ee375606735bbacbdce837fa","mc_nwk_s_key":"c3f6b388bad6c000b23291ad52c11c7b","mc_addr":"01020304"}' 0 \
	-- mc keys --mc-key 0102030405060708090a0b0c0d0e0f10 --mc-addr 01020304
expect mc_key_encrypted \
	'{"mc_ke_key":"01010101010101010101010101010101","mc_key":"02020202020202020202020202020202","mc_key_encrypted":"3437d6e231d702419b51b4947271b611"}' 0 \
	-- mc keys --mc-ke-key $K1 --mc-key $K2
expect mc_key_from_encrypted \
	'{"mc_ke_key":"01010101010101010101010101010101","mc_key":"02020202020202020202020202020202","mc_key_encrypted":"3437d6e231d702419b51b4947271b611"}' 0 \
	-- mc keys --mc-ke-key $K1 --mc-key-encrypted 3437d6e231d702419b51b4947271b611
expect_err mismatch 'not McKey encrypted' 1 \
	-- mc keys --mc-ke-key $K1 --mc-key $K2 --mc-key-encrypted 3437d6e231d702419b51b4947271b612
expect_err two_roots 'at most one' 2 -- mc keys --app-key $K1 --gen-app-key $K2
expect_err short_key '32 hex digits' 2 -- mc keys --mc-key 0102
expect_err bad_addr '8 hex digits' 2 -- mc keys --mc-key $K1 --mc-addr 01ffff
expect_err no_key 'no key given' 2 -- mc keys --mc-addr 01ffffff

# The 1.0.x chain end to end, each step checked with openssl's raw AES when available.
if command -v openssl >/dev/null 2>&1 && command -v od >/dev/null 2>&1; then
	aes() { # aes KEY BLOCK_HEX -> encrypted block hex
		hex2bin "$2" | openssl enc -aes-128-ecb -K "$1" -nopad 2>/dev/null |
			od -An -tx1 | tr -d ' \n'
	}
	GEN=000102030405060708090a0b0c0d0e0f
	ROOT=$(aes $GEN 00000000000000000000000000000000)
	KE=$(aes "$ROOT" 00000000000000000000000000000000)
	APPS=$(aes $K2 01ffffff010000000000000000000000)
	NWKS=$(aes $K2 02ffffff010000000000000000000000)
	if [ ${#ROOT} -eq 32 ] && [ ${#APPS} -eq 32 ]; then
		expect openssl_root "{\"mc_root_key\":\"$ROOT\",\"mc_ke_key\":\"$KE\"}" 0 \
			-- mc keys --gen-app-key $GEN
		expect openssl_session \
			"{\"mc_key\":\"$K2\",\"mc_app_s_key\":\"$APPS\",\"mc_nwk_s_key\":\"$NWKS\",\"mc_addr\":\"01ffffff\"}" 0 \
			-- mc keys --mc-key $K2 --mc-addr 01ffffff
	else
		echo "skip openssl cross-check (openssl enc failed)"
	fi
else
	echo "skip openssl cross-check (no openssl)"
fi

# ---- decode port 202 (TS003) -----------------------------------------------------------------
expect clk_app_time_req \
	'{"port":202,"dir":"up","version":1,"commands":[{"cid":1,"name":"AppTimeReq","DeviceTime":134480385,"TokenReq":5,"AnsRequired":true},{"cid":2,"name":"DeviceAppTimePeriodicityAns","NotSupported":true,"Time":134480385},{"cid":0,"name":"PackageVersionAns","PackageIdentifier":1,"PackageVersion":1}]}' 0 \
	-- decode --port 202 --dir up '010102040815 020101020408 000101'
expect clk_down_v2 \
	'{"port":202,"dir":"down","version":2,"commands":[{"cid":1,"name":"AppTimeAns","TimeCorrection":-134480385,"TokenAns":5,"Saturated":false},{"cid":2,"name":"DeviceAppTimePeriodicityReq","Period":5,"PeriodicitySeconds":4096},{"cid":3,"name":"ForceDeviceResyncCmd","NbTransmissions":5}]}' 0 \
	-- decode --port 202 --dir down --version 2 '01fffdfbf705 0205 0305'
expect clk_down_v1_name \
	'{"port":202,"dir":"down","version":1,"commands":[{"cid":3,"name":"ForceDeviceResyncReq","NbTransmissions":5}]}' 0 \
	-- decode --port 202 --dir down --version 1 '0305'
expect_err clk_truncated 'AppTimeReq: missing Param' 1 -- decode --port 202 --dir up '0101020408'
expect_err clk_truncated_time 'AppTimeAns: missing TimeCorrection' 1 -- decode --port 202 --dir down '01ff'
expect_err clk_unknown 'CID 0x03' 1 -- decode --port 202 --dir up '0305'

# ---- decode port 200 (TS005) -----------------------------------------------------------------
expect mc_status_ans \
	'{"port":200,"dir":"up","version":1,"commands":[{"cid":1,"name":"McGroupStatusAns","AnsGroupMask":12,"NbTotalGroups":4,"Groups":[{"McGroupID":3,"McAddr":"01020304"},{"McGroupID":2,"McAddr":"04030201"}]}]}' 0 \
	-- decode --port 200 --dir up '014c030403020102 0102030 4'
expect mc_setup_req \
	'{"port":200,"dir":"down","version":1,"commands":[{"cid":2,"name":"McGroupSetupReq","McGroupID":2,"McAddr":"01020304","McKey_encrypted":"01020304050607080102030405060708","minMcFCount":100,"maxMcFCount":200}]}' 0 \
	-- decode --port 200 --dir down '02020403020101020304050607080102030405060708 64000000 c8000000'
expect mc_class_b_req \
	'{"port":200,"dir":"down","version":2,"commands":[{"cid":5,"name":"McClassBSessionReq","McGroupID":3,"SessionTime":1024,"TimeOut":15,"Periodicity":4,"PingNb":8,"SessionSeconds":4194304,"DLFrequ_Hz":868100000,"DR":5}]}' 0 \
	-- decode --port 200 --dir down --version 2 '050300040000 4f28768405'
expect mc_class_c_req \
	'{"port":200,"dir":"down","version":1,"commands":[{"cid":4,"name":"McClassCSessionReq","McGroupID":3,"SessionTime":134480385,"TimeOut":8,"SessionSeconds":256,"DLFrequ_Hz":868100000,"DR":4}]}' 0 \
	-- decode --port 200 --dir down '0403010204080828768404'
expect mc_answers_chained \
	'{"port":200,"dir":"up","version":2,"commands":[{"cid":5,"name":"McClassBSessionAns","McGroupID":3,"DRError":false,"FreqError":false,"McGroupUndefined":false,"StartMissed":false,"TimeToStart":262657},{"cid":5,"name":"McClassBSessionAns","McGroupID":3,"DRError":true,"FreqError":true,"McGroupUndefined":true,"StartMissed":false},{"cid":4,"name":"McClassCSessionAns","McGroupID":2,"DRError":false,"FreqError":false,"McGroupUndefined":false,"StartMissed":true},{"cid":2,"name":"McGroupSetupAns","McGroupID":3,"IDError":true},{"cid":3,"name":"McGroupDeleteAns","McGroupID":1,"McGroupUndefined":true}]}' 0 \
	-- decode --port 200 --dir up --version 2 '05030102040 51f 0422 0207 0305'
expect_err mc_setup_truncated 'McGroupSetupReq: missing McKey_encrypted (16 bytes needed, 4 left)' 1 \
	-- decode --port 200 --dir down '020204030201 01020304'
expect_err mc_status_truncated 'McGroupStatusAns: missing McAddr' 1 -- decode --port 200 --dir up '014c0304'
expect_err mc_tts_truncated 'McClassCSessionAns: missing TimeToStart' 1 -- decode --port 200 --dir up '04030102'
expect_err mc_unknown 'CID 0x06' 1 -- decode --port 200 --dir down '0600'

# ---- decode port 203 (TS006) -----------------------------------------------------------------
expect fmp_answers \
	'{"port":203,"dir":"up","version":1,"commands":[{"cid":1,"name":"DevVersionAns","FWversion":513,"HWversion":1264},{"cid":4,"name":"DevUpgradeImageAns","UpImageStatus":3,"UpImageStatusName":"Valid","nextFirmwareVersion":262657},{"cid":4,"name":"DevUpgradeImageAns","UpImageStatus":1,"UpImageStatusName":"CorruptOrInvalidSignature"},{"cid":5,"name":"DevDeleteImageAns","ErrorNoValidImage":false,"ErrorInvalidVersion":true},{"cid":3,"name":"DevRebootCountdownAns","Countdown":16777215,"Cancel":true}]}' 0 \
	-- decode --port 203 --dir up '0101020000f0040000 040301020400 0401 0502 03ffffff'
expect fmp_requests \
	'{"port":203,"dir":"down","version":1,"commands":[{"cid":2,"name":"DevRebootTimeReq","RebootTime":134480385,"Cancel":false},{"cid":3,"name":"DevRebootCountdownReq","Countdown":262657,"Cancel":false},{"cid":5,"name":"DevDeleteImageReq","FirmwareToDeleteVersion":197121},{"cid":1,"name":"DevVersionReq"},{"cid":4,"name":"DevUpgradeImageReq"}]}' 0 \
	-- decode --port 203 --dir down '0201020408 03010204 0501020300 01 04'
expect_err fmp_truncated 'DevUpgradeImageAns: missing nextFirmwareVersion (4 bytes needed, 3 left)' 1 \
	-- decode --port 203 --dir up '0403010204'
expect_err fmp_v2 'only version 1' 1 -- decode --port 203 --dir up --version 2 '0401'

finish "all checks passed"
