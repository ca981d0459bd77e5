// The hooks `install --agent codex|gemini` writes: the same three jobs as for Claude Code (inject
// messages, guard the shell, optional autosend) on each CLI's own events, with `--agent` so each
// hook answers in that CLI's shape. No asyncRewake anywhere but Claude Code (docs/other-agents.md).
import type { AgentName } from "../agents/agent.ts";
import type { HookSpec, InstallOptions } from "./plan.ts";

export function vendorHooks(agent: Exclude<AgentName, "claude">, options: InstallOptions): HookSpec[] {
  if (agent === "codex") {
    // Seconds, like Claude Code.
    const specs: HookSpec[] = [
      { event: "UserPromptSubmit", name: "recv", timeout: 15, agent },
      { event: "SessionStart", name: "recv", timeout: 15, agent },
    ];
    if (options.blockGit) specs.push({ event: "PreToolUse", matcher: "Bash", name: "guard", timeout: 15, agent });
    if (options.autosend) specs.push({ event: "Stop", name: "send", timeout: 15, agent });
    return specs;
  }
  // Milliseconds. SessionStart only registers the session: its context is not known to reach the model.
  const specs: HookSpec[] = [
    { event: "BeforeAgent", name: "recv", timeout: 15_000, agent },
    { event: "SessionStart", name: "recv", timeout: 15_000, agent },
  ];
  if (options.blockGit) specs.push({ event: "BeforeTool", matcher: "run_shell_command", name: "guard", timeout: 15_000, agent });
  if (options.autosend) specs.push({ event: "AfterAgent", name: "send", timeout: 15_000, agent });
  return specs;
}
