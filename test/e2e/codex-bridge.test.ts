// The bridge inside a real Codex CLI 0.169.0 run (docs/other-agents.md): `hook recv --agent codex`
// puts a sibling's message into the model request, `hook guard --agent codex` stops a `git push`
// (a fake git on PATH proves it never ran), and the session answers through `bridge_send` of the
// real `session-bridge mcp`, whose identity reaches it only through `env_vars`. All on 127.0.0.1.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { BIN } from "../helpers/bin.ts";
import { describeRun, fakeGit } from "./cli-run.ts";
import { shellQuote } from "./claude.ts";
import { addCodexHook, addCodexMcpServer, codexExec, makeCodexSandbox, onCleanup } from "./codex.ts";
import { callTools, functionOutputs, messageTexts, reply, startOpenAIServer } from "./openai-server.ts";

const hook = (name: string, ...flags: string[]) => [process.execPath, BIN, "hook", name, ...flags].map(shellQuote).join(" ");

test("codex role: a message arrives through hook recv, the guard stops git push, the reply goes out through bridge_send", async (t) => {
  const server = await startOpenAIServer();
  onCleanup(t, () => server.close());
  const box = makeCodexSandbox(t, { baseUrl: server.url });
  const bridgeRoot = join(box.root, "bridge");
  const git = fakeGit(box);
  const env = { ...git.env, BRIDGE_ROOT: bridgeRoot, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "api" };
  const cli = (role: string, ...args: string[]) =>
    execFileSync(process.execPath, [BIN, ...args], { env: { ...env, BRIDGE_ROLE: role }, encoding: "utf8" });
  cli("web", "send", "--queue", "api", "PLEASE-REVIEW-7d3e");

  addCodexMcpServer(box, "session-bridge", {
    command: process.execPath,
    args: [BIN, "mcp"],
    env: { BRIDGE_ROOT: bridgeRoot },
    envVars: ["BRIDGE_PROJECT", "BRIDGE_ROLE"],
    required: true,
  });
  addCodexHook(box, "UserPromptSubmit", { command: hook("recv", "--agent", "codex") });
  addCodexHook(box, "PreToolUse", { command: hook("guard", "--agent", "codex") }, "Bash");
  server.script("", [
    callTools([{ name: "exec_command", input: { cmd: "git push origin main", login: false }, id: "call_push" }]),
    callTools([{ name: "mcp__session_bridge__bridge_send", input: { to: "web", body: "REVIEWED-FROM-CODEX-41aa" }, id: "call_send" }]),
    reply("DONE"),
  ]);
  const r = await codexExec(box, { prompt: "check your messages", env });
  assert.equal(r.code, 0, describeRun("codex", r));
  const turns = server.findRequests((x) => x.kind === "turn");
  assert.equal(turns.length, 3);

  // The sibling's message reached the first model request as hook context.
  const context = messageTexts(turns[0]!, "developer").find((m) => m.includes("PLEASE-REVIEW-7d3e"));
  assert.ok(context, "the message is in a developer message of the first request");
  assert.match(context!, /from="web"/);

  // The guard's deny, in the shape Codex honours: the push never ran.
  const pushed = functionOutputs(turns[1]!).find((o) => o.call_id === "call_push");
  assert.match(pushed?.text ?? "", /^Command blocked by PreToolUse hook: .*git push/s);
  assert.deepEqual(git.ran(), [], "git never ran");

  // bridge_send answered as role api (identity through env_vars), and web receives it.
  const sent = functionOutputs(turns[2]!).find((o) => o.call_id === "call_send");
  assert.match(sent?.text ?? "", /sent|queued|delivered/i, JSON.stringify(sent));
  const inbox = cli("web", "recv", "--json");
  assert.match(inbox, /REVIEWED-FROM-CODEX-41aa/);
  assert.match(inbox, /"from":\s*"api"/);

  // The session record says Codex holds the role.
  const roles = cli("web", "roles", "--json");
  assert.match(roles, /"agent":\s*"codex"/, roles);
});

test("`install --agent codex` wires a real codex: it parses the edited config.toml, the hook injects, bridge_whoami knows the role", async (t) => {
  const server = await startOpenAIServer();
  onCleanup(t, () => server.close());
  const box = makeCodexSandbox(t, { baseUrl: server.url });
  const bridgeRoot = join(box.root, "bridge");
  const env = { ...box.env, BRIDGE_ROOT: bridgeRoot, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "api" };
  const installed = execFileSync(process.execPath, [BIN, "install", "--agent", "codex"], { env: box.env, encoding: "utf8" });
  assert.match(installed, /\[mcp_servers\.session-bridge\]/);
  execFileSync(process.execPath, [BIN, "send", "--queue", "api", "INSTALLED-HOOK-MSG-22b"], { env: { ...env, BRIDGE_ROLE: "web" } });
  server.script("", [callTools([{ name: "mcp__session_bridge__bridge_whoami", input: {}, id: "call_who" }]), reply("OK")]);
  const r = await codexExec(box, { prompt: "who am i", env });
  assert.equal(r.code, 0, describeRun("codex", r));
  const turns = server.findRequests((x) => x.kind === "turn");
  assert.ok(messageTexts(turns[0]!, "developer").some((m) => m.includes("INSTALLED-HOOK-MSG-22b")));
  const who = functionOutputs(turns[1]!).find((o) => o.call_id === "call_who");
  assert.match(who?.text ?? "", /you are role "api" of bridge project "shop"/);
});
