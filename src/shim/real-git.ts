// The real git behind the shim, asked what src/shim/resolve.ts needs to know: which git PATH
// would run if the shim were not there, that git's built-in commands, its exec path and the
// external `git-<cmd>` programs it would find, and the aliases of the configuration it would
// read. The configuration is read by that same git (`git config`), in the same folder, with the
// same options and environment, so includes, conditional includes, GIT_CONFIG_PARAMETERS and
// GIT_CONFIG_COUNT/KEY_n/VALUE_n count exactly as they will when it runs.
import { spawnSync } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { BridgeError } from "../lib/errors.ts";
import type { Context, GitConfig, GitWorld } from "./resolve.ts";

/** git's own default when PATH is unset (_PATH_DEFPATH). */
export const DEFAULT_PATH = "/usr/bin:/bin";

function executableFile(path: string): { dev: number; ino: number } | undefined {
  try {
    const st = statSync(path);
    if (!st.isFile()) return undefined;
    accessSync(path, constants.X_OK);
    return { dev: st.dev, ino: st.ino };
  } catch {
    return undefined;
  }
}

/**
 * The git the shim at `self` stands in front of: the first executable `git` on PATH after the last
 * entry holding `self`, or the first one at all when `self` is not on PATH. After the *last*
 * entry, so a PATH naming the shim's folder twice, or two shims that stand in front of each
 * other, can never send a call round in a circle.
 */
export function findRealGit(pathValue: string | undefined, self: string): string | undefined {
  const me = executableFile(self);
  let found: string | undefined;
  for (const { path, id } of gitsOnPath(pathValue)) {
    if (me && id.dev === me.dev && id.ino === me.ino) found = undefined;
    else found ??= path;
  }
  return found;
}

/** Every executable `git` on PATH, in order (an empty entry is the current folder, as in execvp). */
export function gitsOnPath(pathValue: string | undefined): { path: string; id: { dev: number; ino: number } }[] {
  const found = [];
  for (const dir of (pathValue ?? DEFAULT_PATH).split(":")) {
    const path = join(dir === "" ? "." : dir, "git");
    const id = executableFile(path);
    if (id) found.push({ path, id });
  }
  return found;
}

/**
 * `git --list-cmds=builtins` (git 2.18+): a table compiled into git, but git reads the
 * configuration of the folder it runs in first, so it runs in / with no repository named, where
 * only a broken global configuration (which breaks every git call alike) can stop it.
 */
export function listBuiltins(git: string, env: NodeJS.ProcessEnv): string[] {
  const clean = Object.fromEntries(Object.entries(env).filter(([k]) => !/^(GIT_DIR|GIT_WORK_TREE|GIT_TRACE.*)$/.test(k)));
  const r = spawnSync(git, ["--list-cmds=builtins"], { cwd: "/", env: clean, encoding: "utf8", timeout: 20_000 });
  if (r.status !== 0 || r.error) {
    const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}: ${r.stderr.trim().split("\n")[0] ?? ""}`;
    throw new BridgeError(
      "E_IO",
      `${git} could not list its built-in commands (\`git --list-cmds=builtins\`: ${why}); the shim cannot tell what a git call would run, so it is refused`,
    );
  }
  return r.stdout.split("\n").filter(Boolean);
}

/** Variables that would change what our own runs of git read or print, not what the user's call does. */
const OWN_RUN_DROPS = /^(GIT_CONFIG|GIT_TRACE.*|GIT_PAGER|PAGER)$/;

export class RealGit implements GitWorld {
  private builtins: Set<string> | undefined;
  private defaultExecPath: string | undefined;
  private readonly configs = new Map<string, GitConfig>();
  private readonly runEnv: NodeJS.ProcessEnv;

  constructor(
    readonly git: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly cwd: string = process.cwd(),
  ) {
    // GIT_CONFIG makes `git config` read that one file instead of what git reads at start-up.
    this.runEnv = Object.fromEntries(Object.entries(env).filter(([k]) => !OWN_RUN_DROPS.test(k)));
  }

  isBuiltin(name: string): boolean {
    this.builtins ??= new Set(listBuiltins(this.git, this.runEnv));
    return this.builtins.has(name);
  }

  external(name: string, context: Context): string | undefined {
    const program = `git-${name}`;
    const cwd = this.cwdFor(context);
    if (program.includes("/")) return executableFile(resolve(cwd, program)) ? program : undefined;
    this.defaultExecPath ??= context.execPath ?? this.run(["--exec-path"], "tell its exec path").replace(/\n$/, "");
    const execPath = context.execPath ?? this.defaultExecPath;
    // setup_path: the exec path goes first, then PATH; an empty entry is the current folder.
    for (const dir of [execPath, ...(this.env.PATH ?? DEFAULT_PATH).split(":")]) {
      const candidate = join(dir === "" ? cwd : resolve(cwd, dir), program);
      if (executableFile(candidate)) return candidate;
    }
    return undefined;
  }

  config(context: Context): GitConfig {
    const key = JSON.stringify(context.optionWords);
    let config = this.configs.get(key);
    if (!config) {
      config = this.readConfig(context.optionWords);
      this.configs.set(key, config);
    }
    return config;
  }

  private readConfig(optionWords: readonly string[]): GitConfig {
    const args = [...optionWords, "config", "-z", "--get-regexp", "^(alias\\..*|help\\.autocorrect)$"];
    const r = spawnSync(this.git, args, { cwd: this.cwd, env: this.runEnv, encoding: "utf8", timeout: 20_000 });
    // 1: no such key. Anything else but 0 means git itself would fail to read its configuration.
    if (r.status === 1 && !r.error) return { alias: () => undefined, autocorrect: undefined };
    if (r.status !== 0 || r.error) throw this.failure(args, r, "read its configuration");
    const aliases = new Map<string, string | undefined>();
    let autocorrect: string | undefined;
    for (const entry of r.stdout.split("\0")) {
      if (entry === "") continue;
      const nl = entry.indexOf("\n");
      const key = nl < 0 ? entry : entry.slice(0, nl);
      // A key with no `=` has no value: git refuses such an alias (config_error_nonbool).
      const value = nl < 0 ? undefined : entry.slice(nl + 1);
      if (key.toLowerCase() === "help.autocorrect") autocorrect = value ?? "true";
      // Later entries win, as the last value read does in git; names compare without case (strcasecmp).
      else aliases.set(key.slice("alias.".length).toLowerCase(), value);
    }
    return { alias: (name) => aliases.get(name.toLowerCase()), autocorrect };
  }

  private cwdFor(context: Context): string {
    let cwd = this.cwd;
    const words = context.optionWords;
    for (let i = 0; i < words.length; i++) if (words[i] === "-C" && words[i + 1]) cwd = resolve(cwd, words[++i]!);
    return cwd;
  }

  private run(args: string[], what: string): string {
    const r = spawnSync(this.git, args, { cwd: this.cwd, env: this.runEnv, encoding: "utf8", timeout: 20_000 });
    if (r.status !== 0 || r.error) throw this.failure(args, r, what);
    return r.stdout;
  }

  private failure(args: string[], r: ReturnType<typeof spawnSync>, what: string): BridgeError {
    const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}: ${String(r.stderr).trim().split("\n")[0] ?? ""}`;
    return new BridgeError(
      "E_IO",
      `${this.git} could not ${what} (\`git ${args.join(" ")}\`: ${why}); the shim cannot tell what this git call would run, so it is refused`,
    );
  }
}
