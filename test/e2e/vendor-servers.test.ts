// The scripted Responses API (Codex) and Gemini API servers on their own, no CLI: wire shapes,
// step choice, routing, failure reporting. Plus the TOML writer the Codex sandbox uses.
import assert from "node:assert/strict";
import { request } from "node:http";
import { test, type TestContext } from "node:test";
import { socketPath } from "./cli-run.ts";
import { functionResponses, lastUserParts, startGeminiServer } from "./gemini-server.ts";
import { callTool, callTools, functionOutputs, modelReplies, reply, splitToolName, startOpenAIServer } from "./openai-server.ts";
import type { ScriptedServer, ScriptedServerOptions } from "./scripted-server.ts";
import { toToml } from "./toml.ts";

async function serve(t: TestContext, start: (o: ScriptedServerOptions) => Promise<ScriptedServer>, o: ScriptedServerOptions = {}) {
  const warnings: string[] = [];
  const server = await start({ warn: (l) => warnings.push(l), ...o });
  t.after(() => server.close());
  return { server, warnings };
}

async function post(url: string, body: unknown): Promise<{ status: number; type: string; events: any[]; json?: any }> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const type = res.headers.get("content-type") ?? "";
  const text = await res.text();
  if (!type.startsWith("text/event-stream")) return { status: res.status, type, events: [], json: JSON.parse(text) };
  const events = text
    .split("\n\n")
    .filter((chunk) => chunk.trim() !== "")
    .map((chunk) => JSON.parse(chunk.replace(/^data: /, "")));
  return { status: res.status, type, events };
}

const userMsg = (text: string) => ({ type: "message", role: "user", content: [{ type: "input_text", text }] });
const responsesBody = (input: unknown[]) => ({ model: "m", stream: true, input, tools: [] });

test("openai: a text step streams created, one message item, completed", async (t) => {
  const { server } = await serve(t, startOpenAIServer, { script: [reply("hello there")] });
  const r = await post(`${server.url}/v1/responses`, responsesBody([userMsg("hi")]));
  assert.equal(r.status, 200);
  assert.deepEqual(
    r.events.map((e) => e.type),
    ["response.created", "response.output_item.done", "response.completed"],
  );
  assert.deepEqual(r.events[1].item.content, [{ type: "output_text", text: "hello there", annotations: [] }]);
  assert.equal(r.events[1].item.role, "assistant");
  assert.deepEqual(r.events[2].response.output, [r.events[1].item]);
});

test("openai: tool steps become function_call items; mcp__SERVER__TOOL is sent with its namespace", async (t) => {
  const { server } = await serve(t, startOpenAIServer, {
    script: [
      callTools(
        [
          { name: "exec_command", input: { cmd: "ls" }, id: "call_a" },
          { name: "mcp__session_bridge__bridge_send", input: { to: "web" } },
        ],
        "on it",
      ),
    ],
  });
  const r = await post(`${server.url}/v1/responses`, responsesBody([userMsg("go")]));
  const items = r.events.filter((e) => e.type === "response.output_item.done").map((e) => e.item);
  assert.deepEqual(
    items.map((i) => i.type),
    ["message", "function_call", "function_call"],
  );
  assert.deepEqual(items[1], {
    type: "function_call",
    id: "fc_e2e_1_0",
    call_id: "call_a",
    name: "exec_command",
    arguments: '{"cmd":"ls"}',
  });
  assert.equal(items[2].namespace, "mcp__session_bridge");
  assert.equal(items[2].name, "bridge_send");
  assert.equal(items[2].call_id, "call_e2e_1_1");
});

test("openai: splitToolName and modelReplies", () => {
  assert.deepEqual(splitToolName("mcp__fx__echo"), { namespace: "mcp__fx", name: "echo" });
  assert.deepEqual(splitToolName("mcp__a_b__c__d"), { namespace: "mcp__a_b", name: "c__d" });
  assert.deepEqual(splitToolName("exec_command"), { name: "exec_command" });
  assert.deepEqual(splitToolName("mcp__broken"), { name: "mcp__broken" });
  const req = (input: unknown[]) => ({ body: { input } }) as any;
  const call = { type: "function_call", call_id: "c1", name: "x", arguments: "{}" };
  const out = { type: "function_call_output", call_id: "c1", output: "ok" };
  const said = { type: "message", role: "assistant", content: [{ type: "output_text", text: "t" }] };
  assert.equal(modelReplies(req([userMsg("a")])), 0);
  // Text and calls of one reply are adjacent: one reply.
  assert.equal(modelReplies(req([userMsg("a"), said, call, out])), 1);
  assert.equal(modelReplies(req([userMsg("a"), call, out, said, userMsg("b")])), 2);
  assert.deepEqual(
    functionOutputs(
      req([
        call,
        {
          ...out,
          output: [
            { type: "input_text", text: "x" },
            { type: "input_text", text: "y" },
          ],
        },
      ]),
    ),
    [{ call_id: "c1", text: "x\ny" }],
  );
});

test("openai: a list script is indexed by earlier replies; past its end the turn is recorded as unscripted", async (t) => {
  const { server, warnings } = await serve(t, startOpenAIServer, { script: [reply("zero"), reply("one")] });
  const said = { type: "message", role: "assistant", content: [{ type: "output_text", text: "zero" }] };
  const second = await post(`${server.url}/v1/responses`, responsesBody([userMsg("a"), said, userMsg("b")]));
  assert.equal(second.events[1].item.content[0].text, "one");
  const past = await post(`${server.url}/v1/responses`, responsesBody([userMsg("a"), said, userMsg("b"), said, userMsg("c")]));
  assert.equal(past.events[1].item.content[0].text, "[openai-server: script has no step for turn 2]");
  assert.deepEqual(
    server.unscripted.map((r) => r.seq),
    [2],
  );
  assert.match(warnings.join("\n"), /UNSCRIPTED turn request #2 \(script has no step for turn 2\); last user text: "c"/);
});

test("openai: unknown endpoints get a 404 in the API's error shape and are listed", async (t) => {
  const { server, warnings } = await serve(t, startOpenAIServer);
  const r = await fetch(`${server.url}/v1/models`);
  assert.equal(r.status, 404);
  assert.deepEqual(await r.json(), {
    error: { message: "openai-server does not implement GET /v1/models", type: "not_found", code: null },
  });
  assert.deepEqual(
    server.unknown.map((x) => x.url),
    ["/v1/models"],
  );
  assert.match(warnings[0] ?? "", /UNKNOWN endpoint #1: GET \/v1\/models/);
});

test("routes: a /s/ROUTE base URL picks that route's script; a bad route name is refused", async (t) => {
  const { server, warnings } = await serve(t, startOpenAIServer);
  server.script("alice", [reply("for alice")]);
  const r = await post(`${server.baseUrl("alice")}/v1/responses`, responsesBody([userMsg("hi")]));
  assert.equal(r.events[1].item.content[0].text, "for alice");
  assert.equal(server.requests[0]!.route, "alice");
  assert.equal(server.requests[0]!.path, "/v1/responses");
  await post(`${server.baseUrl("bob")}/v1/responses`, responsesBody([userMsg("hi")]));
  assert.match(warnings.join("\n"), /no script for route "bob"/);
  assert.throws(() => server.baseUrl("a/b"), /route "a\/b" must match/);
});

test("waitForRequest: resolves on a later request, rejects at the deadline listing what came", async (t) => {
  const { server } = await serve(t, startOpenAIServer, { script: () => reply("x") });
  const waiting = server.waitForRequest((r) => r.kind === "turn", 5000);
  await post(`${server.url}/v1/responses`, responsesBody([userMsg("first")]));
  assert.equal((await waiting).seq, 1);
  await assert.rejects(
    server.waitForRequest((r) => r.kind === "turn", 50, { after: server.mark() }),
    /no matching request within 50 ms \(after #1\); seen:\n {2}#1 turn POST \/v1\/responses "first"/,
  );
});

test("unixSocket: the same server answers on a unix socket (what a network namespace reaches)", async (t) => {
  const sock = socketPath(t);
  const { server } = await serve(t, startOpenAIServer, { script: [reply("via socket")], unixSocket: sock });
  assert.equal(server.unixSocket, sock);
  const body = JSON.stringify(responsesBody([userMsg("hi")]));
  const text = await new Promise<string>((resolve, reject) => {
    const req = request(
      { socketPath: sock, path: "/v1/responses", method: "POST", headers: { "content-type": "application/json" } },
      (res) => {
        let data = "";
        res.setEncoding("utf8").on("data", (d: string) => (data += d));
        res.on("end", () => resolve(data));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
  assert.match(text, /"text":"via socket"/);
});

const geminiBody = (contents: unknown[], extra: Record<string, unknown> = {}) => ({ contents, ...extra });
const userText = (text: string) => ({ role: "user", parts: [{ text }] });

test("gemini: a turn is one SSE chunk with the step's text and functionCall parts", async (t) => {
  const { server } = await serve(t, startGeminiServer, {
    script: [
      callTools(
        [
          { name: "run_shell_command", input: { command: "ls" } },
          { name: "mcp_fx_echo", input: { text: "a" }, id: "c9" },
        ],
        "on it",
      ),
    ],
  });
  const r = await post(`${server.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, geminiBody([userText("go")]));
  assert.equal(r.events.length, 1);
  const cand = r.events[0].candidates[0];
  assert.equal(cand.finishReason, "STOP");
  assert.deepEqual(cand.content, {
    role: "model",
    parts: [
      { text: "on it" },
      { functionCall: { name: "run_shell_command", args: { command: "ls" } } },
      { functionCall: { name: "mcp_fx_echo", args: { text: "a" }, id: "c9" } },
    ],
  });
  assert.equal(r.events[0].modelVersion, "gemini-2.5-flash");
  assert.equal(r.events[0].usageMetadata.totalTokenCount, 15);
});

test("gemini: a list script is indexed by model contents; results are read from functionResponse parts", async (t) => {
  const { server } = await serve(t, startGeminiServer, { script: [callTool("x"), reply("after")] });
  const contents = [
    userText("go"),
    { role: "model", parts: [{ functionCall: { name: "x", args: {} } }] },
    { role: "user", parts: [{ functionResponse: { name: "x", id: "i1", response: { error: "blocked" } } }] },
  ];
  const r = await post(`${server.url}/v1beta/models/m:streamGenerateContent?alt=sse`, geminiBody(contents));
  assert.deepEqual(r.events[0].candidates[0].content.parts, [{ text: "after" }]);
  const req = server.requests[0]!;
  assert.deepEqual(functionResponses(req), [{ name: "x", id: "i1", output: "blocked", error: true }]);
  assert.deepEqual(lastUserParts(req), ["go"]);
});

test("gemini: generateContent is a side request answered from its JSON schema; countTokens is answered; others are unknown", async (t) => {
  const { server, warnings } = await serve(t, startGeminiServer);
  const schema = { type: "OBJECT", properties: { unproductive_state_confidence: { type: "NUMBER" }, reasoning: { type: "STRING" } } };
  const side = await post(
    `${server.url}/v1beta/models/gemini-3-flash-preview:generateContent`,
    geminiBody([userText("loop?")], { generationConfig: { responseSchema: schema } }),
  );
  assert.equal(side.status, 200);
  assert.deepEqual(JSON.parse(side.json.candidates[0].content.parts[0].text), { unproductive_state_confidence: 0, reasoning: "e2e" });
  const plain = await post(`${server.url}/v1beta/models/m:generateContent`, geminiBody([userText("title?")]));
  assert.equal(plain.json.candidates[0].content.parts[0].text, "e2e side answer");
  const count = await post(`${server.url}/v1beta/models/m:countTokens`, geminiBody([userText("x")]));
  assert.ok(count.json.totalTokens > 0);
  assert.deepEqual(
    server.requests.map((r) => r.kind),
    ["side", "side", "side"],
  );
  const unknown = await fetch(`${server.url}/v1beta/models`);
  assert.equal(unknown.status, 404);
  assert.deepEqual(await unknown.json(), {
    error: { code: 404, message: "gemini-server does not implement GET /v1beta/models", status: "NOT_FOUND" },
  });
  assert.equal(server.unknown.length, 1);
  assert.equal(warnings.length, 1);
});

test("toToml: bare and quoted keys, arrays, nested tables; a non-finite number is refused", () => {
  const text = toToml({
    model: "m",
    n: 0,
    on: false,
    mcp_servers: { "session-bridge": { command: "node", args: ["a b", 'q"'], env: { K: "V" } } },
    projects: { "/tmp/x y": { trust_level: "trusted" } },
  });
  assert.equal(
    text,
    [
      'model = "m"',
      "n = 0",
      "on = false",
      "",
      "[mcp_servers]",
      "",
      "[mcp_servers.session-bridge]",
      'command = "node"',
      'args = ["a b", "q\\""]',
      "",
      "[mcp_servers.session-bridge.env]",
      'K = "V"',
      "",
      "[projects]",
      "",
      '[projects."/tmp/x y"]',
      'trust_level = "trusted"',
      "",
    ].join("\n"),
  );
  assert.throws(() => toToml({ a: { b: Number.NaN } }), /a\.b: NaN is not a TOML number/);
});
