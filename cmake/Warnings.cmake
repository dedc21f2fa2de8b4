# One warning set for every target of the project. fuota_warnings(<target>) applies it.
set(FUOTA_WARNING_FLAGS
  -Wall -Wextra -Wshadow -Wconversion -Wno-sign-conversion
  -Wstrict-prototypes -Wmissing-prototypes -Wundef -Wpointer-arith
  -Wformat=2 -Wvla -Wcast-qual -Wwrite-strings)
if(FUOTA_WERROR)
  list(APPEND FUOTA_WARNING_FLAGS -Werror)
endif()

function(fuota_warnings target)
  target_compile_options(${target} PRIVATE ${FUOTA_WARNING_FLAGS})
endfunction()

# fuota_library(<name> <folder>): a static library from <folder>/src/*.c with its public headers in
# <folder>/include. Every folder of the project is one such target.
function(fuota_library name)
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/*.c)
  add_library(${name} STATIC ${srcs})
  target_include_directories(${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
                                     PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  fuota_warnings(${name})
endfunction()
