# micropython.cmake: the umqtt_rs user C module for CMake-based ports (esp32,
# rp2).  Pass this file as USER_C_MODULES:
#   idf.py -D USER_C_MODULES=/path/to/umqtt_rs/micropython-glue/micropython.cmake build
# The Rust target is derived from the chip (IDF_TARGET); set UMQTT_RS_TARGET
# to override it.  Xtensa chips need Espressif's Rust toolchain: set
# UMQTT_RS_CARGO_TOOLCHAIN=esp (see README, "Build for your board").

add_library(usermod_umqtt_rs INTERFACE)
target_sources(usermod_umqtt_rs INTERFACE
    ${CMAKE_CURRENT_LIST_DIR}/modumqtt_rs.c
    ${CMAKE_CURRENT_LIST_DIR}/urs_io.c
    ${CMAKE_CURRENT_LIST_DIR}/urs_delivery.c
    ${CMAKE_CURRENT_LIST_DIR}/urs_transport.c
    ${CMAKE_CURRENT_LIST_DIR}/urs_session.c
    ${CMAKE_CURRENT_LIST_DIR}/urs_publish.c
    ${CMAKE_CURRENT_LIST_DIR}/urs_subscribe.c
    ${CMAKE_CURRENT_LIST_DIR}/urs_v5.c
    ${CMAKE_CURRENT_LIST_DIR}/urs_auth.c
    ${CMAKE_CURRENT_LIST_DIR}/urs_request.c
)
# MQTT 5 in the glue when the core has it (UMQTT_RS_MQTT5=1 in the
# environment, as tools/build-lib.sh reads it).
if("$ENV{UMQTT_RS_MQTT5}" STREQUAL "1")
    target_compile_definitions(usermod_umqtt_rs INTERFACE UMQTT_RS_MQTT5=1)
endif()
target_include_directories(usermod_umqtt_rs INTERFACE ${CMAKE_CURRENT_LIST_DIR})

# The esp32 port links `usermod` into its main component without a keyword,
# so these INTERFACE sources reach the firmware's executable target too and
# are compiled twice; the executable's copy is the one linked, and ESP-IDF's
# per-component flags, its optimization level among them, do not apply to
# it: the glue went into the firmware at -O0 (25.7 KB of code instead of
# 17 KB on an ESP32-C3).  An executable that compiles them gets the
# optimization level of the ESP-IDF configuration.
if(COMMAND idf_build_get_property)
    if(CONFIG_COMPILER_OPTIMIZATION_SIZE)
        set(UMQTT_RS_OPT -Os)
    elseif(CONFIG_COMPILER_OPTIMIZATION_PERF)
        set(UMQTT_RS_OPT -O2)
    elseif(CONFIG_COMPILER_OPTIMIZATION_DEBUG OR CONFIG_COMPILER_OPTIMIZATION_DEFAULT)
        set(UMQTT_RS_OPT -Og)
    endif()
    if(UMQTT_RS_OPT)
        target_compile_options(usermod_umqtt_rs INTERFACE
            $<$<STREQUAL:$<TARGET_PROPERTY:TYPE>,EXECUTABLE>:${UMQTT_RS_OPT}>)
    endif()
endif()

get_filename_component(UMQTT_RS_TOP ${CMAKE_CURRENT_LIST_DIR}/.. ABSOLUTE)

if(NOT UMQTT_RS_TARGET AND COMMAND idf_build_get_property)
    idf_build_get_property(UMQTT_RS_IDF_TARGET IDF_TARGET)
    if(UMQTT_RS_IDF_TARGET STREQUAL "esp32")
        set(UMQTT_RS_TARGET xtensa-esp32-none-elf)
    elseif(UMQTT_RS_IDF_TARGET STREQUAL "esp32s2")
        set(UMQTT_RS_TARGET xtensa-esp32s2-none-elf)
    elseif(UMQTT_RS_IDF_TARGET STREQUAL "esp32s3")
        set(UMQTT_RS_TARGET xtensa-esp32s3-none-elf)
    elseif(UMQTT_RS_IDF_TARGET STREQUAL "esp32c2" OR UMQTT_RS_IDF_TARGET STREQUAL "esp32c3")
        # rv32imc: an imac object would link but fault on these chips.
        set(UMQTT_RS_TARGET riscv32imc-unknown-none-elf)
    elseif(UMQTT_RS_IDF_TARGET STREQUAL "esp32c6" OR UMQTT_RS_IDF_TARGET STREQUAL "esp32h2")
        set(UMQTT_RS_TARGET riscv32imac-unknown-none-elf)
    else()
        message(FATAL_ERROR "umqtt_rs: no Rust target known for IDF_TARGET=${UMQTT_RS_IDF_TARGET}; set UMQTT_RS_TARGET")
    endif()
endif()
if(NOT UMQTT_RS_TARGET)
    message(FATAL_ERROR "umqtt_rs: set UMQTT_RS_TARGET to the Rust target triple of this board")
endif()

set(UMQTT_RS_OBJ ${CMAKE_BINARY_DIR}/umqtt_rs_core.o)
file(GLOB_RECURSE UMQTT_RS_SOURCES ${UMQTT_RS_TOP}/src/*.rs)
add_custom_command(
    OUTPUT ${UMQTT_RS_OBJ}
    COMMAND ${CMAKE_COMMAND} -E env UMQTT_RS_CARGO_TOOLCHAIN=${UMQTT_RS_CARGO_TOOLCHAIN} NM=${CMAKE_NM}
            ${UMQTT_RS_TOP}/tools/build-lib.sh ${UMQTT_RS_TARGET} ${UMQTT_RS_OBJ} ${CMAKE_LINKER} ${CMAKE_OBJCOPY}
    DEPENDS ${UMQTT_RS_SOURCES} ${UMQTT_RS_TOP}/Cargo.toml ${CMAKE_CURRENT_LIST_DIR}/umqtt_rs.h
    COMMENT "umqtt_rs: Rust core for ${UMQTT_RS_TARGET}"
    VERBATIM
)
add_custom_target(umqtt_rs_core DEPENDS ${UMQTT_RS_OBJ})
add_dependencies(usermod_umqtt_rs umqtt_rs_core)

# A prebuilt object must go through target_link_libraries: usermod's sources
# are scanned for QSTRs, an object file is not a source.
target_link_libraries(usermod_umqtt_rs INTERFACE ${UMQTT_RS_OBJ})
target_link_libraries(usermod INTERFACE usermod_umqtt_rs)
