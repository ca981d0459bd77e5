#!/bin/sh
# The README's air-gapped recipe ("The single executable"), step by step, on one machine: the
# built executable is checksummed and compressed in its folder, carried (copied) into a fresh
# folder that plays the target, unpacked, verified and run. test/runtime/airgap.test.ts runs it
# and checks that every command of the README's recipe is written here, so the two cannot drift.
#   scripts/airgap-recipe.sh BUILD_DIR TARGET_DIR
# BUILD_DIR holds a built session-bridge (dist, after `npm run build:sea`; the recipe writes
# session-bridge.sha256 and session-bridge.gz beside it); TARGET_DIR must not exist yet.
# AIRGAP_SHASUM=1 takes macOS's commands (shasum -a 256) even where sha256sum exists.
set -eu

if [ $# -ne 2 ]; then
  echo "usage: scripts/airgap-recipe.sh BUILD_DIR TARGET_DIR" >&2
  exit 2
fi
if [ ! -f "$1/session-bridge" ]; then
  echo "airgap-recipe: no session-bridge in $1; build it with \`npm run build:sea\`" >&2
  exit 1
fi
build=$(cd "$1" && pwd)
mkdir "$2"
target=$(cd "$2" && pwd)
macos() { [ "${AIRGAP_SHASUM:-}" = 1 ] || ! command -v sha256sum >/dev/null 2>&1; }

# On the connected machine: the checksum is made from inside the folder, so it records the bare
# file name that `-c` finds on the target (`sha256sum dist/session-bridge` would record dist/…).
cd "$build"
if macos; then
  shasum -a 256 session-bridge > session-bridge.sha256
else
  sha256sum session-bridge > session-bridge.sha256
fi
gzip -k session-bridge

# Carried across: the two files, into one folder.
cp session-bridge.gz session-bridge.sha256 "$target/"

# On the target.
cd "$target"
gunzip session-bridge.gz
if macos; then
  shasum -a 256 -c session-bridge.sha256
else
  sha256sum -c session-bridge.sha256
fi
mkdir bin
install -m 0755 session-bridge bin/
bin/session-bridge --version
