// Gemini CLI 0.61.0's hook answers (docs/other-agents.md "Gemini CLI"). BeforeTool denies with
// `{"decision":"deny","reason":R}`: Claude Code's `permissionDecision` is ignored there and the
// command runs. Context only through JSON `hookSpecificOutput.additionalContext` (plain stdout is
// shown to the user, never to the model), and only BeforeAgent's is known to reach the model.
import type { HookAnswer } from "../agent.ts";

export const GEMINI_PROMPT_EVENT = "BeforeAgent";
export const GEMINI_STOP_EVENT = "AfterAgent";
export const GEMINI_SHELL_MATCHER = "run_shell_command";

export function geminiDeny(reason: string): HookAnswer {
  return { code: 0, stdout: JSON.stringify({ decision: "deny", reason }) + "\n" };
}

export function geminiContext(event: string, text: string): HookAnswer {
  return { code: 0, stdout: JSON.stringify({ hookSpecificOutput: { hookEventName: event, additionalContext: text } }) + "\n" };
}
