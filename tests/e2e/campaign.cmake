# Campaign scenarios through fuotad + fuota-sim + mosquitto + PostgreSQL, driven through the REST
# API by tests/e2e/campaign.sh: one ctest e2e.campaign-NAME per function scenario_NAME in it (see
# it for what each asserts; adding a scenario is adding a function). They use the integration
# fixture's PostgreSQL (fuota_stack, tests/integration) with a database each; "broker" starts its
# own mosquitto (it restarts it), "demo" runs scripts/demo.sh with its own private stack.
# The sanitizer build runs the scenarios marked "# sanitize" (those that walk the most of fuotad's
# paths: loss and adaptive parity, overlapping gateways, two sessions, failing devices, a SIGKILL
# restart, clock sync): the others add minutes, not code.
set(campaign_sh ${CMAKE_CURRENT_SOURCE_DIR}/campaign.sh)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${campaign_sh})
file(STRINGS ${campaign_sh} campaign_functions REGEX "^scenario_[a-z0-9_]+\\(\\) {")
set(campaign_scenarios)
foreach(line ${campaign_functions})
  string(REGEX MATCH "^scenario_([a-z0-9_]+)" _ "${line}")
  string(REPLACE "_" "-" scenario "${CMAKE_MATCH_1}")
  if(NOT FUOTA_SANITIZE OR line MATCHES "# sanitize$")
    list(APPEND campaign_scenarios ${scenario})
  endif()
endforeach()
if(TARGET fuotad AND TARGET fuota-sim AND DEFINED FUOTA_ITEST_ENV)
  foreach(scenario ${campaign_scenarios})
    add_test(NAME e2e.campaign-${scenario}
             COMMAND ${campaign_sh} ${scenario} $<TARGET_FILE_DIR:fuotad> ${FUOTA_ITEST_ENV}
                     ${CMAKE_CURRENT_BINARY_DIR}/work/campaigns)
    set_tests_properties(e2e.campaign-${scenario} PROPERTIES FIXTURES_REQUIRED fuota_stack
                         LABELS "e2e;campaign;waits" TIMEOUT 480)
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
  set_tests_properties(e2e.chaos-short PROPERTIES LABELS "e2e;chaos;campaign;waits" TIMEOUT 400
                       COST 100)
endif()
