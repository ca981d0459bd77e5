// The git shim's part of `hook recv` at SessionStart of a bridged session: write the shim for this
// session's policy, then put its folder first on the PATH of every later Bash command through the
// file Claude Code names in CLAUDE_ENV_FILE (docs/claude-code.md "Session environment"). Every
// SessionStart (startup, resume, clear, compact) rewrites it, so it follows the session; an
// unbridged SessionStart empties it. A bundle of its own, loaded by src/hooks.ts only when
// CLAUDE_ENV_FILE is set, so no prompt-time hook carries it.
import { parseBlockGit } from "../guard/check.ts";
import { resolveRoot } from "../bus/layout.ts";
import { describeError } from "../lib/errors.ts";
import { selfCommand } from "../runtime/self.ts";
import { clearEnvFiles, envFileTargets } from "../shim/env-file.ts";
import { installShim, writeEnvFiles } from "../shim/install.ts";
import type { HookInput, HookResult } from "./io.ts";

/** Installs the shim; returns a note for stderr when that failed (the session then runs without it). */
export function installGitShim(env: NodeJS.ProcessEnv, input: HookInput): string | undefined {
  const envFile = env.CLAUDE_ENV_FILE;
  // Only SessionStart gets the file (2.1.328): elsewhere there is nothing to do.
  if (envFile === undefined || envFile === "") return undefined;
  try {
    const source = env.BRIDGE_BLOCK_GIT ?? "";
    let blocked: (subcommand: string) => boolean;
    let summary: string;
    try {
      const re = parseBlockGit(source);
      blocked = (s) => re.test(s);
      summary = `Refuses git subcommands matching ${re} (BRIDGE_BLOCK_GIT at SessionStart${source.trim() === "" ? ": unset, the default" : ""}).`;
    } catch (err) {
      // The decider reports the bad regex on every call; nothing takes the fast path meanwhile.
      blocked = () => true;
      summary = `Refuses every git call: ${describeError(err)}`;
    }
    const admin = env.BRIDGE_ADMIN === "1";
    const root = resolveRoot(env);
    const { dir } = installShim({
      root,
      path: env.PATH,
      env,
      decider: selfCommand(),
      policy: ["--block-git", source, "--root", root, "--admin", admin ? "1" : "0"],
      blocked,
      summary,
    });
    writeEnvFiles(envFileTargets(envFile, input.session_id), dir);
    return undefined;
  } catch (err) {
    return `could not put the git shim in place (${describeError(err)}); this session's Bash commands run git unchecked (the guard hook still applies); \`session-bridge doctor\` checks it`;
  }
}

/** A session that is not bridged (a bridged one resumed without the variables, say) drops the shim. */
export function removeGitShim(env: NodeJS.ProcessEnv, input: HookInput): HookResult {
  if (env.CLAUDE_ENV_FILE) clearEnvFiles(envFileTargets(env.CLAUDE_ENV_FILE, input.session_id));
  return { code: 0 };
}
