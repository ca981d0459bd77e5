// Proves the Gemini harness against the real Gemini CLI 0.61.0 and pins the Gemini behaviour
// session-bridge will rely on (docs/other-agents.md). Everything is local: gemini only ever
// talks to the scripted Gemini API on 127.0.0.1. A run costs 5–10 s here, so each test shares
// one run between several facts.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { BIN } from "../helpers/bin.ts";
import { describeRun, fakeGit, netnsUnavailable, socketPath } from "./cli-run.ts";
import {
  addGeminiHook,
  addGeminiMcpServer,
  GEMINI_MODEL,
  GEMINI_TEST_KEY,
  type GeminiRunResult,
  type GeminiSandbox,
  geminiPrompt,
  makeGeminiSandbox,
  onCleanup,
  runGemini,
} from "./gemini.ts";
import {
  allTexts,
  callTools,
  contents,
  functionResponses,
  type GeminiServer,
  lastUserParts,
  offeredTools,
  reply,
  startGeminiServer,
} from "./gemini-server.ts";
import { fixtureMcpServer, hookCommand, readJsonLines } from "./stand-ins.ts";

async function setup(t: TestContext, o: { unixSocket?: boolean } = {}): Promise<{ server: GeminiServer; box: GeminiSandbox }> {
  const server = await startGeminiServer(o.unixSocket ? { unixSocket: socketPath(t) } : {});
  onCleanup(t, () => server.close());
  const box = makeGeminiSandbox(t, { baseUrl: server.url });
  if (process.env.E2E_KEEP)
    onCleanup(t, () =>
      writeFileSync(join(box.root, "model-requests.jsonl"), server.requests.map((r) => JSON.stringify(r) + "\n").join("")),
    );
  return { server, box };
}

function assertClean(server: GeminiServer): void {
  assert.deepEqual(
    server.unknown.map((r) => `${r.method} ${r.url}`),
    [],
    "gemini called endpoints the scripted server does not know",
  );
  assert.deepEqual(
    server.unscripted.map((r) => r.seq),
    [],
    "turn requests ran past the script",
  );
}

function assertOk(r: GeminiRunResult): void {
  assert.equal(r.code, 0, describeRun("gemini", r));
}

const turns = (server: GeminiServer) => server.findRequests((r) => r.kind === "turn");

test("gemini --version is the pinned 0.61.0", async (t) => {
  const { box } = await setup(t);
  const r = await runGemini(box, ["--version"]);
  assertOk(r);
  assert.equal(r.stdout.trim(), "0.61.0");
});

test("gemini -p: the scripted reply comes back; only streamGenerateContent on 127.0.0.1 is asked", async (t) => {
  const { server, box } = await setup(t);
  server.script("", [reply("HELLO-FROM-SCRIPT")]);
  const r = await geminiPrompt(box, { prompt: "say hello", yolo: false });
  assertOk(r);
  assert.equal(r.json?.response, "HELLO-FROM-SCRIPT");
  assert.match(r.json?.session_id ?? "", /^[0-9a-f-]{36}$/);
  assert.deepEqual(
    server.requests.map((x) => `${x.method} ${x.url}`),
    [`POST /v1beta/models/${GEMINI_MODEL}:streamGenerateContent?alt=sse`],
  );
  const req = turns(server)[0]!;
  assert.equal(req.headers["x-goog-api-key"], GEMINI_TEST_KEY);
  assert.deepEqual(lastUserParts(req).slice(-1), ["say hello"]);
  assertClean(server);
  t.diagnostic(`gemini -p round: ${r.ms.toFixed(0)} ms`);
});

test("gemini -p inside a network namespace with only loopback: the same run works", async (t) => {
  const why = netnsUnavailable();
  if (why) return t.skip(`no network namespace here: ${why}`);
  const { server, box } = await setup(t, { unixSocket: true });
  server.script("", [reply("FROM-INSIDE-THE-NAMESPACE")]);
  const r = await geminiPrompt(box, {
    prompt: "hello from a namespace",
    yolo: false,
    netns: { unixSocket: server.unixSocket!, port: server.port },
  });
  assertOk(r);
  assert.equal(r.json?.response, "FROM-INSIDE-THE-NAMESPACE");
  assert.equal(turns(server).length, 1);
  assertClean(server);
});

const shell = (command: string) => ({ name: "run_shell_command", input: { command } });

test("hooks: BeforeAgent context, BeforeTool deny shapes, stdin and environment, AfterAgent block", async (t) => {
  const { server, box } = await setup(t);
  const log = join(box.root, "hooks.jsonl");
  const git = fakeGit(box);
  addGeminiHook(box, "SessionStart", { command: hookCommand(log, "record") });
  addGeminiHook(box, "BeforeAgent", { command: hookCommand(log, "context", "BA-CTX-8d2e") });
  addGeminiHook(box, "BeforeAgent", { command: hookCommand(log, "plain", "BA-PLAIN-51f0") });
  const byCommand = {
    "commit -m deny": { decision: "deny", reason: "REASON-DENY" },
    "commit -m block": { decision: "block", reason: "REASON-BLOCK" },
    "commit -m exit2": "REASON-EXIT2",
    "commit -m claude": {
      hookSpecificOutput: { hookEventName: "BeforeTool", permissionDecision: "deny", permissionDecisionReason: "REASON-CLAUDE" },
    },
  };
  addGeminiHook(box, "BeforeTool", { command: hookCommand(log, "by-command", JSON.stringify(byCommand)) }, "run_shell_command");
  addGeminiHook(box, "AfterTool", { command: hookCommand(log, "record") });
  addGeminiHook(box, "AfterAgent", {
    command: hookCommand(log, "json-once", JSON.stringify({ decision: "block", reason: "KEEP-GOING-c3d4" })),
  });
  server.script("", [
    callTools([shell("git commit -m deny"), shell("git commit -m block"), shell("git commit -m exit2"), shell("git commit -m claude")]),
    reply("FIRST-REPLY"),
    reply("SECOND-REPLY"),
  ]);
  const env = { ...git.env, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "api" };
  const r = await geminiPrompt(box, { prompt: "hello hooks", env });
  assertOk(r);
  // AfterAgent {"decision":"block"} started one more turn; the CLI prints both replies.
  assert.equal(r.json?.response, "FIRST-REPLYSECOND-REPLY");
  const [first, second, third, ...more] = turns(server);
  assert.equal(more.length, 0);

  // JSON additionalContext: one more part of the user content, after the prompt. Plain stdout
  // never reaches the model (it is shown on stderr as "Hook system message: …").
  const parts = lastUserParts(first!);
  assert.match(parts[0]!, /^<session_context>/);
  assert.deepEqual(parts.slice(1), ["hello hooks", "<hook_context>BA-CTX-8d2e</hook_context>"]);
  assert.ok(!allTexts(first!).some((x) => x.text.includes("BA-PLAIN-51f0")), "plain stdout is not in the request");
  assert.match(r.stderr, /^Hook system message: BA-PLAIN-51f0$/m);

  // BeforeTool: {"decision":"deny"|"block"} and exit 2 block with the reason; Claude's
  // permissionDecision shape is ignored and the command runs.
  const results = functionResponses(second!).map((f) => [f.error, f.output]);
  assert.deepEqual(results.slice(0, 3), [
    [true, "Tool execution blocked: REASON-DENY"],
    [true, "Tool execution blocked: REASON-BLOCK"],
    [true, "Tool execution blocked: REASON-EXIT2"],
  ]);
  assert.equal(results[3]![0], false);
  assert.match(String(results[3]![1]), /^<untrusted_context>\nOutput: fake-git-ok\n/);
  // Gemini runs `git rev-parse --show-toplevel` itself at startup; of the four commits only one ran.
  assert.deepEqual(
    git.ran().filter((l) => l.startsWith("commit")),
    ["commit -m claude"],
  );

  // The block's reason is the next user message, plain; BeforeAgent runs again for it.
  assert.deepEqual(lastUserParts(third!), ["KEEP-GOING-c3d4", "<hook_context>BA-CTX-8d2e</hook_context>"]);

  // Stdin: Claude Code's field names plus a timestamp; no model, no turn id, no tool call id.
  const hooks = readJsonLines(log);
  const common = ["session_id", "transcript_path", "cwd", "hook_event_name", "timestamp"];
  const sorted = (...k: string[]) => [...common, ...k].sort();
  const fields = (event: string) => [
    ...new Set(hooks.filter((h) => h.event === event).map((h) => JSON.stringify(Object.keys(h.stdin).sort()))),
  ];
  assert.deepEqual(fields("SessionStart"), [JSON.stringify(sorted("source"))]);
  assert.deepEqual(fields("BeforeAgent"), [JSON.stringify(sorted("prompt"))]);
  assert.deepEqual(fields("BeforeTool"), [JSON.stringify(sorted("tool_name", "tool_input"))]);
  assert.deepEqual(fields("AfterTool"), [JSON.stringify(sorted("tool_name", "tool_input", "tool_response"))]);
  assert.deepEqual(fields("AfterAgent"), [JSON.stringify(sorted("prompt", "prompt_response", "stop_hook_active"))]);
  const by = (event: string) => hooks.filter((h) => h.event === event).map((h) => h.stdin);
  assert.equal(by("SessionStart")[0].source, "startup");
  assert.equal(by("SessionStart")[0].session_id, r.json?.session_id);
  assert.deepEqual(
    by("BeforeAgent").map((x) => x.prompt),
    ["hello hooks", "hello hooks", "KEEP-GOING-c3d4", "KEEP-GOING-c3d4"],
  );
  // The four calls' hooks run in parallel: no fixed order.
  assert.deepEqual(
    by("BeforeTool")
      .map((x) => `${x.tool_name}: ${x.tool_input.command}`)
      .sort(),
    Object.keys(byCommand)
      .map((c) => `run_shell_command: git ${c}`)
      .sort(),
  );
  assert.deepEqual(
    by("AfterAgent").map((x) => [x.stop_hook_active, x.prompt, x.prompt_response]),
    [
      [false, "hello hooks", "FIRST-REPLY"],
      [true, "hello hooks", "FIRST-REPLY\nSECOND-REPLY"],
    ],
  );

  // Environment: the launch environment (BRIDGE_* included) plus Gemini's own variables and what
  // `sh` adds; the parent is the gemini process itself.
  const launched = new Set(Object.keys(env));
  for (const h of hooks) {
    assert.deepEqual(
      Object.keys(h.env)
        .filter((k) => !launched.has(k))
        .sort(),
      ["CLAUDE_PROJECT_DIR", "GEMINI_CWD", "GEMINI_PLANS_DIR", "GEMINI_PROJECT_DIR", "GEMINI_SESSION_ID", "PWD", "SHLVL", "_"],
    );
    assert.equal(h.env.BRIDGE_PROJECT, "shop");
    assert.equal(h.env.GEMINI_API_KEY, GEMINI_TEST_KEY, "hooks get the API key too");
    assert.equal(h.env.GEMINI_SESSION_ID, r.json?.session_id);
    assert.equal(h.env.GEMINI_PROJECT_DIR, box.cwd);
    assert.equal(h.env.CLAUDE_PROJECT_DIR, box.cwd);
    assert.equal(h.ppid, r.pid);
  }
  assertClean(server);
});

test("MCP through the real `session-bridge mcp`, then --resume carries the conversation on", async (t) => {
  const { server, box } = await setup(t);
  const hookLog = join(box.root, "hooks.jsonl");
  const fxLog = join(box.root, "fx.jsonl");
  const bridgeRoot = join(box.root, "bridge");
  addGeminiMcpServer(box, "session-bridge", { command: process.execPath, args: [BIN, "mcp"], env: { BRIDGE_ROOT: bridgeRoot } });
  const fx = fixtureMcpServer(fxLog);
  addGeminiMcpServer(box, "fx", { command: fx.command, args: fx.args ?? [], env: { FROM_CONFIG: "1" } });
  addGeminiHook(box, "BeforeTool", { command: hookCommand(hookLog, "record") });
  server.script("", (req) => {
    const offered = offeredTools(req);
    const whoami = offered.find((n) => n.endsWith("bridge_whoami"));
    const echo = offered.find((n) => n.startsWith("mcp_fx") && n.endsWith("echo"));
    if (functionResponses(req).length === 0 && whoami && echo) {
      return callTools([
        { name: whoami, input: {} },
        { name: echo, input: { text: "ping" } },
      ]);
    }
    return reply(allTexts(req).some((x) => x.text === "second prompt") ? "SECOND-ANSWER" : "FIRST-ANSWER");
  });
  const env = { ...box.env, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "api", E2E_LAUNCH_MARKER: "yes" };
  const sessionId = "0b5e2e00-1111-4222-8333-444455556666";
  const first = await geminiPrompt(box, { prompt: "first prompt", env, args: ["--session-id", sessionId] });
  assertOk(first);
  assert.equal(first.json?.response, "FIRST-ANSWER");
  assert.equal(first.json?.session_id, sessionId, "--session-id chooses the id");
  const [call, answered] = turns(server);
  // MCP tools are mcp_SERVER_TOOL, a `-` in the server name kept.
  const offered = offeredTools(call!);
  assert.ok(offered.includes("mcp_session-bridge_bridge_whoami") && offered.includes("mcp_fx_echo"), offered.join(" "));
  const outputs = functionResponses(answered!);
  assert.deepEqual(
    outputs.map((f) => [f.name, f.error]),
    [
      ["mcp_session-bridge_bridge_whoami", false],
      ["mcp_fx_echo", false],
    ],
  );
  // The launch environment reaches the stdio server: BRIDGE_* give it its identity.
  assert.match(
    outputs[0]!.output,
    new RegExp(`^<untrusted_context>\\nyou are role "api" of bridge project "shop" \\(bridge root ${bridgeRoot}\\)`),
  );
  assert.equal(outputs[1]!.output, "<untrusted_context>\necho: ping\n</untrusted_context>");
  // Hooks see the same tool names (the calls run in parallel: no fixed order).
  assert.deepEqual(
    readJsonLines(hookLog)
      .map((h) => h.stdin.tool_name)
      .sort(),
    ["mcp_fx_echo", "mcp_session-bridge_bridge_whoami"],
  );
  // Everything launched with, but the API key; plus GEMINI_CLI=1 and the entry's env. A direct child of gemini.
  const start = readJsonLines(fxLog).find((x) => x.type === "start");
  const expected = [...Object.keys(env).filter((k) => k !== "GEMINI_API_KEY"), "GEMINI_CLI", "FROM_CONFIG"].sort();
  assert.deepEqual(Object.keys(start.env).sort(), expected);
  assert.equal(start.env.GEMINI_CLI, "1");
  assert.equal(start.ppid, first.pid);

  const second = await geminiPrompt(box, { prompt: "second prompt", env, args: ["--resume", sessionId] });
  assertOk(second);
  assert.equal(second.json?.response, "SECOND-ANSWER");
  assert.equal(second.json?.session_id, sessionId, "the same session goes on");
  const resumed = turns(server).at(-1)!;
  assert.deepEqual(
    allTexts(resumed)
      .slice(1)
      .map((x) => `${x.role}: ${x.text}`),
    ["user: first prompt", "model: FIRST-ANSWER", "user: second prompt"],
  );
  // The earlier tool round is in the history too (0.61.0 repeats each functionResponse once more).
  const shape = contents(resumed).map(
    (c) => `${c.role}: ${c.parts.map((p) => Object.keys(p).filter((k) => k !== "thoughtSignature")).join(",")}`,
  );
  assert.deepEqual(shape, [
    "user: text,text",
    "model: functionCall,functionCall",
    "user: functionResponse,functionResponse,functionResponse,functionResponse",
    "model: text",
    "user: text",
  ]);
  assertClean(server);
});
