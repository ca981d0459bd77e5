// Proves the e2e harness against the real Claude Code 2.1.328, with stand-in hook and MCP
// server fixtures. Everything is local: claude only ever talks to the model server on 127.0.0.1.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { addHook, addUserMcpServer, makeSandbox, onCleanup, runClaude, runHeadless, startTui, type Sandbox } from "./claude.ts";
import { callTool, callTools, lastUserText, offeredTools, reply, requestText, startModelServer, toolResults, type ModelServer } from "./model-server.ts";
import { fixtureMcpServer, hookCommand, readJsonLines, waitForLine } from "./stand-ins.ts";

async function setup(t: TestContext): Promise<{ server: ModelServer; box: Sandbox }> {
  const server = await startModelServer();
  onCleanup(t, () => server.close());
  const box = makeSandbox(t, { baseUrl: server.url });
  // With E2E_KEEP=1 the kept sandbox also holds what the model saw.
  if (process.env.E2E_KEEP) onCleanup(t, () => writeFileSync(join(box.root, "model-requests.jsonl"), server.requests.map((r) => JSON.stringify(r) + "\n").join("")));
  return { server, box };
}

function assertClean(server: ModelServer): void {
  assert.deepEqual(server.unknown.map((r) => `${r.method} ${r.url}`), [], "claude called endpoints the model server does not know");
  assert.deepEqual(server.unscripted.map((r) => r.seq), [], "turn requests ran past the script");
}

function assertOk(r: { code: number | null; stdout: string; stderr: string }): void {
  assert.equal(r.code, 0, `claude exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
}

const turns = (server: ModelServer) => server.findRequests((r) => r.kind === "turn");

test("headless: claude -p gets the scripted text reply", async (t) => {
  const { server, box } = await setup(t);
  server.script("", [reply("HELLO-FROM-SCRIPT")]);
  const r = await runHeadless({ cwd: box.cwd, env: box.env, prompt: "say hello", args: ["--output-format", "json"] });
  assertOk(r);
  assert.equal(r.json?.result, "HELLO-FROM-SCRIPT");
  assert.equal(r.json?.is_error, false);
  const [req, ...more] = turns(server);
  assert.equal(more.length, 0);
  assert.match(lastUserText(req!), /say hello/);
  assert.equal(req!.headers["x-api-key"], box.env.ANTHROPIC_API_KEY);
  assertClean(server);
  t.diagnostic(`headless round: ${r.ms.toFixed(0)} ms`);
});

test("headless: scripted MCP tool calls reach the fixture servers and the results come back", async (t) => {
  const { server, box } = await setup(t);
  const userLog = join(box.root, "mcp-user.jsonl");
  const flagLog = join(box.root, "mcp-flag.jsonl");
  // One server in user scope (where our installer writes), one per launch with --mcp-config.
  addUserMcpServer(box.configDir, "fx", fixtureMcpServer(userLog));
  const mcpConfig = JSON.stringify({ mcpServers: { fxflag: fixtureMcpServer(flagLog) } });
  server.script("", [
    callTools([
      { name: "mcp__fx__echo", input: { text: "ping-user" } },
      { name: "mcp__fxflag__echo", input: { text: "ping-flag" } },
    ]),
    reply("TOOLS-DONE"),
  ]);
  const r = await runHeadless({
    cwd: box.cwd,
    env: box.env,
    prompt: "use the tools",
    args: ["--output-format", "json", "--mcp-config", mcpConfig, "--allowedTools", "mcp__fx__echo", "mcp__fxflag__echo"],
  });
  assertOk(r);
  assert.equal(r.json?.result, "TOOLS-DONE");

  const [first, second] = turns(server);
  // 2.1.328 defers MCP tools (named in a system message, schema via ToolSearch); direct calls work.
  const offered = offeredTools(first!);
  const all = [...offered.loaded, ...offered.deferred];
  assert.ok(all.includes("mcp__fx__echo") && all.includes("mcp__fxflag__echo"), `tools offered: ${JSON.stringify(offered)}`);
  const calls = [...readJsonLines(userLog), ...readJsonLines(flagLog)].filter((x) => x.type === "call");
  assert.deepEqual(calls.map((c) => c.arguments.text).sort(), ["ping-flag", "ping-user"]);
  const results = toolResults(second!);
  assert.deepEqual(results.map((x) => [x.is_error, x.text]).sort(), [[false, "echo: ping-flag"], [false, "echo: ping-user"]]);

  const start = readJsonLines(userLog).find((x) => x.type === "start");
  assert.equal(start.ppid, r.pid, "the MCP server is a direct child of claude");
  t.diagnostic(`MCP env (-p): ${JSON.stringify(pick(start.env))}`);
  assertClean(server);
});

test("hooks: SessionStart and UserPromptSubmit additionalContext reach the model", async (t) => {
  const { server, box } = await setup(t);
  const log = join(box.root, "hooks.jsonl");
  addHook(box.configDir, "SessionStart", { command: hookCommand(log, "context", "SS-MARKER-7f3a") });
  addHook(box.configDir, "UserPromptSubmit", { command: hookCommand(log, "context", "UPS-MARKER-91c2") });
  server.script("", [reply("ok")]);
  const r = await runHeadless({ cwd: box.cwd, env: box.env, prompt: "hello hooks", args: ["--output-format", "json"] });
  assertOk(r);
  const [req] = turns(server);
  const text = requestText(req!);
  assert.match(text, /UPS-MARKER-91c2/);
  assert.match(text, /SS-MARKER-7f3a/);
  const ups = readJsonLines(log).find((x) => x.event === "UserPromptSubmit");
  assert.equal(ups.stdin.prompt, "hello hooks");
  t.diagnostic(`hook env (-p): ${JSON.stringify(pick(ups.env))}; hook ppid ${ups.ppid}, claude pid ${r.pid}`);
  assertClean(server);
});

test("hooks: a PreToolUse deny on Bash comes back as an is_error tool_result with the reason", async (t) => {
  const { server, box } = await setup(t);
  const log = join(box.root, "hooks.jsonl");
  const marker = join(box.root, "bash-ran");
  addHook(box.configDir, "PreToolUse", { command: hookCommand(log, "deny", "DENIED-BY-E2E-GUARD") }, "Bash");
  server.script("", [callTool("Bash", { command: `touch ${marker}`, description: "touch a file" }), reply("after deny")]);
  // Bash is allowed, so only the hook can stop it.
  const r = await runHeadless({ cwd: box.cwd, env: box.env, prompt: "run bash", args: ["--output-format", "json", "--allowedTools", "Bash"] });
  assertOk(r);
  const [, second] = turns(server);
  const [result, ...more] = toolResults(second!);
  assert.equal(more.length, 0);
  assert.equal(result!.is_error, true);
  assert.match(result!.text, /DENIED-BY-E2E-GUARD/);
  assert.equal(readJsonLines(log)[0]?.stdin.tool_input.command, `touch ${marker}`);
  t.diagnostic(`deny tool_result text: ${JSON.stringify(result!.text)}`);
  assertClean(server);
});

// Subset of the environment worth reporting (see NOTES.md).
function pick(env: Record<string, string>): Record<string, string | undefined> {
  const keys = Object.keys(env).filter((k) => /^(CLAUDE|TMUX|TERM$|PWD$|SHLVL$|ANTHROPIC_BASE_URL$|E2E_)/.test(k));
  return Object.fromEntries(keys.sort().map((k) => [k, env[k]]));
}

test("claude mcp list reports a healthy and a failing user-scope server; add-json writes <config>/.claude.json", async (t) => {
  const { server, box } = await setup(t);
  addUserMcpServer(box.configDir, "good", fixtureMcpServer(join(box.root, "good.jsonl")));
  addUserMcpServer(box.configDir, "bad", fixtureMcpServer(join(box.root, "bad.jsonl"), { fail: true }));
  const added = await runClaude({
    cwd: box.cwd,
    env: box.env,
    args: ["mcp", "add-json", "--scope", "user", "viaCli", JSON.stringify(fixtureMcpServer(join(box.root, "cli.jsonl")))],
  });
  assertOk(added);
  const list = await runClaude({ cwd: box.cwd, env: box.env, args: ["mcp", "list"] });
  assertOk(list);
  assert.match(list.stdout, /^good: .* - ✔ Connected$/m);
  assert.match(list.stdout, /^viaCli: .* - ✔ Connected$/m);
  // 2.1.328 appends the cause: "✘ Failed to connect — CONNECTION_CLOSED: Connection closed".
  assert.match(list.stdout, /^bad: .* - ✘ Failed to connect\b/m);
  t.diagnostic(`mcp add-json stdout: ${JSON.stringify(added.stdout)}`);
  t.diagnostic(`mcp list (${list.ms.toFixed(0)} ms): ${JSON.stringify(list.stdout)}`);
  assert.equal(server.requests.length, 0, "mcp subcommands do not call the model");
});

test("tui: ready footer, a typed prompt reaches the model, the reply shows, /exit ends it", async (t) => {
  const { server, box } = await setup(t);
  const hookLog = join(box.root, "hooks.jsonl");
  const mcpLog = join(box.root, "mcp.jsonl");
  addHook(box.configDir, "UserPromptSubmit", { command: hookCommand(hookLog, "record") });
  addUserMcpServer(box.configDir, "fx", fixtureMcpServer(mcpLog));
  server.script("", [reply("TUI-REPLY-5d1e")]);
  const tui = await startTui({ t, cwd: box.cwd, env: box.env });
  t.diagnostic(`TUI ready after ${tui.readyMs.toFixed(0)} ms`);

  const typed = performance.now();
  await tui.submit("hello from tmux");
  const req = await server.waitForRequest((r) => r.kind === "turn", 15_000);
  assert.match(lastUserText(req), /hello from tmux/);
  await tui.waitFor("TUI-REPLY-5d1e", 15_000);
  t.diagnostic(`TUI prompt → reply on screen: ${(performance.now() - typed).toFixed(0)} ms`);

  const ups = readJsonLines(hookLog).find((x) => x.event === "UserPromptSubmit");
  t.diagnostic(`hook env (TUI): ${JSON.stringify(pick(ups.env))}; hook ppid ${ups.ppid}, claude pid ${tui.pid}`);
  const start = await waitForLine(mcpLog, (x) => x.type === "start", 10_000);
  t.diagnostic(`MCP env (TUI): ${JSON.stringify(pick(start.env))}; mcp ppid ${start.ppid}, claude pid ${tui.pid}`);
  assert.equal(ups.env.TMUX_PANE, tui.paneId);

  await tui.submit("/exit");
  await tui.waitForExit(10_000);
  assertClean(server);
});

test("tui: an asyncRewake Stop hook that exits 2 wakes the idle session with its stderr", async (t) => {
  const { server, box } = await setup(t);
  const hookLog = join(box.root, "hooks.jsonl");
  const mail = join(box.root, "mail.txt");
  addHook(box.configDir, "Stop", { command: hookCommand(hookLog, "wait", mail), asyncRewake: true, timeout: 120 });
  addHook(box.configDir, "UserPromptSubmit", { command: hookCommand(hookLog, "record") });
  server.script("", [reply("FIRST-REPLY-aa11"), reply("WOKEN-REPLY-bb22")]);
  const tui = await startTui({ t, cwd: box.cwd, env: box.env });

  await tui.submit("first prompt");
  await tui.waitFor("FIRST-REPLY-aa11", 15_000);
  // The waiter is armed once the first turn has ended; only then does the mail arrive.
  await waitForLine(hookLog, (x) => x.event === "Stop" && x.waiting, 10_000);
  const before = server.mark();
  const wokeAt = performance.now();
  writeFileSync(mail, "MAIL-LINE-cc33 from a sibling");

  const woken = await server.waitForRequest((r) => r.kind === "turn", 15_000, { after: before });
  t.diagnostic(`mail file → model request: ${(performance.now() - wokeAt).toFixed(0)} ms`);
  assert.match(requestText(woken), /MAIL-LINE-cc33 from a sibling/);
  await tui.waitFor("WOKEN-REPLY-bb22", 15_000);
  // The woken turn's end re-arms the waiter, now with stop_hook_active.
  const rearmed = await waitForLine(hookLog, (x) => x.event === "Stop" && x.waiting && x.stdin.last_assistant_message === "WOKEN-REPLY-bb22", 10_000);
  t.diagnostic(`re-armed waiter stop_hook_active: ${rearmed.stdin.stop_hook_active}`);
  t.diagnostic(`woken request, last user message: ${JSON.stringify(lastUserText(woken))}`);
  const upsCount = readJsonLines(hookLog).filter((x) => x.event === "UserPromptSubmit").length;
  t.diagnostic(`UserPromptSubmit hook runs: ${upsCount} (1 = not fired by the rewake turn)`);
  assertClean(server);
});
