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
  cargo run --quiet --release -p moodshelf-libgen -- --out "$demo/library" --music 600 --books 300 --videos 300
fi
"$moodshelf" library add "$demo/library"
"$moodshelf" scan
for q in "cozy music for a rainy winter evening" \
         "a ghost story for a long night" \
         "a funny film for family night"; do
  echo
  echo "> $q"
  "$moodshelf" ask "$q" --limit 5
done
echo
echo "Try: $moodshelf ask \"...\" --json   (data dir: $MOODSHELF_DATA_DIR)"
