#!/usr/bin/env bash
# End-to-end test of the desktop app: builds the window (ui/dist), the app
# with its assets embedded, and the library generator, then drives the
# real app through tauri-driver + WebKitWebDriver under Xvfb
# (ui/e2e/app.e2e.test.mjs). Screenshots land in target/e2e/.
#
# Needs the Linux packages from .ci/run (webkit2gtk, webkit2gtk-driver,
# xvfb, xdotool), tauri-driver (`cargo install tauri-driver --locked`) and the test
# models (`moodshelf models fetch --profile test`).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/moodshelf/target}"
export MOODSHELF_MODELS_DIR="${MOODSHELF_MODELS_DIR:-$HOME/.cache/moodshelf/models}"

[ -d ui/node_modules ] || npm --prefix ui ci --no-audit --no-fund
npm --prefix ui run build
# --workspace keeps dependency features the same as the test build, so
# the big dependencies are not built a second time.
cargo build --workspace --features moodshelf-desktop/custom-protocol

export MOODSHELF_APP="$CARGO_TARGET_DIR/debug/moodshelf-desktop"
export MOODSHELF_LIBGEN="$CARGO_TARGET_DIR/debug/moodshelf-libgen"
export MOODSHELF_SCREENSHOTS="$PWD/target/e2e"
rm -rf "$MOODSHELF_SCREENSHOTS"

# A session bus for the single-instance plugin, a virtual screen for the window.
xvfb-run -a -s "-screen 0 1280x900x24" dbus-run-session -- npm --prefix ui run e2e
