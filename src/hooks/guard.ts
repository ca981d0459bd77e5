// `hook guard` (PreToolUse matcher Bash; Gemini BeforeTool matcher run_shell_command): asks
// src/guard/check.ts whether the command may run and answers with a deny in the calling CLI's shape
// when not (hooks/shape.ts; a wrong shape fails open). An allow is silence (no output, exit 0): answering
// "allow" would skip the user's own permission prompts. Inside a bridged session (and with
// BRIDGE_BLOCK_GIT_ALL=1) every failure is a deny naming the error: exit 1 would let it run.
// Half an identity (BRIDGE_PROJECT without BRIDGE_ROLE, a bad name, BRIDGE_ROLES) is a session
// that was meant to be bridged: it gets the same denies, each saying why it counts as bridged.
import { loadSettings, settingsPath } from "../settings/file.ts";
import { BridgeError, describeError } from "../lib/errors.ts";
import { isRecord } from "../lib/fs.ts";
import { checkCommand, parseBlockGit } from "../guard/check.ts";
import type { GuardPolicy } from "../guard/check.ts";
import { readHookInput } from "./io.ts";
import type { HookInput, HookResult } from "./io.ts";
import { resolveRoot } from "../bus/layout.ts";
import { agentFlag, detectAgent, exitTwoDeny, SHELL_TOOL_NAMES } from "../agents/agent.ts";
import type { AgentName } from "../agents/agent.ts";
import { agentOf, denyAs } from "./shape.ts";
import { describeHalfIdentity, identityFromEnv } from "../bus/identity-env.ts";

/** The hook as src/hooks.ts (or the launcher's fast start) runs it: args are what follow `hook guard`. */
export function run(env: NodeJS.ProcessEnv, args: string[]): HookResult {
  return hookGuard(env, readHookInput, agentFlag(args));
}

export function hookGuard(env: NodeJS.ProcessEnv, readInput: () => HookInput, flag?: AgentName | Error): HookResult {
  // A bad --agent: the one deny every CLI honours, so the mistake cannot fail open.
  if (flag instanceof Error) return exitTwoDeny(`session-bridge guard: ${flag.message}; fix the hook command (\`session-bridge install\`)`);
  let agent: AgentName = flag ?? detectAgent({}, env);
  const envIdentity = identityFromEnv(env);
  const note =
    envIdentity.kind === "half" ? ` This session counts as bridged for the guard: ${describeHalfIdentity(envIdentity, "it")}.` : "";
  const deny = (reason: string): HookResult => denyAs(agent, reason + note);
  try {
    const input = readInput();
    agent = agentOf(input, env, flag);
    // A matcher wider than the shell: other tools' inputs are not shell commands.
    if (input.tool_name !== undefined && !SHELL_TOOL_NAMES.includes(input.tool_name as string)) return { code: 0 };
    const toolInput = input.tool_input;
    // Codex's model-side exec_command names its field `cmd`; its hooks are seen to get `command`.
    const command = isRecord(toolInput) ? (toolInput.command ?? toolInput.cmd) : undefined;
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

/** The policy for this session: BRIDGE_BLOCK_GIT, guard.deny from the settings, the settings themselves unless admin. */
export function guardPolicy(env: NodeJS.ProcessEnv): GuardPolicy {
  const blockGit = parseBlockGit(env.BRIDGE_BLOCK_GIT);
  const root = resolveRoot(env);
  // Strict load: a config that cannot be read must not silently drop its deny patterns.
  const settings = loadSettings(root);
  return { blockGit, denyPatterns: settings.guard.deny, protectSettings: env.BRIDGE_ADMIN !== "1", configFile: settingsPath(root) };
}
