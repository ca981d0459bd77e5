// Scenarios 1 and 2 of the end-to-end suite, with the real Claude Code in `claude -p` (offline,
// scripted model): two headless sessions message each other through the bridge, and the guard
// keeps a bridged session from committing. Wired by our own `session-bridge install`.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { makeSandbox, runClaude, runHeadless, type RunResult } from "./claude.ts";
import {
  callTool,
  reply,
  requestText,
  startModelServer,
  systemMessages,
  toolResults,
  type ModelRequest,
  type ModelServer,
} from "./model-server.ts";
import { bridgeOk, inbox, installBridge, readJson, roleDir, roleEnv } from "./bridge.ts";

const SEND = "mcp__session-bridge__bridge_send";

let server: ModelServer;
before(async () => {
  server = await startModelServer();
});
after(() => server.close());

function assertOk(r: RunResult): void {
  assert.equal(r.code, 0, `claude exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
}

function assertClean(): void {
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

const turnsOf = (route: string, after = 0): ModelRequest[] =>
  server.findRequests((r) => r.kind === "turn" && r.route === route && r.seq > after);

test("headless ping-pong: backend sends, frontend's prompt carries it and replies, backend's next prompt sees the reply", async (t) => {
  const box = makeSandbox(t, { baseUrl: server.url });
  const root = join(box.root, "bridge");
  const frontendDir = join(box.root, "frontend");
  mkdirSync(frontendDir);
  // With claude on PATH install registers the MCP server through `claude mcp add-json`; --wake
  // rewake adds the asyncRewake Stop hook, which must not hold `claude -p` hostage.
  const installed = installBridge(box, { viaClaude: true, rewake: true });
  assert.match(installed, /hooks\.Stop: .*hook wait.*"asyncRewake":true/);
  // What the user checks next: the real client connects to the server install registered, and doctor agrees.
  const list = await runClaude({ cwd: box.cwd, env: box.env, args: ["mcp", "list"] });
  // install registers the stable copy's launcher (src/install/home.ts), not the build it ran from.
  assert.match(list.stdout, /^session-bridge: \S+\/\.local\/share\/session-bridge\/bin\/session-bridge mcp - ✔ Connected$/m);
  assert.match(bridgeOk({ ...box.env, BRIDGE_ROOT: root }, ["doctor", "--config-dir", box.configDir]), /\nall good\n$/);
  const backend = roleEnv(box.env, root, "shop", "backend", { ANTHROPIC_BASE_URL: server.baseUrl("backend") });
  const frontend = roleEnv(box.env, root, "shop", "frontend", { ANTHROPIC_BASE_URL: server.baseUrl("frontend") });
  const PING = "PING-7c1e: the items API is live at GET /v1/items";
  const PONG = "PONG-44b9: thanks, wiring the list view to it";

  // 1. backend tells frontend, which has not joined yet: the truthful error first, then queued.
  server.script("backend", [
    callTool(SEND, { to: "frontend", body: PING }),
    callTool(SEND, { to: "frontend", body: PING, queue: true }),
    reply("told frontend"),
  ]);
  assertOk(await runHeadless({ cwd: box.cwd, env: backend, prompt: "tell frontend the API is ready" }));
  const [unknown, queued] = toolResults(turnsOf("backend").at(-1)!);
  assert.equal(unknown!.is_error, true);
  assert.match(
    unknown!.text,
    /unknown role "frontend" in project "shop" \(known: none yet\); use --queue \(CLI\) or queue: true \(bridge_send\)/,
  );
  assert.equal(queued!.is_error, false, queued!.text);
  const [ping, ...extra] = inbox(root, "shop", "frontend");
  assert.equal(extra.length, 0);
  assert.match(ping!.id, /^m[0-9a-z]+$/);
  assert.deepEqual(
    { from: ping!.from, to: ping!.to, body: ping!.body, hop: ping!.hop },
    { from: "backend", to: "frontend", body: PING, hop: 0 },
  );
  // A prompt typed by a human starts a chain; the send carries it.
  const backendChain = readJson(join(roleDir(root, "shop", "backend"), "chain.json"));
  assert.deepEqual(
    { chain: backendChain.chain, hop: backendChain.hop, source: backendChain.source },
    { chain: ping!.chain, hop: 0, source: "human" },
  );
  assert.match(
    queued!.text,
    new RegExp(`^sent ${ping!.id} to frontend \\(chain ${ping!.chain} hop 0\\)\\n  frontend: queued; no live session holds this role now`),
  );
  assert.match(bridgeOk(backend, ["status", ping!.id]), /^ {2}frontend: queued$/m);

  // 2. frontend's next prompt: `hook recv` puts the message in the model request; it replies.
  server.script("frontend", (req, { turn }) => {
    if (turn > 0) return reply("replied to backend");
    const id = /<message boundary="[0-9a-f]+" id="([^"]+)" from="backend"/.exec(requestText(req))?.[1];
    return id ? callTool(SEND, { to: "backend", body: PONG, replyTo: id }) : reply("NO MESSAGE SEEN");
  });
  const fr = await runHeadless({ cwd: frontendDir, env: frontend, prompt: "anything from the other sessions?" });
  assertOk(fr);
  const [seen, answered] = turnsOf("frontend");
  const context = systemMessages(seen!).join("\n");
  assert.match(
    context,
    /hook additional context: \[session-bridge\] Messages for role "frontend" from sibling Claude Code sessions of bridge project "shop"/,
  );
  assert.ok(context.includes(`id="${ping!.id}" from="backend" to="frontend"`), context);
  assert.ok(context.includes(PING), context);
  assert.ok(!JSON.stringify(seen!.body.messages[0]).includes(PING), "the mail is context, not the user's prompt");
  assert.equal(toolResults(answered!)[0]!.is_error, false, toolResults(answered!)[0]!.text);
  assert.match(
    bridgeOk(backend, ["status", ping!.id]),
    /frontend: read at \S+ by hook recv \((SessionStart|UserPromptSubmit), claude session [0-9a-f-]+, claude pid \d+\)/,
  );

  const [pong, ...more] = inbox(root, "shop", "backend");
  assert.equal(more.length, 0);
  assert.deepEqual(
    { from: pong!.from, to: pong!.to, body: pong!.body, replyTo: pong!.replyTo, hop: pong!.hop },
    { from: "frontend", to: "backend", body: PONG, replyTo: ping!.id, hop: 0 },
  );
  // frontend's prompt was typed by a human too: its own new chain, not backend's.
  assert.notEqual(pong!.chain, ping!.chain);
  assert.equal(readJson(join(roleDir(root, "shop", "frontend"), "chain.json")).chain, pong!.chain);

  // 3. backend's next prompt sees the reply, tied to its message.
  const mark = server.mark();
  server.script("backend", [reply("frontend is on it")]);
  const br = await runHeadless({ cwd: box.cwd, env: backend, prompt: "any news?", args: ["--output-format", "json"] });
  assertOk(br);
  assert.equal(br.json?.result, "frontend is on it");
  const [news] = turnsOf("backend", mark);
  const got = systemMessages(news!).join("\n");
  assert.ok(got.includes(`id="${pong!.id}" from="frontend" to="backend"`) && got.includes(`reply-to="${ping!.id}"`), got);
  assert.ok(got.includes(PONG), got);
  assert.equal(inbox(root, "shop", "frontend").length, 1, "nothing else was sent");
  assertClean();
});

// Scenario 2: the guard, in a real git work repo.
function git(cwd: string, ...args: string[]): string {
  const r = spawnSync("git", args, {
    cwd,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: cwd, GIT_CONFIG_NOSYSTEM: "1" },
  });
  return r.status === 0 ? r.stdout.trim() : `(git ${args.join(" ")} failed: ${r.stderr.trim()})`;
}

test("guard: a bridged session's `git commit` is denied with our reason and commits nothing; a non-bridged session's is allowed", async (t) => {
  const box = makeSandbox(t, { baseUrl: server.url });
  const root = join(box.root, "bridge");
  installBridge(box); // claude not on PATH: install edits .claude.json itself
  const repo = box.cwd;
  git(repo, "init", "-q", "-b", "main");
  git(repo, "config", "user.email", "e2e@example.invalid");
  git(repo, "config", "user.name", "e2e");
  writeFileSync(join(repo, "app.txt"), "v1\n");
  git(repo, "add", "app.txt");
  const commit = callTool("Bash", { command: "git commit -m x", description: "commit the change" }, "toolu_commit");
  // Bash itself is allowed, so only the guard can stop the commit.
  const args = ["--allowedTools", "Bash"];

  server.script("guard-bridged", [commit, reply("commit refused")]);
  const bridged = roleEnv(box.env, root, "shop", "backend", { ANTHROPIC_BASE_URL: server.baseUrl("guard-bridged") });
  assertOk(await runHeadless({ cwd: repo, env: bridged, prompt: "commit it", args }));
  const [denied] = toolResults(turnsOf("guard-bridged").at(-1)!);
  assert.equal(denied!.tool_use_id, "toolu_commit");
  assert.equal(denied!.is_error, true);
  assert.match(denied!.text, /^PreToolUse:Bash hook error: session-bridge guard: `git commit` is blocked in this bridged session/);
  assert.match(git(repo, "rev-list", "--all", "--count"), /failed|^0$/, "nothing was committed");
  assert.equal(git(repo, "diff", "--cached", "--name-only"), "app.txt", "the change is still staged, waiting for a human");

  // The same user, the same hooks, no BRIDGE_PROJECT/BRIDGE_ROLE: the guard stays out of the way.
  server.script("guard-plain", [commit, reply("committed")]);
  const plain = { ...box.env, BRIDGE_ROOT: root, ANTHROPIC_BASE_URL: server.baseUrl("guard-plain") };
  assertOk(await runHeadless({ cwd: repo, env: plain, prompt: "commit it", args }));
  const [allowed] = toolResults(turnsOf("guard-plain").at(-1)!);
  assert.equal(allowed!.is_error, false, allowed!.text);
  assert.match(allowed!.text, /\[main \(root-commit\) [0-9a-f]+\] x/);
  assert.equal(git(repo, "log", "-1", "--format=%s"), "x");
  assert.ok(readFileSync(join(box.configDir, "settings.json"), "utf8").includes("hook guard"), "the guard hook was installed");
  assertClean();
});
