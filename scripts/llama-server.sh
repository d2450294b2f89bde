#!/usr/bin/env bash
# Builds a real llama-server (and llama-bench) from source, offline, for the
# reasoning-endpoint tests and the embedding benchmark's llama.cpp baseline.
#
# llama-cpp-sys-2 vendors only the library, not tools/server, so the
# sources come from the llama-cpp-python sdist on PyPI, which vendors the
# whole llama.cpp tree; it is pinned by version and SHA-256. The build is
# cached (MOODSHELF_LLAMA_TOOLS, default ~/.cache/moodshelf/llama-tools) and
# reused while the pin is unchanged. Prints the bin directory.
set -euo pipefail

version=0.3.36
sha256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
cache="${MOODSHELF_LLAMA_TOOLS:-$HOME/.cache/moodshelf/llama-tools}"
dir="$cache/llama-cpp-python-$version"
bin="$dir/build/bin"

if [ -x "$bin/llama-server" ] && [ -x "$bin/llama-bench" ]; then
  echo "$bin"
  exit 0
fi

mkdir -p "$cache"
sdist="$cache/llama_cpp_python-$version.tar.gz"
if ! echo "$sha256  $sdist" | sha256sum -c --status 2>/dev/null; then
  rm -f "$sdist"
  python3 -m pip download --quiet --no-deps --no-binary :all: --dest "$cache" \
    "llama-cpp-python==$version" >&2
  echo "$sha256  $sdist" | sha256sum -c --quiet >&2
fi
rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
tar xzf "$sdist" -C "$dir.tmp" --strip-components=3 "llama_cpp_python-$version/vendor/llama.cpp"
rm -rf "$dir" && mv "$dir.tmp" "$dir"

# x86-64-v3 like the app's own build (.cargo/config.toml), not -march=native.
arch=()
if [ "$(uname -m)" = x86_64 ]; then
  arch=(-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON)
fi
cmake -S "$dir" -B "$dir/build" -DCMAKE_BUILD_TYPE=Release \
  -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF \
  -DBUILD_SHARED_LIBS=OFF "${arch[@]}" >&2
cmake --build "$dir/build" --parallel "${CMAKE_BUILD_PARALLEL_LEVEL:-2}" --target llama-server llama-bench >&2
echo "$bin"
