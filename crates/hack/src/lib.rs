//! Empty on purpose: this crate exists for its `Cargo.toml`, which gives
//! the CLI and the desktop app one feature set for their shared
//! dependencies (see the comment there).
