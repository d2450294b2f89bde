#!/usr/bin/env bash
# Set-up on Debian 12 (with Rust, Node and Python present): installs the
# system packages the build needs, builds and installs `moodshelf` into
# ~/.local/bin, and fetches and verifies the models.
#
#   scripts/setup.sh            # the default models (embedder + 1.1 GB reasoning model)
#   scripts/setup.sh --test     # the test models only (what CI uses)
set -euo pipefail
cd "$(dirname "$0")/.."

profile=default
[ "${1:-}" = "--test" ] && profile=test

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
packages="build-essential cmake clang libclang-dev protobuf-compiler libprotobuf-dev pkg-config python3-venv python3-pip"
missing=$(for p in $packages; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
  $sudo apt-get update -q
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q $missing
fi

# llama.cpp is built for this machine's CPU (.cargo/config.toml); see the
# README for portable builds.
cargo install --locked --path crates/cli --root "$HOME/.local"
"$HOME/.local/bin/moodshelf" models fetch --profile "$profile"
echo "moodshelf is in ~/.local/bin; models are in $("$HOME/.local/bin/moodshelf" status --json | python3 -c 'import json,sys;print(json.load(sys.stdin)["models_dir"])')"
