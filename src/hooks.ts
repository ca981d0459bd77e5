// `session-bridge hook recv|guard|send|wait`: the Claude Code hooks (docs/claude-code.md "Hooks").
// They run on every prompt, tool call and turn end of every session on the machine, bridged or
// not, so this file stays tiny: a session without any identity variable (BRIDGE_PROJECT,
// BRIDGE_ROLE, or a BRIDGE_* name we do not know) gets exit 0 before stdin is read or the disk is
// touched, and each hook's module is imported only when it runs. Half an identity is not "not
// bridged": `recv` tells the session what is wrong and the guard treats it as bridged.
//
// Exit codes are Claude Code's protocol: 2 blocks (or, for `wait`, wakes the model); every
// other code is non-blocking. So recv, send and wait never fail loudly (stderr + exit 0: a
// broken bridge must never break the user's prompt), and the guard answers every failure
// inside a bridged session with a deny (an exit 1 would let the command run).
// Only small modules without heavy imports here: in the CommonJS build a module's `node:` imports
// load when the module is first used, so a hook outside a bridged session never loads node:crypto
// (~2 ms).
import { answerHook, quietly, readHookInput } from "./hooks/io.ts";
import { hasIdentityVariables, storeUrlOf } from "./lib/env.ts";
import type { HookResult } from "./hooks/io.ts";
import { agentFlag } from "./agents/agent.ts";
import { closest } from "./lib/text.ts";

const HOOKS = ["recv", "guard", "send", "wait"];

const USAGE = `usage: session-bridge hook <name>   (run by Claude Code; set up by \`session-bridge install\`)
  recv    UserPromptSubmit, SessionStart (Gemini: BeforeAgent): inject this role's unread messages as context;
          at Claude Code's SessionStart also put the git shim first on the session's PATH (CLAUDE_ENV_FILE)
  guard   PreToolUse (matcher Bash; Gemini: BeforeTool, run_shell_command): deny git commit/push/reset,
          deploy commands and changes to the automation settings
  send    Stop (Gemini: AfterAgent): with BRIDGE_AUTOSEND=1, send the last assistant message to
          BRIDGE_SEND_TO (default '*')
  wait    Stop with "asyncRewake" (Claude Code only): wait for mail and wake this idle session when the rails allow
  --agent claude|codex|gemini   answer in that CLI's shape (default: detected from the input)
Each reads the CLI's hook JSON on stdin; outside a bridged session (no BRIDGE_PROJECT,
BRIDGE_ROLE or unknown BRIDGE_* variable) each exits 0 at once.`;

export function isBridged(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.BRIDGE_PROJECT) && Boolean(env.BRIDGE_ROLE);
}

/**
 * `claude -p` (entrypoint sdk-cli) runs Stop hooks synchronously: a waiter there would hold the run
 * hostage. A background session (`claude --bg`) is unattended too but has entrypoint cli, and its
 * asyncRewake hooks do wake it (docs/claude-code.md "asyncRewake Stop hooks"), so only an
 * unattended session without an entrypoint (an older Claude Code) counts as headless as well.
 */
export function isHeadless(env: NodeJS.ProcessEnv): boolean {
  if (env.CLAUDE_CODE_ENTRYPOINT !== undefined) return env.CLAUDE_CODE_ENTRYPOINT === "sdk-cli";
  return env.CLAUDE_CODE_SESSION_ATTENDED === "0";
}

/**
 * The bundle of a hook that the launcher's fast start may run on its own in a bridged session
 * (src/fast-start.ts), without this dispatcher: its `run` is what dispatch below calls there, and
 * in this environment it loads no other bundle (recv loads the git shim's at Claude Code's
 * SessionStart, CLAUDE_ENV_FILE, and the Redis store's with BRIDGE_URL). Undefined for the rest.
 */
export function bundleRunAlone(name: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (name === "guard") return "hook-guard";
  if (name === "recv" && !env.CLAUDE_ENV_FILE && storeUrlOf(env) === undefined) return "hook-recv";
  return undefined;
}

export async function runHook(argv: string[]): Promise<number> {
  const name = argv[1];
  const env = process.env;
  return answerHook(await dispatch(name, env, argv.slice(2)));
}

async function dispatch(name: string | undefined, env: NodeJS.ProcessEnv, args: string[]): Promise<HookResult> {
  const flag = agentFlag(args);
  switch (name) {
    case "recv":
      // CLAUDE_ENV_FILE is set for SessionStart alone: the git shim goes in (or, unbridged, out) there.
      if (!hasIdentityVariables(env))
        return env.CLAUDE_ENV_FILE
          ? quietly("recv", async () => (await import("./hooks/git-shim.ts")).removeGitShim(env, readHookInput()))
          : { code: 0 };
      return (await import("./hooks/recv.ts")).run(env, args);
    case "send":
      if (!isBridged(env) || env.BRIDGE_AUTOSEND !== "1") return { code: 0 };
      return quietly("send", async () => (await import("./hooks/send.ts")).hookSend(env, readHookInput()));
    case "wait":
      // Stdin is not read: the waiter needs nothing from it, and Claude Code tolerates a hook
      // that exits without reading (it logs the failed write and moves on).
      // Only Claude Code has asyncRewake: a waiter under Codex or Gemini would only hold the turn.
      if (!isBridged(env) || isHeadless(env) || (flag !== undefined && flag !== "claude")) return { code: 0 };
      // On a Redis store (BRIDGE_URL) the waiter has no inbox file to watch: the mail waits for the
      // next prompt (README "Across machines").
      if (storeUrlOf(env) !== undefined) return { code: 0 };
      return quietly("wait", async () => (await import("./hooks/wait.ts")).hookWait(env));
    case "guard":
      if (!hasIdentityVariables(env) && env.BRIDGE_BLOCK_GIT_ALL !== "1") return { code: 0 };
      return (await import("./hooks/guard.ts")).run(env, args);
    case "--help":
    case "-h":
    case "help":
      return { code: 0, stdout: USAGE + "\n" };
    default: {
      // Exit 1, not 2 (the CLI's usage error): to Claude Code a hook's 2 blocks, so a mistyped hook
      // command would drop every prompt of the session (docs/claude-code.md "Exit codes"). One line,
      // not the whole usage: the answer to a typo is the name meant, as for commands (src/main.ts).
      const near = name === undefined ? undefined : closest(name, HOOKS);
      const what = name === undefined ? "missing hook name" : `unknown hook ${JSON.stringify(name)}`;
      const hint = near ? ` — did you mean ${near}?` : `; the hooks: ${HOOKS.join(", ")}`;
      return { code: 1, stderr: `session-bridge hook: ${what}${hint} (session-bridge hook --help says what each does)\n` };
    }
  }
}
