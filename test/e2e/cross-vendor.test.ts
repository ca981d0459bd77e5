// Three vendors in one room, all real binaries against scripted model servers on 127.0.0.1: a
// Claude Code session (`claude -p`, wired by `install`) sends to a Codex role and a Gemini role
// (each wired by `install --agent`); each one's model request carries the message through our
// hook, each answers through `bridge_send`, and the Claude session's next prompt carries both replies.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { BIN } from "../helpers/bin.ts";
import { makeSandbox, runHeadless } from "./claude.ts";
import { callTool, reply as claudeReply, startModelServer, systemMessages, toolResults } from "./model-server.ts";
import { installBridge, roleEnv } from "./bridge.ts";
import { describeRun } from "./cli-run.ts";
import { codexExec, makeCodexSandbox, onCleanup } from "./codex.ts";
import { callTools as codexCalls, messageTexts, reply as codexReply, startOpenAIServer } from "./openai-server.ts";
import { geminiPrompt, makeGeminiSandbox } from "./gemini.ts";
import {
  callTools as geminiCalls,
  functionResponses,
  lastUserParts,
  offeredTools,
  reply as geminiReply,
  startGeminiServer,
} from "./gemini-server.ts";

const SEND = "mcp__session-bridge__bridge_send";

test("Claude Code → Codex and Gemini roles and back: hook injection on the way in, bridge_send on the way out", async (t) => {
  const anthropic = await startModelServer();
  onCleanup(t, () => anthropic.close());
  const openai = await startOpenAIServer();
  onCleanup(t, () => openai.close());
  const google = await startGeminiServer();
  onCleanup(t, () => google.close());

  const claudeBox = makeSandbox(t, { baseUrl: anthropic.url });
  installBridge(claudeBox);
  const root = join(claudeBox.root, "bridge");
  const web = roleEnv(claudeBox.env, root, "shop", "web", { ANTHROPIC_BASE_URL: anthropic.baseUrl("web") });

  // 1. The Claude session tells both (not joined yet: queued).
  anthropic.script("web", [
    callTool(SEND, { to: "cx", body: "TO-CODEX-4410", queue: true }),
    callTool(SEND, { to: "gm", body: "TO-GEMINI-7702", queue: true }),
    claudeReply("told them"),
  ]);
  const first = await runHeadless({ cwd: claudeBox.cwd, env: web, prompt: "tell cx and gm" });
  assert.equal(first.code, 0, describeRun("claude", first));

  // 2. Codex role cx: the message is in its model request; it answers through bridge_send.
  const codexBox = makeCodexSandbox(t, { baseUrl: openai.url });
  execFileSync(process.execPath, [BIN, "install", "--agent", "codex"], { env: codexBox.env });
  openai.script("", [
    codexCalls([{ name: "mcp__session_bridge__bridge_send", input: { to: "web", body: "FROM-CODEX-REPLY-91" }, id: "c1" }]),
    codexReply("ok"),
  ]);
  const cx = await codexExec(codexBox, {
    prompt: "any mail?",
    env: { ...codexBox.env, BRIDGE_ROOT: root, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "cx" },
  });
  assert.equal(cx.code, 0, describeRun("codex", cx));
  const codexFirst = openai.findRequests((r) => r.kind === "turn")[0]!;
  assert.ok(messageTexts(codexFirst, "developer").some((m) => m.includes("TO-CODEX-4410") && m.includes('from="web"')));

  // 3. Gemini role gm: the same.
  const geminiBox = makeGeminiSandbox(t, { baseUrl: google.url });
  execFileSync(process.execPath, [BIN, "install", "--agent", "gemini"], { env: geminiBox.env });
  google.script("", (req) => {
    const send = offeredTools(req).find((n) => n.endsWith("bridge_send"));
    if (functionResponses(req).length === 0 && send)
      return geminiCalls([{ name: send, input: { to: "web", body: "FROM-GEMINI-REPLY-33" } }]);
    return geminiReply("ok");
  });
  const gm = await geminiPrompt(geminiBox, {
    prompt: "any mail?",
    env: { ...geminiBox.env, BRIDGE_ROOT: root, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "gm" },
  });
  assert.equal(gm.code, 0, describeRun("gemini", gm));
  const geminiFirst = google.findRequests((r) => r.kind === "turn")[0]!;
  assert.ok(lastUserParts(geminiFirst).some((p) => p.includes("TO-GEMINI-7702")));

  // 4. The Claude session's next prompt carries both replies as hook context.
  const mark = anthropic.mark();
  anthropic.script("web", [claudeReply("got them")]);
  const second = await runHeadless({ cwd: claudeBox.cwd, env: web, prompt: "replies?" });
  assert.equal(second.code, 0, describeRun("claude", second));
  const seen = anthropic.findRequests((r) => r.kind === "turn" && r.route === "web" && r.seq > mark)[0]!;
  const context = systemMessages(seen).join("\n");
  assert.ok(context.includes("FROM-CODEX-REPLY-91") && /from="cx"/.test(context), context);
  assert.ok(context.includes("FROM-GEMINI-REPLY-33") && /from="gm"/.test(context), context);
  assert.equal(toolResults(seen).length, 0);

  // The roles say which CLI held each.
  const roles = execFileSync(process.execPath, [BIN, "roles", "--json"], { env: web, encoding: "utf8" });
  assert.match(roles, /"agent":\s*"codex"/);
  assert.match(roles, /"agent":\s*"gemini"/);
});
