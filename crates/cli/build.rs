//! Packs the CLI's relative relocations (`-z pack-relative-relocs`, the
//! DT_RELR format) in a release build made for the machine that builds it,
//! when that machine's glibc loads them (2.36 or newer). The CLI is built
//! where it runs (`scripts/setup.sh`), and the packed table takes 8.6 MB
//! off it (133.8 → 125.2 MB): a position-independent binary this size
//! carries one 24-byte relocation for every pointer in its tables, and
//! DT_RELR stores them as bitmaps. An older glibc refuses such a binary at
//! start, so a cross build, a debug build or an older glibc keeps the plain
//! table.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    let native = env("HOST") == env("TARGET");
    let release = env("PROFILE") == "release";
    let linux_gnu = env("CARGO_CFG_TARGET_OS") == "linux" && env("CARGO_CFG_TARGET_ENV") == "gnu";
    if native && release && linux_gnu && host_glibc() >= (2, 36) {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// The version of the glibc this build runs on (`getconf`, part of every
/// glibc install), `(0, 0)` when there is none to ask.
fn host_glibc() -> (u32, u32) {
    let out = std::process::Command::new("getconf")
        .arg("GNU_LIBC_VERSION")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    // "glibc 2.36"
    let version = out.trim().strip_prefix("glibc ").unwrap_or("");
    let mut parts = version.split('.').map(|p| p.parse().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}
