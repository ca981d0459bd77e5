// The scripted model server on its own (no claude): SSE shape, step choice, routing, logging.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { byCwd, callTools, reply, startModelServer, type ModelServer, type ModelServerOptions } from "./model-server.ts";

async function serve(t: TestContext, o: ModelServerOptions = {}): Promise<{ server: ModelServer; warnings: string[] }> {
  const warnings: string[] = [];
  const server = await startModelServer({ warn: (l) => warnings.push(l), ...o });
  t.after(() => server.close());
  return { server, warnings };
}

const TOOLS = [{ name: "Bash", description: "x", input_schema: { type: "object" } }];

function turnBody(assistantReplies: number, extra: Record<string, unknown> = {}) {
  const messages: unknown[] = [{ role: "user", content: [{ type: "text", text: "hi" }] }];
  for (let i = 0; i < assistantReplies; i++) {
    messages.push({ role: "assistant", content: [{ type: "text", text: `r${i}` }] }, { role: "user", content: "more" });
  }
  return { model: "m", stream: true, tools: TOOLS, messages, ...extra };
}

interface Sse {
  name: string;
  data: any;
}

async function post(url: string, body: unknown): Promise<{ status: number; type: string; events: Sse[]; json?: any }> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const type = res.headers.get("content-type") ?? "";
  const text = await res.text();
  if (!type.startsWith("text/event-stream")) return { status: res.status, type, events: [], json: JSON.parse(text) };
  const events = text
    .split("\n\n")
    .filter((chunk) => chunk.trim() !== "")
    .map((chunk) => {
      const [ev = "", data = ""] = chunk.split("\n");
      return { name: ev.replace(/^event: /, ""), data: JSON.parse(data.replace(/^data: /, "")) };
    });
  return { status: res.status, type, events };
}

test("a text step streams the documented SSE sequence", async (t) => {
  const { server } = await serve(t, { script: [reply("hello there")] });
  const r = await post(`${server.url}/v1/messages?beta=true`, turnBody(0));
  assert.equal(r.status, 200);
  assert.deepEqual(
    r.events.map((e) => e.name),
    ["message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"],
  );
  for (const e of r.events) assert.equal(e.data.type, e.name);
  const start = r.events[0]!.data.message;
  assert.equal(start.role, "assistant");
  assert.deepEqual(start.content, []);
  assert.equal(start.stop_reason, null);
  assert.deepEqual(r.events[2]!.data.delta, { type: "text_delta", text: "hello there" });
  assert.equal(r.events[4]!.data.delta.stop_reason, "end_turn");
});

test("a tool step streams tool_use blocks after the text, with stop_reason tool_use", async (t) => {
  const { server } = await serve(t, {
    script: [
      callTools(
        [
          { name: "A", input: { x: 1 } },
          { name: "B", input: { y: "z" }, id: "toolu_fixed" },
        ],
        "calling",
      ),
    ],
  });
  const r = await post(`${server.url}/v1/messages`, turnBody(0));
  const starts = r.events
    .filter((e) => e.name === "content_block_start")
    .map((e) => [e.data.index, e.data.content_block.type, e.data.content_block.name]);
  assert.deepEqual(starts, [
    [0, "text", undefined],
    [1, "tool_use", "A"],
    [2, "tool_use", "B"],
  ]);
  const inputs = r.events.filter((e) => e.data.delta?.type === "input_json_delta").map((e) => JSON.parse(e.data.delta.partial_json));
  assert.deepEqual(inputs, [{ x: 1 }, { y: "z" }]);
  assert.equal(r.events.find((e) => e.data.content_block?.name === "B")!.data.content_block.id, "toolu_fixed");
  assert.equal(r.events.find((e) => e.name === "message_delta")!.data.delta.stop_reason, "tool_use");
});

test("the step is chosen by counting assistant messages, so a retried request gets the same step", async (t) => {
  const { server } = await serve(t, { script: [reply("zero"), reply("one"), reply("two")] });
  const text = (r: { events: Sse[] }) => r.events.find((e) => e.data.delta?.type === "text_delta")?.data.delta.text;
  assert.equal(text(await post(`${server.url}/v1/messages`, turnBody(1))), "one");
  assert.equal(text(await post(`${server.url}/v1/messages`, turnBody(1))), "one");
  assert.equal(text(await post(`${server.url}/v1/messages`, turnBody(2))), "two");
  assert.equal(text(await post(`${server.url}/v1/messages`, turnBody(0))), "zero");
});

test("side requests (no tools) get a plain or schema-shaped answer and never consume steps", async (t) => {
  const seen: number[] = [];
  const { server } = await serve(t, {
    script: (_req, info) => {
      seen.push(info.call);
      return reply(`turn call ${info.call}`);
    },
  });
  const side = await post(`${server.url}/v1/messages`, { model: "m", stream: true, messages: [{ role: "user", content: "title?" }] });
  assert.equal(side.events.find((e) => e.data.delta?.type === "text_delta")?.data.delta.text, "e2e side answer");
  const schema = { type: "object", properties: { title: { type: "string" }, n: { type: "integer" } }, required: ["title"] };
  const shaped = await post(`${server.url}/v1/messages`, {
    model: "m",
    stream: false,
    messages: [{ role: "user", content: "title?" }],
    output_config: { format: { type: "json_schema", schema } },
  });
  assert.deepEqual(JSON.parse(shaped.json.content[0].text), { title: "e2e", n: 0 });
  await post(`${server.url}/v1/messages`, turnBody(0));
  assert.deepEqual(seen, [0]);
  assert.deepEqual(
    server.requests.map((r) => r.kind),
    ["side", "side", "turn"],
  );
});

test("routes: a /s/<route> base URL picks its script, a matcher wins over it, a missing step is reported", async (t) => {
  const { server, warnings } = await serve(t);
  server.script("alice", [reply("for alice")]);
  server.script("bob", [reply("for bob")]);
  server.route(byCwd("/work/carol"), [reply("for carol")]);
  const text = (r: { events: Sse[] }) => r.events.find((e) => e.data.delta?.type === "text_delta")?.data.delta.text;
  assert.equal(text(await post(`${server.baseUrl("alice")}/v1/messages?beta=true`, turnBody(0))), "for alice");
  assert.equal(text(await post(`${server.baseUrl("bob")}/v1/messages?beta=true`, turnBody(0))), "for bob");
  const carol = turnBody(0, {
    messages: [
      { role: "user", content: "hi" },
      { role: "system", content: "# Environment\n - Primary working directory: /work/carol\n" },
    ],
  });
  assert.equal(text(await post(`${server.baseUrl("bob")}/v1/messages`, carol)), "for carol");
  assert.deepEqual(
    server.requests.map((r) => r.route),
    ["alice", "bob", "bob"],
  );
  assert.equal(server.unscripted.length, 0);
  await post(`${server.baseUrl("alice")}/v1/messages`, turnBody(1));
  assert.equal(server.unscripted.length, 1);
  assert.match(warnings.join("\n"), /UNSCRIPTED turn request #4 \(script has no step for turn 1\)/);
  assert.throws(() => server.baseUrl("a/b"), /must match/);
});

test("count_tokens and HEAD get answers; unknown endpoints get 404 and are reported", async (t) => {
  const { server, warnings } = await serve(t);
  const count = await post(`${server.url}/v1/messages/count_tokens?beta=true`, turnBody(0));
  assert.equal(count.status, 200);
  assert.ok(count.json.input_tokens > 0);
  const head = await fetch(server.url, { method: "HEAD" });
  assert.equal(head.status, 200);
  const odd = await post(`${server.url}/v1/frobnicate`, {});
  assert.equal(odd.status, 404);
  assert.equal(odd.json.type, "error");
  assert.deepEqual(
    server.unknown.map((r) => r.path),
    ["/v1/frobnicate"],
  );
  assert.match(warnings.join("\n"), /UNKNOWN endpoint #3: POST \/v1\/frobnicate/);
});

test("waitForRequest sees past and future requests, honours `after`, and times out with a summary", async (t) => {
  const { server } = await serve(t, { script: [reply("a"), reply("b")] });
  await post(`${server.url}/v1/messages`, turnBody(0));
  const past = await server.waitForRequest((r) => r.kind === "turn", 100);
  assert.equal(past.seq, 1);
  const mark = server.mark();
  const future = server.waitForRequest((r) => r.kind === "turn", 2000, { after: mark });
  await post(`${server.url}/v1/messages`, turnBody(1));
  assert.equal((await future).seq, 2);
  await assert.rejects(
    server.waitForRequest((r) => r.kind === "side", 50),
    /no matching model request within 50 ms[\s\S]*#2 turn POST \/v1\/messages/,
  );
});
