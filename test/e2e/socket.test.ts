// The socket driver end to end: the daemon wakes idle Claude Code sessions by writing the fixed
// nudge to each session's own messaging socket (CLAUDE_CODE_MESSAGING_SOCKET), with no typing:
// the daemon's PATH holds a `tmux` that records every call and fails, and it must never be run.
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startBackgroundSession } from "./background.ts";
import { makeSandbox, startTui, type Tui } from "./claude.ts";
import {
  callTool,
  lastUserText,
  reply,
  requestText,
  startModelServer,
  systemMessages,
  type ModelRequest,
  type ModelServer,
  type Script,
} from "./model-server.ts";
import {
  bridgeOk,
  daemonLog,
  describeDaemonLog,
  inbox,
  installBridge,
  readJson,
  roleDir,
  roleEnv,
  sessionRecords,
  spawnerStatus,
  startDaemon,
  waitFor,
} from "./bridge.ts";
import { DEFAULT_NUDGE } from "../../src/settings/schema.ts";

const SEND = "mcp__session-bridge__bridge_send";
/** How Claude Code 2.1.328 frames a message that came through the socket (docs/claude-code.md). */
const PEER = "Another Claude session sent a message:";

let server: ModelServer;
before(async () => {
  server = await startModelServer();
});
after(() => server.close());

const turnsOf = (route: string): ModelRequest[] => server.findRequests((r) => r.kind === "turn" && r.route === route);

function sentSoFar(req: ModelRequest): Record<string, any>[] {
  const msgs: any[] = req.body?.messages ?? [];
  return msgs
    .filter((m) => m.role === "assistant" && Array.isArray(m.content))
    .flatMap((m) => m.content.filter((b: any) => b.type === "tool_use" && b.name === SEND).map((b: any) => b.input));
}

function lastUserHasToolResult(req: ModelRequest): boolean {
  const last = (req.body?.messages ?? []).filter((m: any) => m.role === "user").at(-1);
  return Array.isArray(last?.content) && last.content.some((b: any) => b.type === "tool_result");
}

/** Answers each new message from `other` once, decided from the request alone (see tui.test.ts). */
function player(me: string, other: string, kickoff?: string): Script {
  return (req) => {
    const sent = sentSoFar(req);
    const answered = new Set(sent.map((s) => s.replyTo));
    const ids = [...requestText(req).matchAll(new RegExp(`id="([^"]+)" from="${other}"`, "g"))].map((m) => m[1]!);
    const fresh = ids.filter((id) => !answered.has(id)).at(-1);
    if (fresh) return callTool(SEND, { to: other, body: `${me}-answer-${sent.length + 1}`, replyTo: fresh });
    if (lastUserHasToolResult(req)) return reply(`${me}: sent ${sent.length}`);
    if (kickoff && sent.length === 0) return callTool(SEND, { to: other, body: kickoff });
    return reply(`${me}: nothing new`);
  };
}

/** The role's session record once our hooks/MCP server recorded the messaging socket. */
async function registered(root: string, role: string, pid: number, capture: () => string): Promise<any> {
  const file = join(roleDir(root, "shop", role), "sessions", `${pid}.json`);
  return waitFor(
    `${role}'s session record with its messaging socket`,
    () => existsSync(file) && readJson(file)?.messagingSocket && readJson(file),
    20_000,
    capture,
  );
}

/** A `tmux` for the daemon's PATH that records its arguments and fails: the socket driver must never run it. */
function recordingTmux(dir: string): { path: string; calls(): string } {
  const bin = join(dir, "no-tmux-bin");
  mkdirSync(bin);
  const log = join(dir, "tmux-calls.log");
  writeFileSync(join(bin, "tmux"), `#!/bin/sh\necho "$@" >> '${log}'\nexit 1\n`);
  chmodSync(join(bin, "tmux"), 0o755);
  return { path: bin, calls: () => (existsSync(log) ? readFileSync(log, "utf8") : "") };
}

test("socket driver: two idle TUIs ping-pong through their messaging sockets, no tmux command at all; the loop stops at maxHops", async (t) => {
  const box = makeSandbox(t, { baseUrl: server.url });
  const root = join(box.root, "bridge");
  const dirs = { backend: box.cwd, frontend: join(box.root, "frontend") };
  mkdirSync(dirs.frontend);
  installBridge(box, { trust: [dirs.frontend] });
  const human = { ...box.env, BRIDGE_ROOT: root };
  bridgeOk(human, ["spawner", "on"]);
  bridgeOk(human, ["spawner", "config", "driver=socket", "maxHops=3", "cooldownSeconds=0"]);
  server.script("sock-backend", player("backend", "frontend", "KICKOFF-77c: the items API is live"));
  server.script("sock-frontend", player("frontend", "backend"));

  const tuiEnv = (role: "backend" | "frontend") =>
    roleEnv(box.env, root, "shop", role, { ANTHROPIC_BASE_URL: server.baseUrl(`sock-${role}`) });
  const backend = await startTui({ t, cwd: dirs.backend, env: tuiEnv("backend") });
  const frontend = await startTui({ t, cwd: dirs.frontend, env: tuiEnv("frontend"), server: backend });
  const tuis: Record<string, Tui> = { backend, frontend };
  for (const [role, tui] of Object.entries(tuis)) {
    const record = await registered(root, role, tui.pid, () => tui.capture());
    assert.match(record.messagingSocket, /\/cc-socks\/\d+\.sock$/);
    assert.equal(record.claudeRegistry, join(box.configDir, "sessions", `${tui.pid}.json`));
    // Never the token: nothing in the record names one.
    assert.doesNotMatch(JSON.stringify(record), /token/i);
  }
  const tmux = recordingTmux(box.root);
  await startDaemon(t, { ...human, PATH: `${tmux.path}:${box.env.PATH}` });

  await backend.submit("tell frontend the API is live");
  const refusal = await waitFor(
    "the loop guard to refuse the third wake (backend at hop 3)",
    () => {
      const refused = readJson(join(roleDir(root, "shop", "backend"), "wake.json"))?.lastRefusal;
      return refused?.code === "hops" && refused;
    },
    90_000,
    () => `${describeDaemonLog(root)}\n--- backend pane\n${backend.capture()}\n--- frontend pane\n${frontend.capture()}`,
  );
  assert.match(refusal.reason, /^loop guard: chain \S+ reached hop 3 \(maxHops 3\)/);
  await frontend.waitFor("frontend: sent 2", 20_000);

  const [m0, m2, ...f] = inbox(root, "shop", "frontend");
  const [m1, m3, ...b] = inbox(root, "shop", "backend");
  assert.deepEqual([f.length, b.length], [0, 0]);
  const chain = [m0!, m1!, m2!, m3!];
  assert.deepEqual(
    chain.map((m) => [m.from, m.hop, m.chain]),
    [
      ["backend", 0, m0!.chain],
      ["frontend", 1, m0!.chain],
      ["backend", 2, m0!.chain],
      ["frontend", 3, m0!.chain],
    ],
  );
  const log = daemonLog(root);
  assert.deepEqual(
    log.filter((e) => e.event === "wake").map((e) => `${e.role}@${e.hop} via ${e.driver}`),
    ["frontend@0 via socket", "backend@1 via socket", "frontend@2 via socket"],
  );
  assert.deepEqual(
    log.filter((e) => e.event === "nudged" || e.event === "nudge-failed" || e.event === "fallback").map((e) => `${e.event} ${e.role}`),
    ["nudged frontend", "nudged backend", "nudged frontend"],
  );
  assert.equal(tmux.calls(), "", "the daemon ran tmux");

  // Each woken turn is the nudge as a peer message, and `hook recv` put the mail in its context.
  chain.slice(0, 3).forEach((mail, i) => {
    const req = turnsOf(`sock-${mail.to}`).find((r) => systemMessages(r).some((text) => text.includes(`id="${mail.id}"`)));
    assert.ok(req, `no request of ${mail.to} carries ${mail.id}`);
    const prompt = lastUserText(req);
    assert.ok(prompt.includes(PEER) && prompt.includes(DEFAULT_NUDGE), `woken turn ${i}: ${prompt}`);
    const context = systemMessages(req).at(-1) ?? "";
    assert.ok(context.includes(`id="${mail.id}" from="${mail.from}"`) && context.includes(mail.body), `woken turn ${i}: ${context}`);
  });

  const status = spawnerStatus(human).roles.find((r: any) => r.role === "backend");
  assert.equal(status.driver, "socket");
  assert.match(status.notWoken, /^hops at \S+ \(socket\): loop guard/);
  assert.match(status.target, /^messaging socket \S+\/cc-socks\/\d+\.sock \(claude pid \d+\)$/);
  assert.match(status.lastWake.detail, /^nudged through messaging socket .*: the session took the mail$/);
  assert.deepEqual(
    server.unscripted.map((r) => r.seq),
    [],
  );
});

test("socket driver: a `claude --bg` session joins through --settings env and is woken through its socket", async (t) => {
  const box = makeSandbox(t, { baseUrl: server.url });
  const root = join(box.root, "bridge");
  installBridge(box);
  const human = { ...box.env, BRIDGE_ROOT: root };
  bridgeOk(human, ["spawner", "on"]);
  bridgeOk(human, ["spawner", "config", "driver=socket", "cooldownSeconds=0"]);
  server.script("bg", (req) =>
    /BG-START/.test(requestText(req)) && !/MAIL-FOR-BG/.test(requestText(req)) ? reply("BG-READY") : reply("BG-WOKEN"),
  );
  // The launching shell's BRIDGE_* would not reach the session: --settings env does (test/e2e/background.ts).
  await startBackgroundSession(t, box, server, { root, project: "shop", role: "bg", route: "bg", prompt: "BG-START" });
  const record = await waitFor(
    "the background session's record with its socket",
    () => sessionRecords(root, "shop", "bg").find((r) => r.messagingSocket),
    30_000,
  );
  // Not `attended`: the MCP server may write the record before the SessionStart hook says it
  // (docs/claude-code.md "Background sessions"); hook-recv and mcp-session tests pin who records it.
  assert.equal(record.entrypoint, "cli");
  await startDaemon(t, human);
  const mark = server.mark();
  const sent = JSON.parse(bridgeOk(human, ["send", "--json", "--queue", "--project", "shop", "--role", "api", "bg", "MAIL-FOR-BG"]));
  const woken = await server.waitForRequest((r) => r.kind === "turn" && /MAIL-FOR-BG/.test(requestText(r)), 30_000, { after: mark });
  assert.ok(lastUserText(woken).includes(DEFAULT_NUDGE), lastUserText(woken));
  assert.ok(systemMessages(woken).some((text) => text.includes(`id="${sent.id}" from="api"`)));
  // The turn can reach the model before the daemon has written "nudged" to its log.
  const log = await waitFor("the daemon to log the nudge", () => {
    const entries = daemonLog(root);
    return entries.some((e) => e.event === "nudged") && entries;
  });
  assert.deepEqual(
    log.filter((e) => e.event === "wake" || e.event === "nudged").map((e) => `${e.event} ${e.role}`),
    ["wake bg", "nudged bg"],
  );
});
