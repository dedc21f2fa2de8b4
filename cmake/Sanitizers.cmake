# FUOTA_SANITIZE: the whole build under ASan+UBSan, every UB report fatal.
# FUOTA_FUZZ: libraries instrumented for libFuzzer coverage (harnesses link -fsanitize=fuzzer).
if(FUOTA_SANITIZE OR FUOTA_FUZZ)
  set(FUOTA_SAN_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_compile_options(${FUOTA_SAN_FLAGS})
  add_link_options(-fsanitize=address,undefined)
endif()
if(FUOTA_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "FUOTA_FUZZ needs clang (libFuzzer)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
