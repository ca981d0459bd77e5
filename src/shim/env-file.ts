// The session environment file Claude Code hands a SessionStart hook in CLAUDE_ENV_FILE: what a
// hook writes there runs before every later Bash command of the session (docs/claude-code.md
// "Session environment").
import { writeFileSync } from "node:fs";
import { readHead } from "../lib/fs.ts";
import { basename, dirname, join } from "node:path";

/** How every file of the shim starts its first or second line (the env file, the shim itself). */
export const SHIM_MARK = "# session-bridge git shim";

/** A Claude Code session id, safe as a folder name (2.1.328 uses UUIDs). */
const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/**
 * The files to write: CLAUDE_ENV_FILE itself, and the same file name in the folder of the session
 * id on the hook's stdin when that differs. In `claude -p --continue` (2.1.328) the hook is given a
 * file under a fresh id while the Bash commands read the folder of the continued session.
 */
export function envFileTargets(envFile: string, sessionId: unknown): string[] {
  const targets = [envFile];
  if (typeof sessionId === "string" && SESSION_ID.test(sessionId) && basename(dirname(envFile)) !== sessionId)
    targets.push(join(dirname(dirname(envFile)), sessionId, basename(envFile)));
  return targets;
}

/** True when the file exists and begins with the shim's mark (so it is ours to rewrite or empty). */
export function isOurEnvFile(path: string): boolean {
  return readHead(path, SHIM_MARK.length)?.toString("latin1") === SHIM_MARK;
}

/**
 * An unbridged session (a bridged one resumed without BRIDGE_PROJECT/BRIDGE_ROLE, say) must not
 * keep the shim: empties every target that holds our lines, and leaves anything else alone.
 */
export function clearEnvFiles(targets: readonly string[]): void {
  for (const path of targets) if (isOurEnvFile(path)) writeFileSync(path, "");
}
