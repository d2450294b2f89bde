fn main() {
    // tauri.conf.json and capabilities/ sit beside the root Cargo.toml,
    // which is this package's manifest, so the defaults find them.
    tauri_build::build()
}
