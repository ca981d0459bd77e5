// The hooks under Codex CLI and Gemini CLI: which CLI called (--agent, else the input and
// environment), and each answer in the shape that CLI honours (docs/other-agents.md "Portable hook
// rules"; the real binaries prove it in test/e2e/codex-bridge.test.ts and gemini-bridge.test.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { BIN } from "../helpers/bin.ts";
import { hookEnv, send, tempRoot } from "../helpers/hooks.ts";
import { agentFlag, detectAgent } from "../../src/agents/agent.ts";

function run(args: string[], env: NodeJS.ProcessEnv, input: unknown) {
  const r = spawnSync(process.execPath, [BIN, "hook", ...args], {
    env,
    input: JSON.stringify(input) + "\n",
    encoding: "utf8",
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** What Gemini CLI 0.61.0 gives its hooks (no CLAUDE_*: those come from the Claude stand-in env). */
function geminiEnv(root: string): NodeJS.ProcessEnv {
  return hookEnv(root, "api", {
    CLAUDE_PID: undefined,
    CLAUDE_CODE_SESSION_ID: undefined,
    CLAUDE_CODE_ENTRYPOINT: undefined,
    CLAUDE_CODE_SESSION_ATTENDED: undefined,
    GEMINI_SESSION_ID: "5a1f0000-0000-4000-8000-000000000001",
    GEMINI_PROJECT_DIR: root,
  });
}

function codexEnv(root: string): NodeJS.ProcessEnv {
  return hookEnv(root, "api", {
    CLAUDE_PID: undefined,
    CLAUDE_CODE_SESSION_ID: undefined,
    CLAUDE_CODE_ENTRYPOINT: undefined,
    CLAUDE_CODE_SESSION_ATTENDED: undefined,
    CLAUDECODE: undefined,
    CODEX_MANAGED_BY_NPM: "1",
  });
}

const geminiTool = (command: string) => ({
  session_id: "5a1f0000-0000-4000-8000-000000000001",
  cwd: "/work/app",
  hook_event_name: "BeforeTool",
  timestamp: "2026-01-01T00:00:00.000Z",
  tool_name: "run_shell_command",
  tool_input: { command },
});
const codexTool = (command: string) => ({
  session_id: "019a0000-0000-7000-8000-000000000001",
  turn_id: "t1",
  model: "gpt-5.5",
  permission_mode: "bypassPermissions",
  cwd: "/work/app",
  hook_event_name: "PreToolUse",
  tool_name: "Bash",
  tool_input: { command },
  tool_use_id: "call_1",
});

test("detectAgent: Gemini event names and shell tool, Codex's turn_id, then the environment; Claude Code otherwise", () => {
  assert.equal(detectAgent({ hook_event_name: "BeforeAgent" }, {}), "gemini");
  assert.equal(detectAgent({ hook_event_name: "PreToolUse", tool_name: "run_shell_command" }, {}), "gemini");
  assert.equal(detectAgent({ hook_event_name: "UserPromptSubmit", turn_id: "t" }, { CLAUDE_PID: "5" }), "codex");
  assert.equal(detectAgent({ hook_event_name: "SessionStart" }, { GEMINI_SESSION_ID: "x", GEMINI_PROJECT_DIR: "/p" }), "gemini");
  assert.equal(detectAgent({ hook_event_name: "SessionStart" }, { CODEX_MANAGED_BY_NPM: "1" }), "codex");
  assert.equal(detectAgent({ hook_event_name: "SessionStart" }, { CLAUDE_PID: "5" }), "claude");
  assert.equal(detectAgent({}, {}), "claude");
});

test("agentFlag: --agent NAME and --agent=NAME; a bad or missing name is an Error naming it", () => {
  assert.equal(agentFlag([]), undefined);
  assert.equal(agentFlag(["--agent", "codex"]), "codex");
  assert.equal(agentFlag(["--agent=gemini"]), "gemini");
  const bad = agentFlag(["--agent", "cursor"]);
  assert.ok(bad instanceof Error && /one of claude, codex, gemini \(got "cursor"\)/.test(bad.message));
  const missing = agentFlag(["--agent"]);
  assert.ok(missing instanceof Error && /got null/.test(missing.message));
});

test("guard under Gemini (detected from BeforeTool, no --agent): {decision: deny}, the shape Gemini honours", (t) => {
  const root = tempRoot(t);
  const r = run(["guard"], geminiEnv(root), geminiTool("git push origin main"));
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.decision, "deny");
  assert.match(out.reason, /`git push` is blocked/);
  assert.equal(out.hookSpecificOutput, undefined);
  assert.deepEqual(run(["guard"], geminiEnv(root), geminiTool("git status")), { code: 0, stdout: "", stderr: "" });
});

test("guard under Codex: permissionDecision deny (Codex ignores {decision: deny})", (t) => {
  const root = tempRoot(t);
  const r = run(["guard", "--agent", "codex"], codexEnv(root), codexTool("git commit -m x"));
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.hookSpecificOutput.permissionDecision, "deny");
  assert.equal(out.decision, undefined);
});

test("guard: --agent beats detection; a bad --agent denies with exit 2, the one deny every CLI honours", (t) => {
  const root = tempRoot(t);
  const forced = run(["guard", "--agent", "gemini"], hookEnv(root, "api"), codexTool("git push"));
  assert.equal(JSON.parse(forced.stdout).decision, "deny");
  const bad = run(["guard", "--agent", "cursor"], geminiEnv(root), geminiTool("ls"));
  assert.equal(bad.code, 2);
  assert.equal(bad.stdout, "");
  assert.match(bad.stderr, /--agent must be one of claude, codex, gemini \(got "cursor"\)/);
});

test("guard: unreadable input under Gemini still denies in Gemini's shape (told by the environment)", (t) => {
  const root = tempRoot(t);
  const r = spawnSync(process.execPath, [BIN, "hook", "guard"], { env: geminiEnv(root), input: "not json", encoding: "utf8" });
  assert.equal(r.status, 0);
  assert.equal(JSON.parse(r.stdout).decision, "deny");
});

test("recv on Gemini's BeforeAgent: additionalContext JSON for BeforeAgent; the record says gemini", (t) => {
  const root = tempRoot(t);
  send(root, "web", "api", "HELLO-GEMINI-1c");
  const input = { session_id: "5a1f", cwd: root, hook_event_name: "BeforeAgent", prompt: "hi" };
  const r = run(["recv", "--agent", "gemini"], geminiEnv(root), input);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.hookSpecificOutput.hookEventName, "BeforeAgent");
  assert.match(out.hookSpecificOutput.additionalContext, /HELLO-GEMINI-1c/);
  const roles = spawnSync(process.execPath, [BIN, "roles", "--json"], { env: hookEnv(root, "web"), encoding: "utf8" });
  assert.match(roles.stdout, /"agent":\s*"gemini"/);
});

test("recv on Gemini's SessionStart registers the session but leaves the messages for BeforeAgent", (t) => {
  const root = tempRoot(t);
  send(root, "web", "api", "WAIT-FOR-BEFORE-AGENT");
  const r = run(["recv"], geminiEnv(root), { session_id: "5a1f", hook_event_name: "SessionStart", source: "startup" });
  assert.deepEqual([r.code, r.stdout], [0, ""]);
  const next = run(["recv"], geminiEnv(root), { session_id: "5a1f", hook_event_name: "BeforeAgent", prompt: "hi" });
  assert.match(JSON.parse(next.stdout).hookSpecificOutput.additionalContext, /WAIT-FOR-BEFORE-AGENT/);
});

test("recv with a bad --agent reads nothing and says why, exit 0", (t) => {
  const root = tempRoot(t);
  send(root, "web", "api", "STAYS-QUEUED");
  const r = run(["recv", "--agent", "cursor"], codexEnv(root), { hook_event_name: "UserPromptSubmit", prompt: "x" });
  assert.deepEqual([r.code, r.stdout], [0, ""]);
  assert.match(r.stderr, /--agent must be one of .*nothing was read/);
  const typo = run(["recv", "--agent", "codx"], codexEnv(root), { hook_event_name: "UserPromptSubmit", prompt: "x" });
  assert.deepEqual([typo.code, typo.stdout], [0, ""]);
  assert.match(typo.stderr, /\(got "codx"; did you mean codex\?\); nothing was read/);
  const again = run(["recv"], codexEnv(root), { hook_event_name: "UserPromptSubmit", turn_id: "t", prompt: "x" });
  assert.match(JSON.parse(again.stdout).hookSpecificOutput.additionalContext, /STAYS-QUEUED/);
});

test("send on Gemini's AfterAgent sends prompt_response; not again when stop_hook_active", (t) => {
  const root = tempRoot(t);
  const env = { ...geminiEnv(root), BRIDGE_AUTOSEND: "1", BRIDGE_SEND_TO: "web" };
  send(root, "web", "api", "make web known");
  const stop = (active: boolean) => ({
    session_id: "5a1f",
    hook_event_name: "AfterAgent",
    prompt: "p",
    prompt_response: "REPLY-7a",
    stop_hook_active: active,
  });
  assert.equal(run(["send", "--agent", "gemini"], env, stop(true)).code, 0);
  assert.equal(run(["send", "--agent", "gemini"], env, stop(false)).code, 0);
  const inbox = spawnSync(process.execPath, [BIN, "recv", "--json"], { env: hookEnv(root, "web"), encoding: "utf8" });
  assert.equal(inbox.stdout.split("REPLY-7a").length - 1, 1, inbox.stdout);
});

test("wait is Claude Code only: --agent codex exits 0 at once", (t) => {
  const root = tempRoot(t);
  assert.deepEqual(run(["wait", "--agent", "codex"], codexEnv(root), {}), { code: 0, stdout: "", stderr: "" });
});
