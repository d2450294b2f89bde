#!/usr/bin/env bash
# The demo: writes a small library of real files from ../shared/datasets
# (tagged MP3/FLAC, EPUBs, films with .nfo sidecars), scans it into a demo
# data dir that is separate from your own library, and asks it a few things.
set -euo pipefail
cd "$(dirname "$0")/.."

demo="${MOODSHELF_DEMO_DIR:-$HOME/.local/share/moodshelf-demo}"
export MOODSHELF_DATA_DIR="$demo/data"
export MOODSHELF_MODELS_DIR="${MOODSHELF_MODELS_DIR:-$HOME/.local/share/moodshelf/models}"
moodshelf="${MOODSHELF_BIN:-$HOME/.local/bin/moodshelf}"

if [ ! -d "$demo/library" ]; then
  cargo run --quiet --release -p moodshelf-libgen -- --out "$demo/library" --music 600 --books 600 --videos 600
fi
"$moodshelf" library add "$demo/library"
"$moodshelf" scan
# Each request at a fixed moment, so the answers are the same every run:
# the same vague request on a December and a July evening, an occasion, a
# time word, and a genre with a mood.
ask_at() {
  echo
  echo "> $2    (asked $1)"
  "$moodshelf" ask --now "$1" --limit 5 "$2"
}
ask_at 2026-12-21T20:00:00Z "something to watch this evening"
ask_at 2026-07-16T20:00:00Z "something to watch this evening"
ask_at 2026-11-27T19:00:00Z "a film to watch with friends on Friday"
ask_at 2026-11-27T18:30:00Z "music for cooking dinner"
ask_at 2026-11-27T22:00:00Z "a ghost story for a long night"
echo
echo "Try: $moodshelf ask \"...\" --json   (data dir: $MOODSHELF_DATA_DIR)"
