#!/usr/bin/env bash
# Every test, as CI runs them: the Rust workspace (unit, integration, CLI,
# and the check that ui/src/lib/bindings.ts matches the Rust types), the
# window's unit tests (Vitest), its type check, and the end-to-end test of
# the real app under Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/moodshelf/target}"
export MOODSHELF_MODELS_DIR="${MOODSHELF_MODELS_DIR:-$HOME/.cache/moodshelf/models}"
# ../shared named here, not left to the paths compiled into the tests and
# libgen: a target dir shared between checkouts keeps the artifacts, and
# with them the paths, of the checkout that built them first.
export MOODSHELF_SHARED_DIR="${MOODSHELF_SHARED_DIR:-$(cd .. && pwd)/shared}"
export MOODSHELF_DATASETS="${MOODSHELF_DATASETS:-$MOODSHELF_SHARED_DIR/datasets}"
# The default reasoning model, for the item-understanding tests only (the
# small test model knows no works); kept apart from the test models so the
# other tests and the end-to-end test run without it. `.ci/run` fetches it.
export MOODSHELF_TEST_REASONING_MODEL="${MOODSHELF_TEST_REASONING_MODEL:-$HOME/.cache/moodshelf/reasoning/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf}"

echo "== Rust: cargo nextest run --workspace"
# The CLI binary too: a test kills a real `moodshelf scan` mid-write.
cargo build --workspace --all-targets
# A real llama-server for the reasoning-endpoint tests (built once, cached).
scripts/llama-server.sh >/dev/null
cargo nextest run --workspace --no-fail-fast

echo "== Window: type check and unit tests (Vitest)"
[ -d ui/node_modules ] || npm --prefix ui ci --no-audit --no-fund
npm --prefix ui run check
npm --prefix ui test

echo "== Desktop app end to end (tauri-driver, Xvfb)"
scripts/e2e.sh
