// Putting the shim in place: the script under <root>/shim/<key>/git, one folder per policy, binary
// and git (so every session with the same shares it, and a changed policy never edits a shim
// another session is using), and the env-file lines that put that folder first on PATH. Also
// whether a shell has it, for doctor.
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ensureRoot } from "../bus/layout.ts";
import { ensureDir, readFileIfExists, readHead, writeFileAtomic } from "../lib/fs.ts";
import { sha256Hex } from "../lib/sha256.ts";
import { SHIM_MARK } from "./env-file.ts";
import { findRealGit, gitsOnPath, listBuiltins } from "./real-git.ts";
import { envFileText, renderShim, type ShimSpec } from "./script.ts";

export function shimsDir(root: string): string {
  return join(root, "shim");
}

/** True for a file whose second line carries the shim's mark. */
export function isShimFile(path: string): boolean {
  const text = readHead(path, 256)?.toString("latin1") ?? "";
  return text.startsWith("#!/bin/sh\n") && text.slice(text.indexOf("\n") + 1).startsWith(SHIM_MARK);
}

/** The first `git` on PATH that is not a shim: the one whose built-ins the fast path lists. */
export function firstRealGit(pathValue: string | undefined): string | undefined {
  return gitsOnPath(pathValue).find((g) => !isShimFile(g.path))?.path;
}

/** The built-ins of `git`; none when it cannot say, and then every call asks the decider. */
function fastBuiltins(git: string, env: NodeJS.ProcessEnv): string[] {
  try {
    return listBuiltins(git, env);
  } catch {
    return [];
  }
}

export interface InstallShim {
  root: string;
  /** The PATH the session's commands start from (the hook's own). */
  path: string | undefined;
  env: NodeJS.ProcessEnv;
  decider: readonly string[];
  policy: readonly string[];
  /** Whether the policy refuses this subcommand; a policy that cannot be read refuses all. */
  blocked: (subcommand: string) => boolean;
  summary: string;
}

/** Writes the shim for this policy if it is not there yet; returns its folder and file. */
export function installShim(o: InstallShim): { dir: string; self: string; realGit: string | undefined } {
  const realGit = firstRealGit(o.path);
  const fast = realGit === undefined ? [] : fastBuiltins(realGit, o.env).filter((b) => !o.blocked(b));
  const spec: Omit<ShimSpec, "self"> = {
    ...(realGit !== undefined && { realGit }),
    fast,
    helpFast: fast.includes("help"),
    decider: o.decider,
    policy: o.policy,
    summary: o.summary,
  };
  const key = sha256Hex(JSON.stringify(spec)).slice(0, 16);
  const dir = join(shimsDir(o.root), key);
  const self = join(dir, "git");
  const text = renderShim({ ...spec, self });
  ensureRoot(o.root);
  ensureDir(shimsDir(o.root));
  ensureDir(dir);
  if (readFileIfExists(self) !== text) writeFileAtomic(self, text, { mode: 0o700 });
  return { dir, self, realGit };
}

/** Puts `dir` first on PATH for the session: each target env file gets our lines (only ours: the file is this hook's own). */
export function writeEnvFiles(targets: readonly string[], dir: string): void {
  for (const target of targets) {
    mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
    writeFileAtomic(target, envFileText(dir));
  }
}

export type ShimState =
  | { state: "in place"; shim: string; realGit: string | undefined; policy: string; decider: string | undefined }
  | { state: "missing"; git: string | undefined };

/** Whether `git` on this PATH is a shim, and what stands behind it. */
export function shimState(env: NodeJS.ProcessEnv): ShimState {
  const first = gitsOnPath(env.PATH)[0]?.path;
  if (first === undefined || !isShimFile(first)) return { state: "missing", git: first };
  let text = "";
  try {
    text = readFileSync(first, "utf8");
  } catch {
    // Unreadable: still a shim by its mark; the policy line stays empty.
  }
  const policy = text.split("\n")[2]?.replace(/^# /, "") ?? "";
  // The program the shim asks (src/shim/script.ts checks for it by this line).
  const decider = /^if \[ ! -f '((?:[^']|'\\'')*)' \]; then$/m.exec(text)?.[1]?.replace(/'\\''/g, "'");
  return { state: "in place", shim: first, realGit: findRealGit(env.PATH, first), policy, decider };
}
