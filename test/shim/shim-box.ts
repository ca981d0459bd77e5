// A sandbox for the git shim the way a bridged session gets it: the built `hook recv` runs at
// SessionStart with CLAUDE_ENV_FILE set, and commands then run in bash after sourcing that file,
// as Claude Code runs them (docs/claude-code.md "Session environment"). The git behind the shim is
// a logger that records each call's arguments (one line, each argument in [brackets]) and then
// runs the real git, so a test sees exactly which calls got through.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { BIN } from "../helpers/bin.ts";

export const REAL_GIT = ["/usr/bin/git", "/bin/git", "/usr/local/bin/git"].find((g) => existsSync(g))!;
export const SESSION = "5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f";

export interface ShimBox {
  dir: string;
  root: string;
  /** The env file Claude Code named for this session. */
  envFile: string;
  /** Folder of the logging git that stands for the real one. */
  realBin: string;
  /** The logging git's record. */
  log: string;
  repo: string;
  /** PATH as the session starts with it (the logger's folder first). */
  path: string;
  home: string;
}

/** `logOnly`: the logging git records calls and exits 0 without running git (its own lookups still run). */
export function makeShimBox(t: TestContext, o: { logOnly?: boolean } = {}): ShimBox {
  const dir = mkdtempSync(join(tmpdir(), "sb-shim-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const realBin = join(dir, "realbin");
  const home = join(dir, "home");
  const repo = join(dir, "repo");
  const log = join(dir, "git.log");
  for (const d of [realBin, home, join(dir, "config", "session-env", SESSION)]) mkdirSync(d, { recursive: true });
  const lookups = o.logOnly ? `case $1 in --list-cmds=*|--exec-path) exec '${REAL_GIT}' "$@" ;; esac\n` : "";
  writeFileSync(
    join(realBin, "git"),
    `#!/bin/sh\n${lookups}{ for a in "$@"; do printf '[%s]' "$a"; done; echo; } >> '${log}'\n${o.logOnly ? "exit 0" : `exec '${REAL_GIT}' "$@"`}\n`,
  );
  chmodSync(join(realBin, "git"), 0o755);
  const box: ShimBox = {
    dir,
    root: join(dir, "bridge"),
    envFile: join(dir, "config", "session-env", SESSION, "sessionstart-hook-0.sh"),
    realBin,
    log,
    repo,
    path: `${realBin}:/usr/bin:/bin`,
    home,
  };
  spawnSync(REAL_GIT, ["init", "-q", repo], { env: baseEnv(box) });
  return box;
}

/** What a bridged session's commands inherit (no pager, no prompts, the sandbox's HOME). */
export function baseEnv(box: ShimBox, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string | undefined> = {
    PATH: box.path,
    HOME: box.home,
    LANG: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_PAGER: "cat",
    GIT_EDITOR: "true",
    GIT_TERMINAL_PROMPT: "0",
    GIT_AUTHOR_NAME: "t",
    GIT_AUTHOR_EMAIL: "t@example.invalid",
    GIT_COMMITTER_NAME: "t",
    GIT_COMMITTER_EMAIL: "t@example.invalid",
    BRIDGE_ROOT: box.root,
    BRIDGE_PROJECT: "shop",
    BRIDGE_ROLE: "web",
    CLAUDECODE: "1",
    ...extra,
  };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** `hook recv` at SessionStart, as Claude Code runs it: returns its result. */
export function sessionStart(
  box: ShimBox,
  o: { env?: Record<string, string | undefined>; sessionId?: string; bin?: string; envFile?: string } = {},
): { code: number | null; stdout: string; stderr: string } {
  const env = baseEnv(box, { CLAUDE_ENV_FILE: o.envFile ?? box.envFile, CLAUDE_PID: String(process.pid), ...o.env });
  const input = { session_id: o.sessionId ?? SESSION, hook_event_name: "SessionStart", source: "startup", cwd: box.repo };
  const r = spawnSync(process.execPath, [o.bin ?? BIN, "hook", "recv"], {
    env,
    cwd: box.repo,
    input: JSON.stringify(input),
    encoding: "utf8",
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface BashRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The calls that reached the real git, its own internal lookups left out. */
  calls: string[];
}

/** Runs `script` in bash after sourcing the env file, in the repo, as a Bash tool command runs. */
export function bash(box: ShimBox, script: string, o: { env?: Record<string, string | undefined>; input?: string } = {}): BashRun {
  rmSync(box.log, { force: true });
  const r = spawnSync("bash", ["-c", `. '${box.envFile}' && ${script}`], {
    cwd: box.repo,
    env: baseEnv(box, o.env),
    input: o.input ?? "",
    encoding: "utf8",
    timeout: 120_000,
  });
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, calls: calls(box) };
}

/** The calls that reached the logging git, without the shim's own questions to it. */
export function calls(box: ShimBox): string[] {
  if (!existsSync(box.log)) return [];
  return readFileSync(box.log, "utf8")
    .split("\n")
    .filter((l) => l !== "" && !/^\[--list-cmds=builtins\]$|^\[--exec-path\]$|\[config\]\[-z\]\[--get-regexp\]/.test(l));
}

/** The shim's folder, from the env file. */
export function shimDirOf(envFile: string): string {
  const m = /^export PATH='([^']+)':"\$PATH"$/m.exec(readFileSync(envFile, "utf8"));
  if (!m) throw new Error(`no shim PATH line in ${envFile}:\n${readFileSync(envFile, "utf8")}`);
  return m[1]!;
}
