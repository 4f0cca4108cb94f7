//! Build script: compiles the C-side ABI test of `micropython-glue/umqtt_rs.h`
//! for host builds (never for the firmware object); the unit test
//! `ffi::tests::c_program_drives_the_core_through_the_header` runs it.
fn main() {
    println!("cargo:rerun-if-changed=micropython-glue/umqtt_rs.h");
    println!("cargo:rerun-if-changed=tests/c/abi_test.c");
    let firmware = std::env::var_os("CARGO_FEATURE_FIRMWARE").is_some();
    let host = std::env::var("TARGET").ok() == std::env::var("HOST").ok();
    if firmware || !host {
        return;
    }
    let mut build = cc::Build::new();
    if std::env::var_os("CARGO_FEATURE_MQTT5").is_some() {
        // The header's MQTT 5 functions, and the C test's checks of them.
        build.define("UMQTT_RS_MQTT5", "1");
    }
    build
        .file("tests/c/abi_test.c")
        .include("micropython-glue")
        .std("c11")
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true)
        .compile("umqtt_rs_abi_test");
}
