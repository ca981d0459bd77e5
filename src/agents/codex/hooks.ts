// Codex CLI 0.169.0's hook answers (docs/other-agents.md "Codex CLI"). A PreToolUse deny is Claude
// Code's `permissionDecision` (pinned in test/e2e/codex-harness.test.ts); `{"decision":"deny"}` is
// ignored there and the command runs, so it is never written. Context: the same
// `hookSpecificOutput.additionalContext`, which Codex turns into a `developer` message.
import type { HookAnswer } from "../agent.ts";

export const CODEX_PROMPT_EVENT = "UserPromptSubmit";
export const CODEX_SHELL_MATCHER = "Bash";

export function codexDeny(reason: string): HookAnswer {
  const output = { hookSpecificOutput: { hookEventName: "PreToolUse", permissionDecision: "deny", permissionDecisionReason: reason } };
  return { code: 0, stdout: JSON.stringify(output) + "\n" };
}

export function codexContext(event: string, text: string): HookAnswer {
  return { code: 0, stdout: JSON.stringify({ hookSpecificOutput: { hookEventName: event, additionalContext: text } }) + "\n" };
}
