# Campaign scenarios through fuotad + fuota-sim + mosquitto + PostgreSQL, driven through the REST
# API by tests/e2e/campaign.sh (see it for what each scenario asserts). They use the integration
# fixture's PostgreSQL (fuota_stack, tests/integration) with a database each; "broker" starts its
# own mosquitto (it restarts it), "demo" runs scripts/demo.sh with its own private stack.
# The sanitizer build runs the scenarios that walk the most of fuotad's paths (loss and adaptive
# parity, failing devices, a SIGKILL restart, clock sync): the others add minutes, not code.
set(campaign_scenarios v2-adaptive misbehave kill clocksync)
if(NOT FUOTA_SANITIZE)
  list(APPEND campaign_scenarios v1 mixed class-b unicast-loss broker demo gw-json loramac-node
       loramac-node-adaptive lbm-missing lbm-resync gw-cellular gw-coverage)
endif()
if(TARGET fuotad AND TARGET fuota-sim AND DEFINED FUOTA_ITEST_ENV)
  foreach(scenario ${campaign_scenarios})
    add_test(NAME e2e.campaign-${scenario}
             COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/campaign.sh ${scenario}
                     $<TARGET_FILE_DIR:fuotad> ${FUOTA_ITEST_ENV}
                     ${CMAKE_CURRENT_BINARY_DIR}/work/campaigns)
    set_tests_properties(e2e.campaign-${scenario} PROPERTIES FIXTURES_REQUIRED fuota_stack
                         LABELS "e2e;campaign" TIMEOUT 480)
  endforeach()
endif()

# A short chaos run (scripts/chaos.sh --quick): 2 campaigns of 12 TS004 v2 devices (v1 devices add
# their status phase's BlockAckDelay wait; `./fuota chaos` runs both), 4 SIGKILLs of fuotad in
# different phases, a broker and a PostgreSQL restart (in the setup), on a private stack; fails when a job does
# not complete with every device verified or an FCnt, McAddr, McKey or SessionCnt is reused.
if(TARGET fuotad AND TARGET fuota-sim AND NOT FUOTA_SANITIZE)
  # Under /tmp: PostgreSQL runs as nobody when the tests run as root.
  string(MD5 chaos_hash "${CMAKE_BINARY_DIR}")
  string(SUBSTRING "${chaos_hash}" 0 10 chaos_hash)
  add_test(NAME e2e.chaos-short
           COMMAND ${CMAKE_SOURCE_DIR}/scripts/chaos.sh --quick --campaigns 2 --kills 4
                   --devices 12 --v2-fraction 1 --seed 7 --services-early --bin $<TARGET_FILE_DIR:fuotad>
                   --dir /tmp/fuota-chaos-${chaos_hash})
  set_tests_properties(e2e.chaos-short PROPERTIES LABELS "e2e;chaos" TIMEOUT 400)
endif()

# Modem updates through fuotad's REST API, carried out by fuota-gw on fuota-modem-sim
# (campaign.sh gw-update-api, gw-update-session; beside tests/gateway's e2e.gw-update-<case>).
if(TARGET fuotad AND TARGET fuota-sim AND TARGET fuota-gw AND DEFINED FUOTA_ITEST_ENV
   AND NOT FUOTA_SANITIZE)
  foreach(case api session)
    add_test(NAME e2e.gw-update-${case}
             COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/campaign.sh gw-update-${case}
                     $<TARGET_FILE_DIR:fuotad> ${FUOTA_ITEST_ENV}
                     ${CMAKE_CURRENT_BINARY_DIR}/work/campaigns)
    set_tests_properties(e2e.gw-update-${case} PROPERTIES FIXTURES_REQUIRED fuota_stack
                         LABELS "e2e;campaign" TIMEOUT 240)
  endforeach()
endif()
