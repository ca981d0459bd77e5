// `hook guard` (PreToolUse, matcher Bash): asks src/guard/check.ts whether the command may run and
// answers Claude Code with a deny when not. An allow is silence (no output, exit 0): answering
// "allow" would skip the user's own permission prompts. Inside a bridged session (and with
// BRIDGE_BLOCK_GIT_ALL=1) every failure is a deny naming the error: exit 1 would let it run.
// Half an identity (BRIDGE_PROJECT without BRIDGE_ROLE, a bad name, BRIDGE_ROLES) is a session
// that was meant to be bridged: it gets the same denies, each saying why it counts as bridged.
import { loadSettings, settingsPath } from "../settings/file.ts";
import { BridgeError, describeError } from "../lib/errors.ts";
import { isRecord } from "../lib/fs.ts";
import { checkCommand, parseBlockGit } from "../guard/check.ts";
import type { GuardPolicy } from "../guard/check.ts";
import type { HookInput, HookResult } from "./io.ts";
import { resolveRoot } from "../bus/layout.ts";
import { describeHalfIdentity, identityFromEnv } from "../bus/identity-env.ts";

export function hookGuard(env: NodeJS.ProcessEnv, readInput: () => HookInput): HookResult {
  const envIdentity = identityFromEnv(env);
  const note =
    envIdentity.kind === "half" ? ` This session counts as bridged for the guard: ${describeHalfIdentity(envIdentity, "it")}.` : "";
  const deny = (reason: string): HookResult => denial(reason + note);
  try {
    const input = readInput();
    // A matcher wider than Bash: other tools' inputs are not shell commands.
    if (input.tool_name !== undefined && input.tool_name !== "Bash") return { code: 0 };
    const toolInput = input.tool_input;
    const command = isRecord(toolInput) ? toolInput.command : undefined;
    if (typeof command !== "string") {
      throw new BridgeError(
        "E_USAGE",
        `the PreToolUse input has no tool_input.command text (got ${JSON.stringify(toolInput) ?? "nothing"})`,
      );
    }
    const verdict = checkCommand(command, guardPolicy(env));
    return verdict.allow ? { code: 0 } : deny(verdict.reason);
  } catch (err) {
    return deny(
      `session-bridge guard: could not check this command (${describeError(err)}). A bridged session fails closed, ` +
        "so Bash is denied until that is fixed; a human can fix it, or run the command in a terminal.",
    );
  }
}

/** The policy for this session: BRIDGE_BLOCK_GIT, guard.deny from the config, rails unless admin. */
export function guardPolicy(env: NodeJS.ProcessEnv): GuardPolicy {
  const blockGit = parseBlockGit(env.BRIDGE_BLOCK_GIT);
  const root = resolveRoot(env);
  // Strict load: a config that cannot be read must not silently drop its deny patterns.
  const settings = loadSettings(root);
  return { blockGit, denyPatterns: settings.guard.deny, protectRails: env.BRIDGE_ADMIN !== "1", configFile: settingsPath(root) };
}

function denial(reason: string): HookResult {
  const output = { hookSpecificOutput: { hookEventName: "PreToolUse", permissionDecision: "deny", permissionDecisionReason: reason } };
  return { code: 0, stdout: JSON.stringify(output) + "\n" };
}
