# What `cmake --install` puts where (GNU layout under CMAKE_INSTALL_PREFIX): the programs an
# operator or a gateway owner runs, and the web UI's bundle that fuotad serves. The Debian package
# (debian/, ./fuota package) installs through these rules and adds the configuration and the
# systemd unit. Test tools (the modem simulator, the test programs) are not installed.
include(GNUInstallDirs)

foreach(program fuotad fuota-tool fuota-sim fuota-gw fuota-modem fuota-xmodem-send)
  if(TARGET ${program})
    install(TARGETS ${program} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()

if(FUOTA_WEB AND FUOTA_WEB_OUT)
  install(DIRECTORY ${FUOTA_WEB_OUT}/ DESTINATION ${CMAKE_INSTALL_DATADIR}/fuota/web)
endif()
