// The bridge inside a real Gemini CLI 0.61.0 run (docs/other-agents.md): `hook recv --agent gemini`
// on BeforeAgent puts a sibling's message into the model request, `hook guard` on BeforeTool
// (no --agent: the event name tells it is Gemini) stops a `git push` with the deny Gemini honours
// (a fake git on PATH proves it never ran), and the session answers through `bridge_send` of the
// real `session-bridge mcp`, which inherits its identity. All on 127.0.0.1.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { BIN } from "../helpers/bin.ts";
import { describeRun, fakeGit } from "./cli-run.ts";
import { shellQuote } from "./claude.ts";
import { addGeminiHook, addGeminiMcpServer, geminiPrompt, makeGeminiSandbox, onCleanup } from "./gemini.ts";
import { allTexts, callTools, functionResponses, lastUserParts, offeredTools, reply, startGeminiServer } from "./gemini-server.ts";

const hook = (name: string, ...flags: string[]) => [process.execPath, BIN, "hook", name, ...flags].map(shellQuote).join(" ");

test("gemini role: a message arrives through hook recv, the guard stops git push, the reply goes out through bridge_send", async (t) => {
  const server = await startGeminiServer();
  onCleanup(t, () => server.close());
  const box = makeGeminiSandbox(t, { baseUrl: server.url });
  const bridgeRoot = join(box.root, "bridge");
  const git = fakeGit(box);
  const env = { ...git.env, BRIDGE_ROOT: bridgeRoot, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "api" };
  const cli = (role: string, ...args: string[]) =>
    execFileSync(process.execPath, [BIN, ...args], { env: { ...env, BRIDGE_ROLE: role }, encoding: "utf8" });
  cli("web", "send", "--queue", "api", "PLEASE-REVIEW-c5f1");

  addGeminiMcpServer(box, "session-bridge", { command: process.execPath, args: [BIN, "mcp"], env: {} });
  addGeminiHook(box, "BeforeAgent", { command: hook("recv", "--agent", "gemini"), timeout: 30_000 });
  addGeminiHook(box, "BeforeTool", { command: hook("guard"), timeout: 30_000 }, "run_shell_command");
  server.script("", (req) => {
    const answered = functionResponses(req).map((f) => f.name);
    if (answered.length === 0) return callTools([{ name: "run_shell_command", input: { command: "git push origin main" } }]);
    const send = offeredTools(req).find((n) => n.endsWith("bridge_send"));
    if (!answered.some((n) => n.endsWith("bridge_send")) && send)
      return callTools([{ name: send, input: { to: "web", body: "REVIEWED-FROM-GEMINI-9e02" } }]);
    return reply("DONE");
  });
  const r = await geminiPrompt(box, { prompt: "check your messages", env });
  assert.equal(r.code, 0, describeRun("gemini", r));
  const turns = server.findRequests((x) => x.kind === "turn");

  // The sibling's message reached the first model request as a <hook_context> part after the prompt.
  const parts = lastUserParts(turns[0]!);
  const context = parts.find((p) => p.includes("PLEASE-REVIEW-c5f1"));
  assert.ok(context, `the message is in the first request's user content: ${JSON.stringify(parts).slice(0, 2000)}`);
  assert.match(context!, /^<hook_context>[\s\S]*from="web"/);

  // The guard's deny, in the shape Gemini honours: the push never ran.
  const push = turns.flatMap((q) => functionResponses(q)).find((f) => f.name === "run_shell_command");
  assert.ok(push?.error, `the shell call was refused: ${JSON.stringify(push)}`);
  assert.match(push!.output, /Tool execution blocked: .*git push/s);
  // Gemini runs `git rev-parse --show-toplevel` itself at startup (docs/other-agents.md).
  assert.deepEqual(
    git.ran().filter((a) => a !== "rev-parse --show-toplevel"),
    [],
    "the push never ran",
  );

  // bridge_send answered as role api (the server inherits BRIDGE_*), and web receives it.
  const sent = turns.flatMap((q) => functionResponses(q)).find((f) => f.name.endsWith("bridge_send"));
  assert.equal(sent?.error, false, JSON.stringify(sent));
  const inbox = cli("web", "recv", "--json");
  assert.match(inbox, /REVIEWED-FROM-GEMINI-9e02/);
  assert.match(inbox, /"from":\s*"api"/);
  assert.ok(!allTexts(turns.at(-1)!).some((x) => x.text.includes("Hook system message")));

  // The session record says Gemini holds the role.
  const roles = cli("web", "roles", "--json");
  assert.match(roles, /"agent":\s*"gemini"/, roles);
});

test("`install --agent gemini` wires a real gemini: the hook injects and bridge_whoami knows the role", async (t) => {
  const server = await startGeminiServer();
  onCleanup(t, () => server.close());
  const box = makeGeminiSandbox(t, { baseUrl: server.url });
  const bridgeRoot = join(box.root, "bridge");
  const env = { ...box.env, BRIDGE_ROOT: bridgeRoot, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "api" };
  execFileSync(process.execPath, [BIN, "install", "--agent", "gemini"], { env: box.env, encoding: "utf8" });
  execFileSync(process.execPath, [BIN, "send", "--queue", "api", "INSTALLED-GEMINI-MSG-5d"], { env: { ...env, BRIDGE_ROLE: "web" } });
  server.script("", (req) => {
    const who = offeredTools(req).find((n) => n.endsWith("bridge_whoami"));
    if (functionResponses(req).length === 0 && who) return callTools([{ name: who, input: {} }]);
    return reply("OK");
  });
  const r = await geminiPrompt(box, { prompt: "who am i", env });
  assert.equal(r.code, 0, describeRun("gemini", r));
  const turns = server.findRequests((x) => x.kind === "turn");
  assert.ok(lastUserParts(turns[0]!).some((p) => p.includes("INSTALLED-GEMINI-MSG-5d")));
  const who = turns.flatMap((q) => functionResponses(q)).find((f) => f.name.endsWith("bridge_whoami"));
  assert.match(who?.output ?? "", /you are role "api" of bridge project "shop"/);
});
