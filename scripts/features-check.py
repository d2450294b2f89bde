#!/usr/bin/env python3
"""Fails when the CLI and the desktop app resolve a shared dependency with
different features.

A crate built with other features is another crate to cargo, and so is
everything that depends on it: when the two binaries disagree about, say,
regex's features, a release build of the desktop app compiles DataFusion,
LanceDB and llama.cpp again after the CLI's. `crates/hack` asks for the
union; this check says what to add there when a dependency change brings a
new difference.

Reads `cargo tree` (no build), for target code and for build scripts and
proc-macros (the host side) separately, since cargo resolves those apart.
"""
import collections
import re
import subprocess
import sys

BINARIES = ("moodshelf", "moodshelf-desktop")


def resolved(package):
    """{(crate with version, "target" | "host"): features}"""
    out = subprocess.run(
        ["cargo", "tree", "-p", package, "-e", "no-dev", "-f", "{p}|{f}",
         "--prefix", "indent", "--charset", "ascii"],
        capture_output=True, text=True, check=True).stdout
    found = collections.defaultdict(set)
    # (depth, is_host) of the nodes and section headers above this line
    stack = []
    for line in out.splitlines():
        prefix, rest = re.match(r"^([ |`\-]*)(.*)$", line).groups()
        depth = len(prefix) // 4
        stack = [s for s in stack if s[0] < depth]
        if rest.startswith("["):
            # "[build-dependencies]" opens a host section; any other header
            # (dev-dependencies are excluded) keeps the context.
            stack.append((depth, rest.startswith("[build-dependencies]")))
            continue
        name, _, features = rest.partition("|")
        host = any(h for _, h in stack) or "(proc-macro)" in name
        name = name.replace(" (proc-macro)", "").strip()
        features = features.replace(" (*)", "")
        found[(name, "host" if host else "target")] |= {f for f in features.split(",") if f}
        stack.append((depth, host))
    return found


def main():
    a, b = (resolved(p) for p in BINARIES)
    differ = [(k, a[k], b[k]) for k in sorted(set(a) & set(b)) if a[k] != b[k]]
    for (crate, side), fa, fb in differ:
        print(f"{crate} ({side}): only {BINARIES[0]}: {sorted(fa - fb)}; "
              f"only {BINARIES[1]}: {sorted(fb - fa)}")
    if differ:
        print(f"{len(differ)} shared dependencies differ in features; add the union to "
              "crates/hack/Cargo.toml ([dependencies] for target, [build-dependencies] for host)")
        return 1
    print(f"one feature set: {len(set(a) & set(b))} shared dependencies resolve alike "
          f"for {BINARIES[0]} and {BINARIES[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
