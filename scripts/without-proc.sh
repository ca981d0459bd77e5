#!/usr/bin/env bash
# Runs a command as on a system without /proc, which is how macOS is (docs: README "Platforms"):
# in a private mount namespace an empty tmpfs is mounted over /proc, so the command and every
# process it starts (node, tmux, the real Claude Code, the hooks) find no /proc and take the
# portable paths. `ps` keeps working, as it does on macOS, where it asks the kernel directly: a
# stand-in first on PATH runs the real ps in a namespace of its own with a proc mounted for it.
#
#   scripts/without-proc.sh node scripts/run-tests.mjs bus/lock proc tmux-driver
#
# Needs root (mount namespaces, mounts). Exits 77 with a message on stderr where that is not
# permitted, so callers can tell "not possible here" from "failed".
set -euo pipefail

if [ "${1:-}" != "--inside" ]; then
  if [ "$#" -eq 0 ]; then
    echo "usage: scripts/without-proc.sh COMMAND [ARG...]" >&2
    exit 2
  fi
  if [ "$(id -u)" != "0" ]; then
    echo "without-proc: needs root to hide /proc (a mount namespace and a tmpfs over /proc); run as root (CI does)" >&2
    exit 77
  fi
  for tool in unshare mount ps; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "without-proc: $tool is not installed (util-linux, procps)" >&2
      exit 77
    fi
  done
  if ! unshare --mount --propagation private true 2>/dev/null; then
    echo "without-proc: unshare --mount is not permitted here (a container without CAP_SYS_ADMIN?)" >&2
    exit 77
  fi
  exec unshare --mount --propagation private --fork -- "$0" --inside "$@"
fi
shift

real_ps=$(command -v ps)
bin=$(mktemp -d "${TMPDIR:-/tmp}/sb-noproc-bin.XXXXXX")
# The namespace ends with the command; the folder does not: remove it on the way out.
trap 'rm -rf "$bin"' EXIT
cat >"$bin/ps" <<STANDIN
#!/bin/sh
# ps as on macOS: it answers although this system has no /proc (see scripts/without-proc.sh).
exec unshare --mount-proc -- "$real_ps" "\$@"
STANDIN
chmod 0755 "$bin/ps"

# Claude Code 2.1.328 (a Bun executable) cannot run on Linux without /proc: it fails with "Can't
# access working directory … does not exist" (docs/claude-code.md); on macOS it has other means.
# So `claude-with-proc CLAUDE ARGS…` gives claude alone a /proc of its own, and in its namespace the
# node binary is replaced by `node-hiding-proc`, which hides /proc again before running the real
# node: our hooks and MCP server, started by claude, still run as on a system without /proc.
node_bin=$(node -p process.execPath)
touch "$bin/real-node"
cat >"$bin/node-hiding-proc" <<HIDER
#!/bin/sh
exec unshare --mount --propagation private -- /bin/sh -c 'mount -t tmpfs -o size=64k,mode=0555 sb-no-proc /proc && exec "\$0" "\$@"' "$bin/real-node" "\$@"
HIDER
cat >"$bin/claude-with-proc" <<WRAPPER
#!/bin/sh
exec unshare --mount --propagation private -- /bin/sh -c 'mount -t proc proc /proc && mount --bind "$node_bin" "$bin/real-node" && mount --bind "$bin/node-hiding-proc" "$node_bin" && exec "\$@"' claude-with-proc "\$@"
WRAPPER
chmod 0755 "$bin/node-hiding-proc" "$bin/claude-with-proc"
export SB_CLAUDE_WRAPPER="$bin/claude-with-proc"

mount -t tmpfs -o size=64k,mode=0555 sb-no-proc /proc
if [ -e /proc/self/stat ]; then
  echo "without-proc: /proc is still there after mounting over it" >&2
  exit 1
fi
export PATH="$bin:$PATH"
export SB_WITHOUT_PROC=1
"$@"
