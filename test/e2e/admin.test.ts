// Scenario 6 of the end-to-end suite: a session cannot flip its own rails, through the real
// Claude Code. A non-admin session is not offered the admin tools (our server lists them only with
// BRIDGE_ADMIN=1, and Claude Code refuses a call to an unlisted tool even when allowed; a client
// that calls one anyway gets our refusal, test/mcp/mcp-bus.test.ts), is refused by our
// slash-command prompt and by the guard (Bash); an admin session's tools and slash command work.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { makeSandbox, onCleanup, runHeadless, type RunResult } from "./claude.ts";
import { callTool, lastUserText, reply, startModelServer, toolResults } from "./model-server.ts";
import { offeredTools } from "./inspect.ts";
import { bridgeOk, installBridge, readJson, roleEnv, spawnerStatus } from "./bridge.ts";
import { BIN } from "../helpers/bin.ts";
import { NON_ADMIN_TOOL_IDS, toolId } from "../../src/agents/tool-names.ts";

function assertOk(r: RunResult): void {
  assert.equal(r.code, 0, `claude exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
}

test("admin gate: a non-admin session has no admin tool and is refused by the prompt and the guard; an admin's tool and /mcp__session-bridge__automation off work", async (t) => {
  const server = await startModelServer();
  onCleanup(t, () => server.close());
  const box = makeSandbox(t, { baseUrl: server.url });
  const root = join(box.root, "bridge");
  installBridge(box, { viaClaude: true });
  const human = { ...box.env, BRIDGE_ROOT: root };
  bridgeOk(human, ["spawner", "on"]);
  const config = join(root, "bridge-settings.json");
  assert.equal(readJson(config).enabled, true);
  const turns = (route: string) => server.findRequests((r) => r.kind === "turn" && r.route === route);

  // A non-admin session whose user allowed the admin tool and Bash: the rails still say no.
  server.script("web", [
    callTool("mcp__session-bridge__bridge_settings", { enabled: false }, "toolu_settings"),
    callTool("Bash", { command: `node ${BIN} spawner off`, description: "turn automation off" }, "toolu_bash"),
    reply("could not change it"),
  ]);
  const web = roleEnv(box.env, root, "shop", "web", { ANTHROPIC_BASE_URL: server.baseUrl("web") });
  assertOk(
    await runHeadless({
      cwd: box.cwd,
      env: web,
      prompt: "turn the bridge automation off",
      args: ["--allowedTools", "mcp__session-bridge__bridge_settings", "Bash"],
    }),
  );
  const results = toolResults(turns("web").at(-1)!);
  const byId = Object.fromEntries(results.map((r) => [r.tool_use_id, r]));
  // Not offered, so Claude Code refuses the call itself (seen on 2.1.328); the server never hears of it.
  assert.deepEqual(
    offeredTools(turns("web")[0]!)
      .deferred.filter((name) => name.startsWith("mcp__session-bridge__"))
      .sort(),
    NON_ADMIN_TOOL_IDS.toSorted(),
  );
  assert.equal(byId.toolu_settings?.is_error, true);
  assert.match(byId.toolu_settings!.text, /No such tool available: mcp__session-bridge__bridge_settings/);
  assert.equal(byId.toolu_bash?.is_error, true);
  assert.match(
    byId.toolu_bash!.text,
    /^PreToolUse:Bash hook error: session-bridge guard: `session-bridge spawner off` is blocked in this bridged session/,
  );

  // The same session typing the admin slash command gets our refusal as the prompt text.
  server.script("web-prompt", [reply("not allowed here")]);
  const webPrompt = { ...web, ANTHROPIC_BASE_URL: server.baseUrl("web-prompt") };
  assertOk(await runHeadless({ cwd: box.cwd, env: webPrompt, prompt: "/mcp__session-bridge__automation off" }));
  assert.match(
    lastUserText(turns("web-prompt")[0]!),
    /\[session-bridge \/automation\] not changed: \/automation changes the session-bridge automation settings, which only an admin session may do/,
  );
  assert.equal(readJson(config).enabled, true, "nothing a non-admin session did changed the settings");

  // An admin session (started by the user with BRIDGE_ADMIN=1) is offered the admin tools, and they work.
  server.script("lead-tool", [callTool("mcp__session-bridge__bridge_mode", { role: "web", mode: "manual" }, "toolu_mode"), reply("Done.")]);
  const lead = roleEnv(box.env, root, "shop", "lead", { BRIDGE_ADMIN: "1" });
  assertOk(
    await runHeadless({
      cwd: box.cwd,
      env: { ...lead, ANTHROPIC_BASE_URL: server.baseUrl("lead-tool") },
      prompt: "stop waking web",
      args: ["--allowedTools", "mcp__session-bridge__bridge_mode"],
    }),
  );
  assert.ok(
    ["bridge_mode", "bridge_set", "bridge_settings"].every((name) => offeredTools(turns("lead-tool")[0]!).deferred.includes(toolId(name))),
    "the admin tools are offered",
  );
  const mode = toolResults(turns("lead-tool").at(-1)!).find((x) => x.tool_use_id === "toolu_mode");
  assert.equal(mode?.is_error, false, mode?.text);
  assert.match(mode!.text, /role web of project shop now: wake-ups off \(manual\)/);

  // And its slash command applies the change.
  server.script("lead", [reply("Automation is now off.")]);
  const r = await runHeadless({
    cwd: box.cwd,
    env: { ...lead, ANTHROPIC_BASE_URL: server.baseUrl("lead") },
    prompt: "/mcp__session-bridge__automation off",
    args: ["--output-format", "json"],
  });
  assertOk(r);
  assert.equal(r.json?.result, "Automation is now off.");
  const applied = lastUserText(turns("lead")[0]!);
  assert.match(
    applied,
    /\[session-bridge \/automation\] the user ran this command; session-bridge applied it:\nchanged:\n {2}enabled: true → false\n/,
  );
  assert.match(applied, /<command-name>\/mcp__session-bridge__automation<\/command-name>\n<command-args>off<\/command-args>/);
  assert.equal(readJson(config).enabled, false);
  assert.equal(spawnerStatus(human).settings.enabled, false);
  assert.deepEqual(
    server.unscripted.map((q) => q.seq),
    [],
  );
});
