# Campaign scenarios through fuotad + fuota-sim + mosquitto + PostgreSQL, driven through the REST
# API by tests/e2e/campaign.sh (see it for what each scenario asserts). They use the integration
# fixture's PostgreSQL (fuota_stack, tests/integration) with a database each; "broker" starts its
# own mosquitto (it restarts it), "demo" runs scripts/demo.sh with its own private stack.
# The sanitizer build runs the scenarios that walk the most of fuotad's paths (loss and adaptive
# parity, failing devices, a SIGKILL restart, clock sync): the others add minutes, not code.
set(campaign_scenarios v2-adaptive misbehave kill clocksync)
if(NOT FUOTA_SANITIZE)
  list(APPEND campaign_scenarios v1 mixed class-b unicast-loss broker demo gw-json loramac-node
       loramac-node-adaptive lbm-missing)
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
