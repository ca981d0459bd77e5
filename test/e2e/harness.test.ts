// Proves the e2e harness against the real Claude Code 2.1.328, with stand-in hook and MCP
// server fixtures. Everything is local: claude only ever talks to the model server on 127.0.0.1.
// The assertions also pin the Claude Code behaviour the bridge relies on (see NOTES.md), so an
// upgrade that changes it fails here first.
import assert from "node:assert/strict";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { addHook, addUserMcpServer, makeSandbox, onCleanup, runClaude, runHeadless, startTui, type Sandbox } from "./claude.ts";
import {
  byCwd,
  callTool,
  callTools,
  lastUserText,
  offeredTools,
  reply,
  startModelServer,
  systemMessages,
  toolResults,
  type ModelServer,
} from "./model-server.ts";
import { isAlive, processTree } from "./procs.ts";
import { fixtureMcpServer, hookCommand, readJsonLines, waitForLine } from "./stand-ins.ts";

async function setup(t: TestContext): Promise<{ server: ModelServer; box: Sandbox }> {
  const server = await startModelServer();
  onCleanup(t, () => server.close());
  const box = makeSandbox(t, { baseUrl: server.url });
  // With E2E_KEEP=1 the kept sandbox also holds what the model saw.
  if (process.env.E2E_KEEP)
    onCleanup(t, () =>
      writeFileSync(join(box.root, "model-requests.jsonl"), server.requests.map((r) => JSON.stringify(r) + "\n").join("")),
    );
  return { server, box };
}

function assertClean(server: ModelServer): void {
  assert.deepEqual(
    server.unknown.map((r) => `${r.method} ${r.url}`),
    [],
    "claude called endpoints the model server does not know",
  );
  assert.deepEqual(
    server.unscripted.map((r) => r.seq),
    [],
    "turn requests ran past the script",
  );
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
  assert.equal(req!.url, "/v1/messages?beta=true");
  assertClean(server);
  t.diagnostic(`headless round: ${r.ms.toFixed(0)} ms`);
});

test("headless: concurrent claude processes each follow their own script (by base URL route, by cwd)", async (t) => {
  const { server, box } = await setup(t);
  const bob = makeSandbox(t, { baseUrl: server.url });
  const alice = { ...box, env: { ...box.env, ANTHROPIC_BASE_URL: server.baseUrl("alice") } };
  server.script("alice", [reply("FOR-ALICE")]);
  server.route(byCwd(bob.cwd), [reply("FOR-BOB")]);
  const [a, b] = await Promise.all([
    runHeadless({ cwd: alice.cwd, env: alice.env, prompt: "alice here", args: ["--output-format", "json"] }),
    runHeadless({ cwd: bob.cwd, env: bob.env, prompt: "bob here", args: ["--output-format", "json"] }),
  ]);
  assertOk(a);
  assertOk(b);
  assert.equal(a.json?.result, "FOR-ALICE");
  assert.equal(b.json?.result, "FOR-BOB");
  assert.deepEqual(
    turns(server)
      .map((r) => r.route)
      .sort(),
    ["", "alice"],
  );
  assertClean(server);
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
  assert.ok(
    offered.deferred.includes("mcp__fx__echo") && offered.deferred.includes("mcp__fxflag__echo"),
    `tools offered: ${JSON.stringify(offered)}`,
  );
  const calls = [...readJsonLines(userLog), ...readJsonLines(flagLog)].filter((x) => x.type === "call");
  assert.deepEqual(calls.map((c) => c.arguments.text).sort(), ["ping-flag", "ping-user"]);
  assert.equal(calls[0].meta["claudecode/toolUseId"], "toolu_e2e_1_0");
  const results = toolResults(second!);
  assert.deepEqual(results.map((x) => [x.is_error, x.text]).sort(), [
    [false, "echo: ping-flag"],
    [false, "echo: ping-user"],
  ]);

  // What a stdio MCP server gets from `claude -p` (NOTES.md): a direct child, no CLAUDE_PID.
  const start = readJsonLines(userLog).find((x) => x.type === "start");
  assert.equal(start.ppid, r.pid, "the MCP server is a direct child of claude");
  assert.equal(start.env.CLAUDE_PID, undefined);
  assert.equal(start.env.CLAUDE_CODE_ENTRYPOINT, "sdk-cli");
  assert.equal(start.env.CLAUDE_CODE_SESSION_ID, r.json?.session_id);
  assert.equal(start.env.CLAUDE_PROJECT_DIR, box.cwd);
  assertClean(server);
});

test("hooks: SessionStart and UserPromptSubmit additionalContext reach the model as system-message lines", async (t) => {
  const { server, box } = await setup(t);
  const log = join(box.root, "hooks.jsonl");
  addHook(box.configDir, "SessionStart", { command: hookCommand(log, "context", "SS-MARKER-7f3a") });
  addHook(box.configDir, "UserPromptSubmit", { command: hookCommand(log, "context", "UPS-MARKER-91c2") });
  addHook(box.configDir, "UserPromptSubmit", { command: hookCommand(log, "plain", "UPS-PLAIN-44d0") });
  server.script("", [reply("ok")]);
  const r = await runHeadless({ cwd: box.cwd, env: box.env, prompt: "hello hooks", args: ["--output-format", "json"] });
  assertOk(r);
  const [req] = turns(server);
  const system = systemMessages(req!).join("\n");
  assert.match(system, /^SessionStart hook additional context: SS-MARKER-7f3a$/m);
  assert.match(system, /^UserPromptSubmit hook additional context: UPS-MARKER-91c2$/m);
  // Plain stdout is labelled differently from JSON additionalContext.
  assert.match(system, /^UserPromptSubmit hook success: UPS-PLAIN-44d0$/m);
  assert.doesNotMatch(lastUserText(req!), /MARKER/, "context is not in the user message");

  const ups = readJsonLines(log).find((x) => x.event === "UserPromptSubmit");
  assert.equal(ups.stdin.prompt, "hello hooks");
  // What a hook gets from `claude -p` (NOTES.md): run by `sh -c`, a child of claude; CLAUDE_PID set.
  assert.equal(ups.env.CLAUDE_PID, String(r.pid));
  assert.equal(ups.parent?.ppid, r.pid);
  assert.equal(ups.env.CLAUDE_CODE_ENTRYPOINT, "sdk-cli");
  assert.equal(ups.env.CLAUDE_CODE_SESSION_ATTENDED, "0");
  assert.equal(ups.env.CLAUDE_CODE_SESSION_ID, r.json?.session_id);
  assertClean(server);
});

// Both deny styles reach the model as an is_error tool_result; exit 2 also quotes the command line.
for (const [style, mode, expected] of [
  ["JSON permissionDecision deny", "deny", (_cmd: string) => "PreToolUse:Bash hook error: DENIED-BY-E2E-GUARD"],
  ["exit 2 with the reason on stderr", "block", (cmd: string) => `PreToolUse:Bash hook error: [${cmd}]: DENIED-BY-E2E-GUARD\n`],
] as const) {
  test(`hooks: a PreToolUse deny on Bash (${style}) comes back as an is_error tool_result with the reason`, async (t) => {
    const { server, box } = await setup(t);
    const log = join(box.root, "hooks.jsonl");
    const marker = join(box.root, "bash-ran");
    const command = hookCommand(log, mode, "DENIED-BY-E2E-GUARD");
    addHook(box.configDir, "PreToolUse", { command }, "Bash");
    server.script("", [callTool("Bash", { command: `touch ${marker}`, description: "touch a file" }, "toolu_bash_1"), reply("after deny")]);
    // Bash is allowed, so only the hook can stop it.
    const r = await runHeadless({
      cwd: box.cwd,
      env: box.env,
      prompt: "run bash",
      args: ["--output-format", "json", "--allowedTools", "Bash"],
    });
    assertOk(r);
    const [, second] = turns(server);
    const [result, ...more] = toolResults(second!);
    assert.equal(more.length, 0);
    assert.equal(result!.is_error, true);
    assert.equal(result!.tool_use_id, "toolu_bash_1");
    assert.equal(result!.text, expected(command));
    assert.equal(readJsonLines(log)[0]?.stdin.tool_input.command, `touch ${marker}`);
    assert.equal(existsSync(marker), false, "the denied command did not run");
    assertClean(server);
  });
}

test("claude mcp list reports healthy and failing user-scope servers; add-json writes <config>/.claude.json", async (t) => {
  const { server, box } = await setup(t);
  addUserMcpServer(box.configDir, "good", fixtureMcpServer(join(box.root, "good.jsonl")));
  addUserMcpServer(box.configDir, "bad", fixtureMcpServer(join(box.root, "bad.jsonl"), { fail: true }));
  const entry = fixtureMcpServer(join(box.root, "cli.jsonl"));
  const added = await runClaude({
    cwd: box.cwd,
    env: box.env,
    args: ["mcp", "add-json", "--scope", "user", "viaCli", JSON.stringify(entry)],
  });
  assertOk(added);
  assert.equal(added.stdout, "Added stdio MCP server viaCli to user config\n");
  const cfg = JSON.parse(readFileSync(join(box.configDir, ".claude.json"), "utf8"));
  assert.deepEqual(cfg.mcpServers.viaCli, entry);
  assert.equal(cfg.hasCompletedOnboarding, true, "add-json kept the first-run answers");
  assert.equal(existsSync(join(box.home, ".claude.json")), false, "nothing written to $HOME with CLAUDE_CONFIG_DIR set");

  const list = await runClaude({ cwd: box.cwd, env: box.env, args: ["mcp", "list"] });
  assertOk(list);
  assert.match(list.stdout, /^good: \S+ \S+mcp-server\.mjs \S+good\.jsonl - ✔ Connected$/m);
  assert.match(list.stdout, /^viaCli: .* - ✔ Connected$/m);
  // 2.1.328 appends the cause to the failure.
  assert.match(list.stdout, /^bad: .* --fail - ✘ Failed to connect — CONNECTION_CLOSED: Connection closed$/m);
  t.diagnostic(`claude mcp list: ${list.ms.toFixed(0)} ms`);
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

  // What hooks and MCP servers get in the TUI (NOTES.md).
  const ups = readJsonLines(hookLog).find((x) => x.event === "UserPromptSubmit");
  assert.equal(ups.env.CLAUDE_PID, String(tui.pid));
  assert.equal(ups.env.CLAUDE_CODE_ENTRYPOINT, "cli");
  assert.equal(ups.env.CLAUDE_CODE_SESSION_ATTENDED, "1");
  assert.equal(ups.env.TMUX_PANE, tui.paneId);
  const start = await waitForLine(mcpLog, (x) => x.type === "start", 10_000);
  assert.equal(start.ppid, tui.pid);
  assert.equal(start.env.CLAUDE_PID, undefined);
  assert.equal(start.env.CLAUDE_CODE_ENTRYPOINT, "cli");
  assert.equal(start.env.CLAUDE_CODE_SESSION_ID, ups.stdin.session_id);
  assert.equal(start.env.TMUX_PANE, tui.paneId);

  await tui.submit("/exit");
  await tui.waitForExit(10_000);
  assertClean(server);
});

test("tui: an asyncRewake Stop hook that exits 2 wakes the idle session with its stderr; kill() ends everything", async (t) => {
  const { server, box } = await setup(t);
  const hookLog = join(box.root, "hooks.jsonl");
  const mail = join(box.root, "mail.txt");
  addHook(box.configDir, "Stop", { command: hookCommand(hookLog, "wait", mail), asyncRewake: true, timeout: 120 });
  addHook(box.configDir, "UserPromptSubmit", { command: hookCommand(hookLog, "context", "UPS-CONTEXT-ee44") });
  server.script("", [reply("FIRST-REPLY-aa11"), reply("WOKEN-REPLY-bb22")]);
  const tui = await startTui({ t, cwd: box.cwd, env: box.env });

  await tui.submit("first prompt");
  await tui.waitFor("FIRST-REPLY-aa11", 15_000);
  // The waiter is armed once the first turn has ended; only then does the mail arrive.
  await waitForLine(hookLog, (x) => x.event === "Stop" && x.waiting, 10_000);
  const before = server.mark();
  const wokeAt = performance.now();
  // Atomic (temp + rename): the watcher must never see a half-written file.
  writeFileSync(`${mail}.tmp`, "MAIL-LINE-cc33 from a sibling");
  renameSync(`${mail}.tmp`, mail);

  const woken = await server.waitForRequest((r) => r.kind === "turn", 15_000, { after: before });
  t.diagnostic(`mail file → model request: ${(performance.now() - wokeAt).toFixed(0)} ms`);
  // The stderr arrives as a user message wrapped in a background-task system reminder.
  const wake = lastUserText(woken);
  assert.match(wake, /Stop hook blocking error from command "Stop": MAIL-LINE-cc33 from a sibling/);
  assert.match(wake, /<summary>Stop hook feedback<\/summary>/);
  await tui.waitFor("WOKEN-REPLY-bb22", 15_000);

  // The woken turn runs UserPromptSubmit hooks, with the notification as the prompt, and their
  // additionalContext lands in a system message after the wake message: `hook recv` can inject mail there.
  assert.equal(systemMessages(woken).at(-1), "UserPromptSubmit hook additional context: UPS-CONTEXT-ee44");
  assert.equal(woken.body.messages.at(-1).role, "system");
  const prompts = readJsonLines(hookLog)
    .filter((x) => x.event === "UserPromptSubmit")
    .map((x) => x.stdin.prompt as string);
  assert.equal(prompts.length, 2);
  assert.equal(prompts[0], "first prompt");
  assert.match(prompts[1]!, /^<task-notification>[\s\S]*Stop hook blocking error from command "Stop": MAIL-LINE-cc33 from a sibling/);
  // The woken turn's end re-arms the waiter, now with stop_hook_active.
  const rearmed = await waitForLine(
    hookLog,
    (x) => x.event === "Stop" && x.waiting && x.stdin.last_assistant_message === "WOKEN-REPLY-bb22",
    10_000,
  );
  assert.equal(rearmed.stdin.stop_hook_active, true);

  // kill() ends claude and the armed waiter with it (collected before claude dies).
  const tree = processTree(tui.pid);
  assert.ok(tree.includes(rearmed.pid), `the waiter ${rearmed.pid} runs under claude ${tui.pid}: ${tree.join(" ")}`);
  await tui.kill();
  assert.deepEqual(tree.filter(isAlive), []);
  assertClean(server);
});
