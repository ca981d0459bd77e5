// Proves the Codex harness against the real Codex CLI 0.169.0 and pins the Codex behaviour
// session-bridge will rely on (docs/other-agents.md). Everything is local: codex only ever talks
// to the scripted Responses API on 127.0.0.1.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { describeRun, fakeGit, netnsUnavailable, socketPath } from "./cli-run.ts";
import { shellQuote } from "./claude.ts";
import { BIN } from "../helpers/bin.ts";
import {
  addCodexHook,
  addCodexMcpServer,
  CODEX_BIN,
  CODEX_TEST_KEY,
  type CodexRunResult,
  type CodexSandbox,
  codexExec,
  codexResume,
  makeCodexSandbox,
  onCleanup,
  runCodex,
} from "./codex.ts";
import {
  callTools,
  functionOutputs,
  lastUserText,
  messageTexts,
  messageTrail,
  type OpenAIServer,
  offeredTools,
  reply,
  startOpenAIServer,
} from "./openai-server.ts";
import { fixtureMcpServer, hookCommand, readJsonLines } from "./stand-ins.ts";
import { startTui } from "./tui.ts";
import { waitFor } from "../helpers/poll.ts";

async function setup(t: TestContext, o: { unixSocket?: boolean } = {}): Promise<{ server: OpenAIServer; box: CodexSandbox }> {
  const server = await startOpenAIServer(o.unixSocket ? { unixSocket: socketPath(t) } : {});
  onCleanup(t, () => server.close());
  const box = makeCodexSandbox(t, { baseUrl: server.url });
  if (process.env.E2E_KEEP)
    onCleanup(t, () =>
      writeFileSync(join(box.root, "model-requests.jsonl"), server.requests.map((r) => JSON.stringify(r) + "\n").join("")),
    );
  return { server, box };
}

function assertClean(server: OpenAIServer): void {
  assert.deepEqual(
    server.unknown.map((r) => `${r.method} ${r.url}`),
    [],
    "codex called endpoints the scripted server does not know",
  );
  assert.deepEqual(
    server.unscripted.map((r) => r.seq),
    [],
    "turn requests ran past the script",
  );
}

function assertOk(r: CodexRunResult): void {
  assert.equal(r.code, 0, describeRun("codex", r));
}

const turns = (server: OpenAIServer) => server.findRequests((r) => r.kind === "turn");

test("codex --version is the pinned 0.169.0", async (t) => {
  const { box } = await setup(t);
  const r = await runCodex(box, ["--version"]);
  assertOk(r);
  assert.equal(r.stdout.trim(), "codex-cli 0.169.0");
});

test("codex exec: the scripted reply comes back; only POST /v1/responses on 127.0.0.1 is asked", async (t) => {
  const { server, box } = await setup(t);
  server.script("", [reply("HELLO-FROM-SCRIPT")]);
  const r = await codexExec(box, { prompt: "say hello" });
  assertOk(r);
  assert.deepEqual(r.messages, ["HELLO-FROM-SCRIPT"]);
  assert.match(r.threadId ?? "", /^[0-9a-f-]{36}$/);
  const [req, ...more] = turns(server);
  assert.equal(more.length, 0);
  assert.equal(req!.url, "/v1/responses");
  assert.equal(req!.headers.authorization, `Bearer ${CODEX_TEST_KEY}`);
  assert.equal(req!.body.stream, true);
  assert.equal(lastUserText(req!), "say hello");
  assert.deepEqual(
    server.requests.map((x) => x.seq),
    [req!.seq],
    "one request in all",
  );
  assertClean(server);
  t.diagnostic(`codex exec round: ${r.ms.toFixed(0)} ms`);
});

test("codex exec inside a network namespace with only loopback: the same run works", async (t) => {
  const why = netnsUnavailable();
  if (why) return t.skip(`no network namespace here: ${why}`);
  const { server, box } = await setup(t, { unixSocket: true });
  server.script("", [reply("FROM-INSIDE-THE-NAMESPACE")]);
  const r = await codexExec(box, { prompt: "hello from a namespace", netns: { unixSocket: server.unixSocket!, port: server.port } });
  assertOk(r);
  assert.deepEqual(r.messages, ["FROM-INSIDE-THE-NAMESPACE"]);
  assert.equal(turns(server).length, 1);
  assertClean(server);
});

// `login: false`: the default `bash -lc` sources /etc/profile, which on Debian resets PATH and
// would skip the fake git (seen with 0.169.0).
const shell = (cmd: string, id?: string) => ({ name: "exec_command", input: { cmd, login: false }, ...(id ? { id } : {}) });

test("hooks: context injection, stdin fields, environment, and a Stop block that starts one more turn", async (t) => {
  const { server, box } = await setup(t);
  const log = join(box.root, "hooks.jsonl");
  const cmdEnv = join(box.root, "command-env.txt");
  addCodexHook(box, "SessionStart", { command: hookCommand(log, "context", "SS-CTX-5e1d") });
  addCodexHook(box, "UserPromptSubmit", { command: hookCommand(log, "context", "UPS-CTX-0a7c") });
  addCodexHook(box, "UserPromptSubmit", { command: hookCommand(log, "plain", "UPS-PLAIN-93bb") });
  addCodexHook(box, "PreToolUse", { command: hookCommand(log, "record") }, "Bash");
  addCodexHook(box, "PostToolUse", { command: hookCommand(log, "record") });
  const keepGoing = JSON.stringify({ decision: "block", reason: "KEEP-GOING-4f20" });
  addCodexHook(box, "Stop", { command: hookCommand(log, "json-once", keepGoing) });
  server.script("", [callTools([shell(`env > ${shellQuote(cmdEnv)}`, "call_env")]), reply("FIRST-REPLY"), reply("SECOND-REPLY")]);
  const env = { ...box.env, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "api" };
  const r = await codexExec(box, { prompt: "hello hooks", env });
  assertOk(r);
  assert.deepEqual(r.messages, ["FIRST-REPLY", "SECOND-REPLY"]);
  const [first, second, third, ...more] = turns(server);
  assert.equal(more.length, 0);

  // Context: each hook's text is a `developer` message of its own, SessionStart's before the
  // prompt, UserPromptSubmit's right after it; plain stdout counts like additionalContext.
  const trail = messageTrail(first!).map((m) => `${m.role}: ${m.text}`);
  assert.deepEqual(trail.slice(-4, -2), ["developer: SS-CTX-5e1d", "user: hello hooks"]);
  // Two UserPromptSubmit hooks: both lines follow the prompt (their order is not relied on).
  assert.deepEqual(trail.slice(-2).sort(), ["developer: UPS-CTX-0a7c", "developer: UPS-PLAIN-93bb"]);
  assert.match(trail[trail.length - 5]!, /^user: <environment_context>/);

  // Stop {"decision":"block"} adds a user message wrapping the reason, and the turn goes on.
  assert.deepEqual(
    functionOutputs(second!).map((o) => o.call_id),
    ["call_env"],
  );
  const wake = messageTrail(third!).at(-1)!;
  assert.equal(wake.role, "user");
  assert.match(wake.text, /^<hook_prompt hook_run_id="stop:\d+:[^"]+\/hooks\.json">KEEP-GOING-4f20<\/hook_prompt>$/);

  // Stdin: Claude Code's field names, plus turn_id and model.
  const hooks = readJsonLines(log);
  const common = ["session_id", "transcript_path", "cwd", "hook_event_name", "model", "permission_mode"];
  const fields = (event: string) => hooks.filter((h) => h.event === event).map((h) => Object.keys(h.stdin).sort());
  const sorted = (...k: string[]) => [...common, ...k].sort();
  assert.deepEqual(fields("SessionStart"), [sorted("source")]);
  assert.deepEqual(fields("UserPromptSubmit"), [sorted("turn_id", "prompt"), sorted("turn_id", "prompt")]);
  assert.deepEqual(fields("PreToolUse"), [sorted("turn_id", "tool_name", "tool_input", "tool_use_id")]);
  assert.deepEqual(fields("PostToolUse"), [sorted("turn_id", "tool_name", "tool_input", "tool_response", "tool_use_id")]);
  assert.deepEqual(fields("Stop"), [
    sorted("turn_id", "stop_hook_active", "last_assistant_message"),
    sorted("turn_id", "stop_hook_active", "last_assistant_message"),
  ]);
  const by = (event: string) => hooks.find((h) => h.event === event)!.stdin;
  assert.equal(by("SessionStart").source, "startup");
  assert.equal(by("SessionStart").session_id, r.threadId, "session_id is the thread id `exec resume` takes");
  assert.equal(by("SessionStart").permission_mode, "bypassPermissions");
  assert.equal(by("UserPromptSubmit").prompt, "hello hooks");
  assert.equal(by("PreToolUse").tool_name, "Bash", "the shell tool is called Bash in hook input");
  assert.equal(by("PreToolUse").tool_input.command, `env > ${shellQuote(cmdEnv)}`);
  assert.equal(by("PreToolUse").tool_use_id, "call_env");
  const stops = hooks.filter((h) => h.event === "Stop").map((h) => [h.stdin.stop_hook_active, h.stdin.last_assistant_message]);
  assert.deepEqual(stops, [
    [false, "FIRST-REPLY"],
    [true, "SECOND-REPLY"],
  ]);

  // Environment: hooks get codex's whole environment (BRIDGE_* included) plus the npm launcher's
  // two variables and what `sh` adds; no session id. Their parent is the native codex, a child
  // of the launcher we spawned.
  const launched = new Set(Object.keys(env));
  for (const h of hooks) {
    assert.deepEqual(
      Object.keys(h.env)
        .filter((k) => !launched.has(k))
        .sort(),
      ["CODEX_MANAGED_BY_NPM", "CODEX_MANAGED_PACKAGE_ROOT", "PWD", "SHLVL", "_"],
    );
    assert.equal(h.env.BRIDGE_PROJECT, "shop");
    assert.equal(h.env.BRIDGE_ROLE, "api");
    assert.deepEqual(h.parent, { comm: "codex", ppid: r.pid });
  }
  // Shell commands the model runs do get the thread id (and BRIDGE_*).
  const cmd = Object.fromEntries(
    readFileSync(cmdEnv, "utf8")
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  assert.equal(cmd.CODEX_THREAD_ID, r.threadId);
  assert.equal(cmd.CODEX_SESSION_ID, r.threadId);
  assert.equal(cmd.CODEX_TOOL_CALL_ID, "call_env");
  assert.equal(cmd.CODEX_CI, "1");
  assert.equal(cmd.BRIDGE_PROJECT, "shop");
  assertClean(server);
});

test("PreToolUse on the shell: permissionDecision deny, decision block and exit 2 block; decision deny fails open", async (t) => {
  const { server, box } = await setup(t);
  const log = join(box.root, "hooks.jsonl");
  const git = fakeGit(box);
  const byCommand = {
    "commit -m pd": {
      hookSpecificOutput: { hookEventName: "PreToolUse", permissionDecision: "deny", permissionDecisionReason: "REASON-PD" },
    },
    "commit -m block": { decision: "block", reason: "REASON-BLOCK" },
    "commit -m exit2": "REASON-EXIT2",
    "commit -m wrong": { decision: "deny", reason: "REASON-WRONG" },
  };
  addCodexHook(box, "PreToolUse", { command: hookCommand(log, "by-command", JSON.stringify(byCommand)) }, "Bash");
  server.script("", [
    callTools([
      shell("git commit -m pd", "call_pd"),
      shell("git commit -m block", "call_block"),
      shell("git commit -m exit2", "call_exit2"),
      shell("git commit -m wrong", "call_wrong"),
    ]),
    reply("AFTER-DENIES"),
  ]);
  const r = await codexExec(box, { prompt: "commit it", env: git.env });
  assertOk(r);
  const [, second] = turns(server);
  const outputs = Object.fromEntries(functionOutputs(second!).map((o) => [o.call_id, o.text]));
  assert.equal(outputs.call_pd, "Command blocked by PreToolUse hook: REASON-PD. Command: git commit -m pd");
  assert.equal(outputs.call_block, "Command blocked by PreToolUse hook: REASON-BLOCK. Command: git commit -m block");
  assert.equal(outputs.call_exit2, "Command blocked by PreToolUse hook: REASON-EXIT2. Command: git commit -m exit2");
  assert.match(outputs.call_wrong ?? "", /Process exited with code 0\n[\s\S]*fake-git-ok/);
  assert.deepEqual(git.ran(), ["commit -m wrong"], "only the wrongly denied command ran");
  assert.equal(readJsonLines(log).length, 4, "the hook saw all four commands");
  assertClean(server);
});

test("MCP: the real `session-bridge mcp` over stdio; tool names, and what reaches the server's environment", async (t) => {
  const { server, box } = await setup(t);
  const hookLog = join(box.root, "hooks.jsonl");
  const fxLog = join(box.root, "fx.jsonl");
  const bridgeRoot = join(box.root, "bridge");
  // required: `codex exec` otherwise sends the first request before slow servers have listed their tools.
  addCodexMcpServer(box, "session-bridge", {
    command: process.execPath,
    args: [BIN, "mcp"],
    env: { BRIDGE_ROOT: bridgeRoot },
    envVars: ["BRIDGE_PROJECT", "BRIDGE_ROLE"],
    required: true,
  });
  const fx = fixtureMcpServer(fxLog);
  addCodexMcpServer(box, "fx", { command: fx.command, args: fx.args ?? [], env: { FROM_CONFIG: "1" }, required: true });
  addCodexHook(box, "PreToolUse", { command: hookCommand(hookLog, "record") });
  server.script("", [
    callTools([
      { name: "mcp__session_bridge__bridge_whoami", input: {}, id: "call_whoami" },
      { name: "mcp__fx__echo", input: { text: "ping" }, id: "call_echo" },
    ]),
    reply("MCP-DONE"),
  ]);
  const env = { ...box.env, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "api", E2E_LAUNCH_MARKER: "yes" };
  const r = await codexExec(box, { prompt: "who am i", env });
  assertOk(r);
  assert.deepEqual(r.messages, ["MCP-DONE"]);
  const [first, second] = turns(server);
  const offered = offeredTools(first!);
  // The model sees `-` in a server name as `_`: namespace mcp__session_bridge.
  assert.ok(offered.includes("mcp__session_bridge__bridge_whoami") && offered.includes("mcp__fx__echo"), `offered: ${offered.join(" ")}`);
  assert.ok(!offered.some((n) => n.startsWith("mcp__session-bridge")));
  const outputs = Object.fromEntries(functionOutputs(second!).map((o) => [o.call_id, o.text]));
  // BRIDGE_* reach the bridge only because `env_vars` names them.
  assert.match(outputs.call_whoami ?? "", new RegExp(`you are role "api" of bridge project "shop" \\(bridge root ${bridgeRoot}\\)`));
  assert.match(outputs.call_echo ?? "", /echo: ping/);
  // Hooks see MCP tools as mcp__SERVER__TOOL.
  // Hooks see MCP tools as mcp__SERVER__TOOL, with the same `_` for `-`.
  const hooks = readJsonLines(hookLog);
  assert.deepEqual(hooks.map((h) => h.stdin.tool_name).sort(), ["mcp__fx__echo", "mcp__session_bridge__bridge_whoami"]);
  // A stdio server without env_vars gets a short fixed list, `env`, and nothing else of the launch environment.
  const start = readJsonLines(fxLog).find((x) => x.type === "start");
  assert.deepEqual(Object.keys(start.env).sort(), ["FROM_CONFIG", "HOME", "LANG", "PATH", "TMPDIR"]);
  // Its parent is the native codex (as for hooks), not the npm launcher we spawned.
  assert.equal(start.ppid, hooks[0].ppid);
  assert.notEqual(start.ppid, r.pid);
  assertClean(server);
});

test("resume: `codex exec resume THREAD_ID` carries the earlier conversation into the next request", async (t) => {
  const { server, box } = await setup(t);
  server.script("", [reply("FIRST-ANSWER-77c1"), reply("SECOND-ANSWER-2b90")]);
  const first = await codexExec(box, { prompt: "first prompt" });
  assertOk(first);
  assert.ok(first.threadId);
  const second = await codexResume(box, first.threadId!, { prompt: "second prompt" });
  assertOk(second);
  assert.deepEqual(second.messages, ["SECOND-ANSWER-2b90"]);
  assert.equal(second.threadId, first.threadId, "the same thread goes on");
  const req = turns(server)[1]!;
  const trail = messageTrail(req)
    .filter((m) => m.role !== "developer" && !m.text.startsWith("<environment_context>"))
    .map((m) => `${m.role}: ${m.text}`);
  assert.deepEqual(trail, ["user: first prompt", "assistant: FIRST-ANSWER-77c1", "user: second prompt"]);
  assertClean(server);
});

test("hook trust: an unapproved hook silently does not run; the TUI's approval lands in config.toml and lets exec run it", async (t) => {
  const { server, box } = await setup(t);
  const log = join(box.root, "hooks.jsonl");
  addCodexHook(box, "UserPromptSubmit", { command: hookCommand(log, "context", "TRUSTED-CTX-61aa") });
  server.script("", () => reply("OK"));
  const ctxIn = (req: ReturnType<typeof turns>[number]) => messageTexts(req, "developer").includes("TRUSTED-CTX-61aa");

  const untrusted = await codexExec(box, { prompt: "before approval", bypassHookTrust: false });
  assertOk(untrusted);
  assert.equal(readJsonLines(log).length, 0, "the hook did not run");
  assert.equal(ctxIn(turns(server)[0]!), false);
  assert.doesNotMatch(untrusted.stdout + untrusted.stderr, /hook/i, "nothing tells the user");

  // A person starts the TUI: it lists the new hook and offers to trust it.
  const tui = await startTui({
    t,
    bin: CODEX_BIN,
    args: ["--no-daemon"],
    cwd: box.cwd,
    env: box.env,
    ready: /Hooks need review/,
    readyTimeoutMs: 30_000,
  });
  await tui.waitFor("2. Trust all and continue", 10_000);
  tui.press("2");
  tui.press("Enter");
  const config = join(box.codexHome, "config.toml");
  const key = `${join(box.codexHome, "hooks.json")}:user_prompt_submit:0:0`;
  const state = await waitFor("the trust entry in config.toml", () => {
    const text = readFileSync(config, "utf8");
    return text.includes(`[hooks.state.${JSON.stringify(key)}]`) && text;
  });
  assert.match(state, new RegExp(`\\[hooks\\.state\\.${escapeRe(JSON.stringify(key))}\\]\\ntrusted_hash = "sha256:[0-9a-f]{64}"\\n`));
  await tui.kill();

  const trusted = await codexExec(box, { prompt: "after approval", bypassHookTrust: false });
  assertOk(trusted);
  assert.equal(readJsonLines(log).length, 1, "the approved hook ran");
  assert.equal(ctxIn(turns(server).at(-1)!), true);

  // Any change to the hook's command makes it unapproved again.
  writeFileSync(
    join(box.codexHome, "hooks.json"),
    readFileSync(join(box.codexHome, "hooks.json"), "utf8").replace("TRUSTED-CTX-61aa", "CHANGED-CTX"),
  );
  const changed = await codexExec(box, { prompt: "after a change", bypassHookTrust: false });
  assertOk(changed);
  assert.equal(readJsonLines(log).length, 1, "the changed hook did not run");
  assertClean(server);
});

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
