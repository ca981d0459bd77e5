// Where `install` puts the copy Claude Code runs, so hooks and the MCP server outlive the clone or
// download they were installed from, and a node upgrade (nvm, Homebrew) that deletes a versioned
// node folder. The executable is copied as is; the script gets a small sh launcher beside it that
// picks node at each start and, when there is none, fails visibly rather than open: a hook exiting
// 127 is a non-blocking error, so the guard would let Bash run (docs/claude-code.md "Exit codes").
import { spawnSync } from "node:child_process";
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readSync, realpathSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { basename, delimiter, dirname, isAbsolute, join } from "node:path";
import { writeFileAtomic } from "../lib/fs.ts";
import { isSea } from "../runtime/self.ts";
import { shellQuote } from "./plan.ts";

const LAUNCHER_MARK = "# session-bridge launcher";

/** $XDG_DATA_HOME/session-bridge, else ~/.local/share/session-bridge (the same on macOS: one place to document). */
export function dataHome(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_DATA_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), ".local", "share"), "session-bridge");
}

/** Node folders that an upgrade replaces: nvm, Homebrew's Cellar, volta, asdf, mise, fnm, nodenv, n. */
const VERSIONED =
  /\/(\.nvm\/versions|Cellar|\.volta\/tools\/image|\.asdf\/installs|mise\/installs|\.fnm|fnm\/node-versions|\.nodenv\/versions|n\/versions)\//;

export function isVersionedPath(path: string): boolean {
  return VERSIONED.test(path);
}

export interface NodeChoice {
  /** The node the launcher tries first; undefined: only the node on PATH at each start. */
  path: string | undefined;
  why: string;
}

function nodeMajor(path: string): number | undefined {
  const r = spawnSync(path, ["--version"], { encoding: "utf8", timeout: 20_000 });
  const m = /^v(\d+)\./.exec(r.stdout ?? "");
  return r.status === 0 && m ? Number(m[1]) : undefined;
}

/** The first node on PATH outside a versioned folder (its path as found, e.g. /opt/homebrew/bin/node), else this node if it is outside one. */
export function chooseNode(env: NodeJS.ProcessEnv, execPath = process.execPath): NodeChoice {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!isAbsolute(dir) || isVersionedPath(dir + "/")) continue;
    const candidate = join(dir, "node");
    if (!existsSync(candidate)) continue;
    const major = nodeMajor(candidate);
    if (major !== undefined && major >= 20)
      return { path: candidate, why: `${candidate}: the first Node 20+ on PATH outside a versioned folder, so upgrades keep it` };
  }
  if (!isVersionedPath(execPath)) return { path: execPath, why: `${execPath}: the node running install (none on PATH fits)` };
  return {
    path: undefined,
    why: `${execPath} sits in a versioned folder an upgrade deletes, and no Node 20+ on PATH is outside one: the launcher runs the node on PATH at each start`,
  };
}

export interface Placed {
  /** The argv prefix Claude Code runs: the copied executable, or the launcher. */
  command: string[];
  lines: string[];
}

/** Copies `from` to `to` (temp + rename: a running hook never sees half a file), unless they are the same file. */
function copyInto(from: string, to: string, mode: number): boolean {
  if (existsSync(to) && realpathSync(to) === realpathSync(from)) return false;
  const tmp = `${to}.${process.pid}.tmp`;
  copyFileSync(from, tmp);
  chmodSync(tmp, mode);
  renameSync(tmp, to);
  return true;
}

/** Puts this artifact (and for a script, its launcher) into <home>/bin; `install` again updates it in place. */
export function placeCopy(home: string, self: readonly string[], env: NodeJS.ProcessEnv, dryRun = false): Placed {
  const bin = join(home, "bin");
  const target = join(bin, "session-bridge");
  if (dryRun) return { command: [target], lines: [`launch: would copy ${self[self.length - 1]} into ${bin} and run it as ${target}`] };
  mkdirSync(bin, { recursive: true, mode: 0o700 });
  if (isSea()) {
    const copied = copyInto(self[0]!, target, 0o755);
    return {
      command: [target],
      lines: [`launch: ${copied ? `copied ${self[0]} to ${target}` : `${target} (already this executable)`}; no node needed`],
    };
  }
  const script = self[1]!;
  const scriptCopy = join(bin, basename(script));
  const copied = copyInto(script, scriptCopy, 0o644);
  for (const other of ["session-bridge.mjs", "session-bridge.cjs", "session-bridge.js"])
    if (other !== basename(script)) rmSync(join(bin, other), { force: true });
  const node = chooseNode(env);
  writeFileAtomic(target, launcherText(node.path, scriptCopy), { mode: 0o755 });
  return {
    command: [target],
    lines: [
      `launch: ${copied ? `copied ${script} to ${scriptCopy}` : `${scriptCopy} (already this script)`}, run by the launcher ${target}, so deleting the clone or download breaks nothing`,
      `node: ${node.why}; without any node, bridged sessions see the error (the git guard blocks Bash) and doctor names it`,
    ],
  };
}

/** What the build writes beside the program (build.mjs): a line of sh setting `fast` to its fast start. */
export const FAST_START_FILE = "fast-start.sh";

/**
 * `install --in-place` (a clone you rebuild): a launcher where placeCopy puts one, running the file
 * where it is instead of a copy. Not `node <file>`: a file moved or deleted then fails as the
 * launcher does, closed (the guard exits 2), where node's "Cannot find module" (exit 1) is a
 * non-blocking error that lets Bash run. A rebuild replaces the file, so the launcher cannot carry
 * this build's fast start: it sources the one the build writes beside the file (as the plugin's
 * launcher does, src/install/plugin.ts), and without it runs the file as any command. The
 * executable is registered as it is.
 */
export function placeInPlace(home: string, self: readonly string[], env: NodeJS.ProcessEnv, dryRun = false): Placed {
  const file = self[self.length - 1]!;
  if (isSea()) return { command: [...self], lines: [`launch: ${file} in place (--in-place): moving or deleting it breaks the hooks`] };
  const bin = join(home, "bin");
  const target = join(bin, "session-bridge");
  if (dryRun) return { command: [target], lines: [`launch: would write ${target}, a launcher that runs ${file} where it is`] };
  mkdirSync(bin, { recursive: true, mode: 0o700 });
  const node = chooseNode(env);
  writeFileAtomic(target, launcherText(node.path, file, join(dirname(file), FAST_START_FILE)), { mode: 0o755 });
  return {
    command: [target],
    lines: [
      `launch: ${file} in place (--in-place), run by the launcher ${target}: moving or deleting it breaks the hooks (a bridged session's guard then blocks Bash) until \`install --in-place\` is run from its new place`,
      `node: ${node.why}`,
    ],
  };
}

/**
 * The launcher: the chosen node, else the node on PATH. With neither, a bridged session must not
 * fail open: `hook guard` exits 2 (Bash blocked, the reason shown to the model), `hook recv` says
 * it on stdout (context at SessionStart and on each prompt); outside bridged sessions, where those
 * hooks do nothing anyway, they stay silent (the same test as src/hooks.ts).
 */
export function launcherText(node: string | undefined, script: string, fastFile?: string): string {
  const q = shellQuote;
  return launcherScript({
    head: `${LAUNCHER_MARK} (written by \`session-bridge install\` ${__VERSION__}; \`install\` again rewrites it)`,
    assign: `node=${q(node ?? "")}\nscript=${q(script)}`,
    // The fast start of this very build, which the copy is: the two cannot drift. In place, the
    // one beside the file (placeInPlace).
    ...(fastFile ? { fastFile: q(fastFile) } : { fast: __FAST_START__ }),
    noNode: node ? `no node: ${node} is gone and none is on PATH` : "no node on PATH",
    fix: "install Node 20+ or run \\`session-bridge install\\` again, and \\`session-bridge doctor\\`",
  });
}

export interface LauncherParts {
  /** The comment line after the shebang (readLauncher and doctor recognise a launcher by it). */
  head: string;
  /** Shell lines setting `node` (may be empty: the node on PATH) and `script`. */
  assign: string;
  /** `node -e` code that starts a hook (src/fast-start.ts), written into the launcher. */
  fast?: string;
  /**
   * Or a file that sets `fast` to that code, as a shell word (quoted), sourced (`.` is built into
   * sh: no fork): the one the build writes beside the program, for a launcher that runs a program a
   * rebuild replaces (the plugin's, src/install/plugin.ts; `install --in-place`'s, placeInPlace).
   * Neither: hooks run the script as any command.
   */
  fastFile?: string;
  /** What to say when no node is found. */
  noNode: string;
  /** The fix, as text inside double quotes (backticks escaped). */
  fix: string;
}

/**
 * A hook outside a bridged session has nothing to do, and the launcher answers it without starting
 * node (sh alone: 0.13x `node -e 0` in BENCHMARKS.md): every prompt and Bash call of every
 * session on the machine runs these hooks. The rule is the one src/hooks.ts and build.mjs's prelude
 * answer by (test/install/launcher-fast.test.ts holds the three together): `hook recv|guard|send|wait`
 * and nothing more, no BRIDGE_* variable but BRIDGE_ROOT, and for recv no CLAUDE_ENV_FILE (its
 * SessionStart takes the git shim out). It errs one way only: any BRIDGE_ name it sees anywhere
 * in `export -p` (an empty one, or one inside a value) sends the run on to node, which decides.
 */
const NOTHING_TO_DO = `if [ $# -eq 2 ] && [ "$1" = hook ] && [ -z "$BRIDGE_PROJECT$BRIDGE_ROLE" ]; then
  case "$2" in
  recv | guard | send | wait)
    if [ "$2" != recv ] || [ -z "$CLAUDE_ENV_FILE" ]; then
      named= rest=$(export -p)
      while [ -z "$named" ]; do
        case "$rest" in
        *BRIDGE_*) rest=\${rest#*BRIDGE_}; case "$rest" in ROOT=*) ;; *) named=1 ;; esac ;;
        *) exit 0 ;;
        esac
      done
    fi ;;
  esac
fi`;

/**
 * The launcher's body, shared with the Claude Code plugin's launcher (src/install/plugin.ts).
 *
 * The node on PATH is found as `command -v` finds it (the first regular, executable file named
 * node), but in a loop of the shell's own: `$(command -v node)` forks a subshell, ~2 ms of every
 * hook of the plugin's launcher, which always looks (its bridged guard 1.19x `node -e 0` against
 * 1.15x with the loop, interleaved; BENCHMARKS.md "What is missed, and why").
 *
 * A hook's node runs with one V8 worker thread, not Node's default four: a hook is ~10 ms of
 * work on the main thread, and the three threads it no longer starts (with the GC and compile
 * jobs spread over them, on a 2-core machine) cost it ~1.5 ms: a bridged guard went from 1.16x
 * to 1.14x `node -e 0` (interleaved runs; BENCHMARKS.md "Where start-up goes"). `--v8-pool-size`
 * is Node's, not V8's, so it leaves the code caches' flag hash alone: a cache made by a run
 * without it (the program run directly, or by `mcp`) still serves a hook, and the other way round.
 *
 * The fast start is `-e` code, and Node decides what `-e` code is from its options, which
 * NODE_OPTIONS can set: `--input-type=module` or `--experimental-default-type=module` there made
 * it an ES module, where `require` is undefined, so the bridged guard threw, exited 1 and let the
 * command run. `--input-type=commonjs` on the command line wins over NODE_OPTIONS, and it also
 * spares Node (20.20 here, whose module detection is on) a second parse of the code looking for
 * module syntax: 1.2M instructions of every bridged hook (callgrind; BENCHMARKS.md "Stop 22").
 * Only the `-e` line carries it: the option is about string input alone.
 *
 * The guard runs without NODE_OPTIONS, as the git shim's decider does (src/shim/script.ts): a
 * guard that does not answer lets the command run, and NODE_OPTIONS can stop node before any code
 * of ours (an option this node does not know, or does not allow there such as `--cpu-prof`: exit
 * 9; a preload that throws), slow every Bash call (`--require` of a tool's agent) or change V8's
 * flags and with them the code caches'. The guard needs nothing from it: no network, little
 * memory. The other hooks keep it (they may reach a Redis server over TLS, as the user configured
 * Node to).
 */
export function launcherScript(parts: LauncherParts): string {
  return `#!/bin/sh
${parts.head}
${NOTHING_TO_DO}
${parts.assign}
${parts.fastFile ? `fast=\n[ -r ${parts.fastFile} ] && . ${parts.fastFile}` : `fast=${shellQuote(parts.fast ?? "")}`}
if [ -z "$node" ] || [ ! -x "$node" ]; then
  node= saved=$IFS
  IFS=:
  set -f
  for dir in $PATH; do
    [ -f "\${dir:-.}/node" ] && [ -x "\${dir:-.}/node" ] && node=\${dir:-.}/node && break
  done
  IFS=$saved
  set +f
fi
if [ -z "$node" ] || [ ! -r "$script" ]; then
  if [ -z "$node" ]; then what=${shellQuote(parts.noNode)}; else what="$script is missing"; fi
  msg="session-bridge cannot run ($what); ${parts.fix}"
  bridged=; [ -n "$BRIDGE_PROJECT" ] && [ -n "$BRIDGE_ROLE" ] && bridged=1
  case "$1 $2" in
  "hook guard") if [ -n "$bridged" ] || [ "$BRIDGE_BLOCK_GIT_ALL" = 1 ]; then echo "$msg" >&2; exit 2; fi; exit 0 ;;
  "hook recv") [ -n "$bridged" ] && echo "$msg"; exit 0 ;;
  "hook "*) exit 0 ;;
  esac
  echo "$msg" >&2
  exit 127
fi
if [ "$1" = hook ]; then
  [ "$2" = guard ] && unset NODE_OPTIONS
  [ -n "$fast" ] && exec "$node" --v8-pool-size=1 --input-type=commonjs -e "$fast" "$script" "$@"
  exec "$node" --v8-pool-size=1 "$script" "$@"
fi
exec "$node" "$script" "$@"
`;
}

export interface Launcher {
  node: string | undefined;
  script: string;
}

/** The node and script a launcher we wrote runs; undefined for anything else (e.g. the executable). */
export function readLauncher(path: string): Launcher | undefined {
  let text: string;
  try {
    // The first 4 KB: enough for a launcher, and never the whole of a 100 MB executable.
    const fd = openSync(path, "r");
    try {
      const buf = Buffer.alloc(4096);
      text = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString("utf8");
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  if (!text.startsWith(`#!/bin/sh\n${LAUNCHER_MARK}`)) return undefined;
  // The fast start's code comes after node= and script=, and may hold lines of its own.
  text = text.slice(0, text.indexOf("\nfast=") >>> 0);
  const node = unquote(/^node=(.*)$/m.exec(text)?.[1]);
  const script = unquote(/^script=(.*)$/m.exec(text)?.[1]);
  return script ? { node: node || undefined, script } : undefined;
}

function unquote(word: string | undefined): string | undefined {
  if (word === undefined) return undefined;
  return word.startsWith("'") ? word.slice(1, -1).replace(/'\\''/g, "'") : word;
}
