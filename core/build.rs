//! Link settings for the `assay` binary.

fn main() {
    // Start-up is a product feature: pack the ~15k relative relocations of a PIE binary
    // (DT_RELR, glibc >= 2.36, binutils >= 2.38) so the dynamic loader applies them in a
    // fraction of the time, keeping ASLR. Linux/glibc only; elsewhere the default applies.
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let target_env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if target_os == "linux" && target_env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
