// The Claude Code plugin route with the real Claude Code (offline, scripted model): the marketplace
// added from a copy of what a fresh clone holds after `npm run build` (the committed files of
// .claude-plugin/ and plugin/, plus the built program), the plugin installed without prompts, its
// MCP server connected, two headless sessions exchanging a message through the plugin's tools and
// hooks, its guard denying a bridged commit, and `claude plugin uninstall` leaving nothing that runs.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { CLAUDE_BIN, makeSandbox, runClaude, runHeadless, type RunResult, type Sandbox } from "./claude.ts";
import { netnsUnavailable } from "./cli-run.ts";
import { callTool, reply, requestText, startModelServer, systemMessages, toolResults, type ModelServer } from "./model-server.ts";
import { bridge, bridgeOk, inbox, roleEnv } from "./bridge.ts";
import { BIN, REPO } from "../helpers/bin.ts";

const ID = "session-bridge@session-bridge";
// Written out, not taken from src/agents/tool-names.ts: the name Claude Code gives a plugin's tool.
const SEND = "mcp__plugin_session-bridge_session-bridge__bridge_send";

let server: ModelServer;
before(async () => {
  server = await startModelServer();
});
after(() => server.close());

function assertOk(r: RunResult): void {
  assert.equal(r.code, 0, `claude exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
}

/** What a fresh clone holds after `npm run build`: the committed plugin files, and the program build.mjs puts in plugin/lib. */
function freshClone(box: Sandbox): string {
  const clone = join(box.root, "clone");
  const tracked = spawnSync("git", ["ls-files", ".claude-plugin", "plugin"], { cwd: REPO, encoding: "utf8" });
  assert.equal(tracked.status, 0, tracked.stderr);
  const files = tracked.stdout.split("\n").filter(Boolean);
  assert.ok(files.includes("plugin/hooks/hooks.json") && files.includes(".claude-plugin/marketplace.json"), files.join(", "));
  assert.ok(!files.some((f) => f.startsWith("plugin/lib/")), "the program is build output, not committed");
  for (const file of files) {
    mkdirSync(dirname(join(clone, file)), { recursive: true });
    cpSync(join(REPO, file), join(clone, file));
  }
  mkdirSync(join(clone, "plugin/lib"));
  copyFileSync(BIN, join(clone, "plugin/lib/session-bridge.cjs"));
  return clone;
}

/** `claude ARGS`; with `offline`, inside a network namespace that has no interface up (`unshare --net`). */
async function claude(box: Sandbox, args: string[], offline = false): Promise<RunResult> {
  if (offline) {
    const r = spawnSync("unshare", ["--net", "--", CLAUDE_BIN, ...args], { cwd: box.cwd, env: box.env, encoding: "utf8", timeout: 60_000 });
    const result = { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, pid: r.pid, ms: 0 };
    assertOk(result);
    return result;
  }
  const r = await runClaude({ cwd: box.cwd, env: box.env, args, timeoutMs: 60_000 });
  assertOk(r);
  return r;
}

/** The one JSON line `--json` prints last. */
const lastJson = (r: RunResult) => JSON.parse(r.stdout.trim().split("\n").at(-1)!);

test("plugin: added from a clone and installed without prompts, it connects, carries a message both ways, guards, and uninstalls clean", async (t) => {
  const box = makeSandbox(t, { baseUrl: server.url });
  const clone = freshClone(box);
  const root = join(box.root, "bridge");

  // 1. Install: two commands, no prompt, machine-readable outcomes; with no network at all where a
  // network namespace can be made (only the folder is read).
  const offline = netnsUnavailable() === undefined;
  if (!offline) t.diagnostic(`not checked without a network: ${netnsUnavailable()}`);
  const added = lastJson(await claude(box, ["plugin", "marketplace", "add", "--json", clone], offline));
  assert.deepEqual([added.outcome, added.marketplace], ["ok", "session-bridge"]);
  const installed = lastJson(await claude(box, ["plugin", "install", "--json", "--scope", "user", ID], offline));
  assert.deepEqual([installed.outcome, installed.pluginId, installed.scope], ["ok", ID, "user"]);
  // A directory marketplace runs the plugin from its folder (the cached copy is not what runs).
  const [listed] = JSON.parse((await claude(box, ["plugin", "list", "--json"])).stdout);
  assert.equal(listed.readFromFolder, join(clone, "plugin"));
  const mcp = await claude(box, ["mcp", "list"]);
  assert.match(mcp.stdout, new RegExp(`^plugin:session-bridge:session-bridge: ${clone}/plugin/bin/session-bridge mcp - ✔ Connected$`, "m"));
  const doctor = JSON.parse(bridgeOk({ ...box.env, BRIDGE_ROOT: root }, ["doctor", "--config-dir", box.configDir, "--json"]));
  const plugin = doctor.checks.find((c: { name: string }) => c.name === "plugin");
  assert.equal(plugin?.level, "ok", JSON.stringify(doctor.checks, null, 2));
  assert.equal(doctor.ok, true, JSON.stringify(doctor.checks, null, 2));

  // 2. backend sends through the plugin's MCP server; frontend has not joined yet, so it queues.
  const PING = "PING-5d2a: the plugin carried this";
  const PONG = "PONG-90c3: and this back";
  const backend = roleEnv(box.env, root, "shop", "backend", { ANTHROPIC_BASE_URL: server.baseUrl("p-backend") });
  const frontend = roleEnv(box.env, root, "shop", "frontend", { ANTHROPIC_BASE_URL: server.baseUrl("p-frontend") });
  const allowSend = ["--allowedTools", SEND];
  server.script("p-backend", [callTool(SEND, { to: "frontend", body: PING, queue: true }), reply("queued")]);
  assertOk(await runHeadless({ cwd: box.cwd, env: backend, prompt: "tell frontend", args: allowSend }));
  const sent = toolResults(server.findRequests((r) => r.kind === "turn" && r.route === "p-backend").at(-1)!)[0]!;
  assert.equal(sent.is_error, false, sent.text);
  const [ping] = inbox(root, "shop", "frontend");
  assert.deepEqual([ping?.from, ping?.body], ["backend", PING]);

  // 3. frontend's prompt gets it from the plugin's hook recv, and it replies through the plugin's tool.
  server.script("p-frontend", (req, { turn }) => {
    if (turn > 0) return reply("replied");
    const id = /<message boundary="[0-9a-f]+" id="([^"]+)" from="backend"/.exec(requestText(req))?.[1];
    return id ? callTool(SEND, { to: "backend", body: PONG, replyTo: id }) : reply("NO MESSAGE SEEN");
  });
  assertOk(await runHeadless({ cwd: box.cwd, env: frontend, prompt: "any mail?", args: allowSend }));
  const [seen] = server.findRequests((r) => r.kind === "turn" && r.route === "p-frontend");
  const context = systemMessages(seen!).join("\n");
  assert.ok(context.includes(PING), context);
  assert.match(bridgeOk(backend, ["status", ping!.id]), /frontend: read at \S+ by hook recv/);
  const [pong] = inbox(root, "shop", "backend");
  assert.deepEqual([pong?.from, pong?.body, pong?.replyTo], ["frontend", PONG, ping!.id]);

  // 4. The plugin's guard denies a bridged `git commit` (Bash itself allowed).
  spawnSync("git", ["init", "-q", box.cwd]);
  server.script("p-guard", [callTool("Bash", { command: "git commit --allow-empty -m x" }, "toolu_commit"), reply("refused")]);
  const guarded = roleEnv(box.env, root, "shop", "backend", { ANTHROPIC_BASE_URL: server.baseUrl("p-guard") });
  assertOk(await runHeadless({ cwd: box.cwd, env: guarded, prompt: "commit", args: ["--allowedTools", "Bash"] }));
  const [denied] = toolResults(server.findRequests((r) => r.kind === "turn" && r.route === "p-guard").at(-1)!);
  assert.equal(denied!.is_error, true);
  assert.match(denied!.text, /session-bridge guard: `git commit` is blocked in this bridged session/);

  // 5. Uninstall: nothing of the plugin stays active, and its data folder is gone.
  const removed = lastJson(await claude(box, ["plugin", "uninstall", "--json", ID]));
  assert.deepEqual([removed.outcome, removed.pluginId], ["ok", ID]);
  assert.equal(lastJson(await claude(box, ["plugin", "marketplace", "remove", "--json", "session-bridge"])).outcome, "ok");
  assert.deepEqual(JSON.parse((await claude(box, ["plugin", "list", "--json"])).stdout), []);
  assert.match((await claude(box, ["mcp", "list"])).stdout, /No MCP servers configured/);
  const settings = readFileSync(join(box.configDir, "settings.json"), "utf8");
  assert.ok(!settings.includes("session-bridge"), settings);
  assert.ok(!existsSync(join(box.configDir, "plugins/data/session-bridge-session-bridge")), "CLAUDE_PLUGIN_DATA removed");
  // Claude Code keeps the cached copy, marked orphaned for its own clean-up: it is never run again.
  const cache = join(box.configDir, "plugins/cache/session-bridge/session-bridge");
  for (const version of existsSync(cache) ? readdirSync(cache) : [])
    assert.ok(existsSync(join(cache, version, ".orphaned_at")), `${version} in the cache is not marked orphaned`);
  // A new bridged session: no hook of ours runs, so the queued mail stays unread.
  const LATE = "LATE-11ee: nobody should receive this";
  bridgeOk({ ...box.env, BRIDGE_ROOT: root, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "backend" }, ["send", "frontend", LATE]);
  server.script("p-after", [reply("nothing")]);
  const afterEnv = roleEnv(box.env, root, "shop", "frontend", { ANTHROPIC_BASE_URL: server.baseUrl("p-after") });
  assertOk(await runHeadless({ cwd: box.cwd, env: afterEnv, prompt: "any mail?" }));
  const [quiet] = server.findRequests((r) => r.kind === "turn" && r.route === "p-after");
  assert.ok(!requestText(quiet!).includes(LATE), "a hook of the uninstalled plugin still ran");
  const doctorAfter = JSON.parse(bridge({ ...box.env, BRIDGE_ROOT: root }, ["doctor", "--config-dir", box.configDir, "--json"]).stdout);
  assert.equal(
    doctorAfter.checks.find((c: { name: string }) => c.name === "plugin"),
    undefined,
  );
  assert.deepEqual(
    server.unknown.map((r) => `${r.method} ${r.url}`),
    [],
    "claude called endpoints the model server does not know",
  );
});
