# Helper functions: one call adds a component library or a test.
include_guard(GLOBAL)
include(GoogleTest)

# closedloop_library(NAME SOURCES a.cc b.cc PUBLIC_DEPS x y PRIVATE_DEPS z)
# Defines static library closedloop_<NAME>; headers are included as "<component>/x.h".
function(closedloop_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(closedloop_${name} STATIC ${ARG_SOURCES})
  target_include_directories(closedloop_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(closedloop_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  target_compile_options(closedloop_${name} PRIVATE ${CLOSEDLOOP_WARNINGS})
endfunction()

# closedloop_test(NAME SOURCES a_test.cc DEPS closedloop_x [LABELS l] [FIXTURES f])
# Adds a gtest executable and registers each TEST with ctest.
function(closedloop_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS;FIXTURES" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_options(${name} PRIVATE ${CLOSEDLOOP_WARNINGS})
  target_compile_definitions(${name} PRIVATE
    CLOSEDLOOP_BINARY="$<TARGET_FILE:closedloop>"
    CLOSEDLOOP_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    CLOSEDLOOP_TEST_MODELS="${CLOSEDLOOP_TEST_MODELS}")
  set(props LABELS "${ARG_LABELS}")
  if(ARG_FIXTURES)
    list(APPEND props FIXTURES_REQUIRED "${ARG_FIXTURES}")
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES ${props})
endfunction()
