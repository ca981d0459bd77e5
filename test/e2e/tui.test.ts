// Scenarios 4 and 5 of the end-to-end suite: interactive Claude Code TUIs in panes of the test's
// private tmux server, registered by our MCP server and hooks, woken with nobody typing:
// by the daemon's tmux nudge, and by `hook wait` (asyncRewake) with no daemon at all.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
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
  spawnerStatus,
  startDaemon,
  waitFor,
} from "./bridge.ts";
import { DEFAULT_NUDGE } from "../../src/settings/schema.ts";

const SEND = "mcp__session-bridge__bridge_send";

let server: ModelServer;
before(async () => {
  server = await startModelServer();
});
after(() => server.close());

const turnsOf = (route: string, after = 0): ModelRequest[] =>
  server.findRequests((r) => r.kind === "turn" && r.route === route && r.seq > after);

/** Our earlier bridge_send calls in this conversation (the request carries them all). */
function sentSoFar(req: ModelRequest): Record<string, any>[] {
  const msgs: any[] = req.body?.messages ?? [];
  return msgs
    .filter((m) => m.role === "assistant" && Array.isArray(m.content))
    .flatMap((m) => m.content.filter((b: any) => b.type === "tool_use" && b.name === SEND).map((b: any) => b.input));
}

function lastUserHasToolResult(req: ModelRequest): boolean {
  const msgs: any[] = req.body?.messages ?? [];
  const last = msgs.filter((m) => m.role === "user").at(-1);
  return Array.isArray(last?.content) && last.content.some((b: any) => b.type === "tool_result");
}

/**
 * A TUI session that answers each new message from `other` once, decided from the request alone
 * (a retried request gets the same answer): a message not yet replied to → bridge_send a reply;
 * else after a tool result → a short text; else (the human's first prompt) the kickoff, if any.
 */
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

/** Waits until the TUI's session is registered for the role with its tmux pane (our hooks/MCP server did it). */
async function registered(root: string, role: string, tui: Tui): Promise<any> {
  const file = join(roleDir(root, "shop", role), "sessions", `${tui.pid}.json`);
  return waitFor(
    `${role}'s session record with pane ${tui.paneId}`,
    () => existsSync(file) && readJson(file)?.tmux?.pane === tui.paneId && readJson(file),
    20_000,
    () => tui.capture(),
  );
}

test("tmux driver: a send from one TUI wakes the other through the daemon's nudge; the ping-pong stops at maxHops", async (t) => {
  const box = makeSandbox(t, { baseUrl: server.url });
  const root = join(box.root, "bridge");
  const dirs = { backend: box.cwd, frontend: join(box.root, "frontend") };
  mkdirSync(dirs.frontend);
  installBridge(box, { trust: [dirs.frontend] });
  const human = { ...box.env, BRIDGE_ROOT: root };
  bridgeOk(human, ["spawner", "on"]);
  bridgeOk(human, ["spawner", "config", "driver=tmux", "maxHops=3", "cooldownSeconds=0"]);
  server.script("tmux-backend", player("backend", "frontend", "KICKOFF-5a2: the items API is live"));
  server.script("tmux-frontend", player("frontend", "backend"));

  // Two panes of one tmux server, as a user runs sibling sessions: the nudge must pick the right one.
  const tuiEnv = (role: "backend" | "frontend") =>
    roleEnv(box.env, root, "shop", role, { ANTHROPIC_BASE_URL: server.baseUrl(`tmux-${role}`) });
  const backend = await startTui({ t, cwd: dirs.backend, env: tuiEnv("backend") });
  const frontend = await startTui({ t, cwd: dirs.frontend, env: tuiEnv("frontend"), server: backend });
  assert.equal(frontend.socket, backend.socket);
  assert.notEqual(frontend.paneId, backend.paneId);
  const records = await Promise.all([registered(root, "backend", backend), registered(root, "frontend", frontend)]);
  // Registered with the start time of claude in the kind our code reads where it runs: /proc ticks,
  // or under scripts/without-proc.sh (hooks and MCP server without /proc, as on macOS) ps's lstart.
  for (const record of records) {
    if (process.env.SB_WITHOUT_PROC === "1") assert.match(String(record.pidStart), /^lstart:\d+$/);
    else assert.equal(typeof record.pidStart, "number");
  }
  await startDaemon(t, human);

  // The only typing a person does: one prompt in backend's pane.
  await backend.submit("tell frontend the API is live");
  const refusal = await waitFor(
    "the loop guard to refuse the third nudge (backend at hop 3)",
    () => {
      const refused = readJson(join(roleDir(root, "shop", "backend"), "wake.json"))?.lastRefusal;
      return refused?.code === "hops" && refused;
    },
    60_000,
    () => `${describeDaemonLog(root)}\n--- backend pane\n${backend.capture()}\n--- frontend pane\n${frontend.capture()}`,
  );
  assert.match(refusal.reason, /^loop guard: chain \S+ reached hop 3 \(maxHops 3\)/);
  // frontend's last turn ends with its text reply on screen.
  await frontend.waitFor("frontend: sent 2", 20_000);

  const [m0, m2, ...f] = inbox(root, "shop", "frontend");
  const [m1, m3, ...b] = inbox(root, "shop", "backend");
  assert.deepEqual([f.length, b.length], [0, 0]);
  const chain = [m0!, m1!, m2!, m3!];
  assert.deepEqual(
    chain.map((m) => [m.from, m.hop, m.chain, m.body]),
    [
      ["backend", 0, m0!.chain, "KICKOFF-5a2: the items API is live"],
      ["frontend", 1, m0!.chain, "frontend-answer-1"],
      ["backend", 2, m0!.chain, "backend-answer-2"],
      ["frontend", 3, m0!.chain, "frontend-answer-2"],
    ],
  );
  assert.deepEqual(
    chain.slice(1).map((m) => m.replyTo),
    chain.slice(0, 3).map((m) => m.id),
  );
  const log = daemonLog(root);
  assert.deepEqual(
    log.filter((e) => e.event === "wake").map((e) => `${e.role}@${e.hop} via ${e.driver}`),
    ["frontend@0 via tmux", "backend@1 via tmux", "frontend@2 via tmux"],
  );
  assert.deepEqual(
    log.filter((e) => e.event === "nudged" || e.event === "nudge-failed").map((e) => `${e.event} ${e.role}`),
    ["nudged frontend", "nudged backend", "nudged frontend"],
  );

  // Each woken turn: the fixed nudge was typed as the prompt, and the mail that woke it is in that
  // request's context. (Found by message id: a nudge that lands while the session is still busy
  // rides along with a tool result instead of opening a turn of its own, see the next test.)
  chain.slice(0, 3).forEach((mail, i) => {
    const req = turnsOf(`tmux-${mail.to}`).find((r) => systemMessages(r).some((text) => text.includes(`id="${mail.id}"`)));
    assert.ok(req, `no request of ${mail.to} carries ${mail.id}`);
    assert.ok(lastUserText(req).includes(DEFAULT_NUDGE), `woken turn ${i}: ${lastUserText(req)}`);
    const context = systemMessages(req).at(-1) ?? "";
    assert.ok(context.includes(`id="${mail.id}" from="${mail.from}"`) && context.includes(mail.body), `woken turn ${i}: ${context}`);
  });
  assert.ok(frontend.capture().includes(DEFAULT_NUDGE.slice(0, 40)), "the nudge shows in frontend's pane as typed input");

  const status = spawnerStatus(human).roles.find((r: any) => r.role === "backend");
  assert.equal(status.unread, 1, "the hop-3 answer waits for backend's next human prompt");
  assert.match(status.notWoken, /^hops at \S+ \(tmux\): loop guard/);
  assert.ok(status.target.includes(`tmux pane ${backend.paneId}`), status.target);
  assert.deepEqual(
    server.unscripted.map((r) => r.seq),
    [],
  );
});

test("tmux driver: a nudge typed into a busy session is taken mid-turn; the mail reaches that same turn", async (t) => {
  const box = makeSandbox(t, { baseUrl: server.url });
  const root = join(box.root, "bridge");
  installBridge(box);
  const human = { ...box.env, BRIDGE_ROOT: root };
  bridgeOk(human, ["spawner", "on"]);
  bridgeOk(human, ["spawner", "config", "driver=tmux", "cooldownSeconds=0"]);
  // The turn stays busy in a Bash tool until the test lets it go: no timing luck involved.
  const go = join(box.root, "go");
  server.script("busy", [
    callTool("Bash", { command: `until [ -e ${go} ]; do sleep 0.05; done`, description: "a long task" }),
    reply("BUSY-DONE"),
  ]);
  const tui = await startTui({
    t,
    cwd: box.cwd,
    env: roleEnv(box.env, root, "shop", "web", { ANTHROPIC_BASE_URL: server.baseUrl("busy") }),
    args: ["--allowedTools", "Bash"],
  });
  await registered(root, "web", tui);
  await startDaemon(t, human);
  await tui.submit("start the long task");
  await server.waitForRequest((r) => r.kind === "turn" && r.route === "busy", 20_000);

  const sent = JSON.parse(
    bridgeOk(human, ["send", "--json", "--queue", "--project", "shop", "--role", "backend", "web", "MAIL-WHILE-BUSY"]),
  );
  const nudged = await waitFor(
    "the nudge",
    () => daemonLog(root).find((e) => e.event === "nudged" || e.event === "nudge-failed"),
    20_000,
    () => `${describeDaemonLog(root)}\n${tui.capture()}`,
  );
  assert.equal(nudged.event, "nudged", nudged.msg);
  // Claude Code runs UserPromptSubmit when a prompt is queued during a turn, so the mail is read at once.
  // ("nudged" may be logged as soon as the input line clears, a moment before the hook has run.)
  const read = await waitFor(
    "the mail read by the queued prompt",
    () => {
      const out = bridgeOk(human, ["status", "--project", "shop", sent.id]);
      return /web: read/.test(out) && out;
    },
    20_000,
    () => tui.capture(),
  );
  assert.match(read, /web: read at \S+ by hook recv \(UserPromptSubmit/);
  writeFileSync(go, "");
  await tui.waitFor("BUSY-DONE", 20_000);

  // No extra turn: the nudge rides along with the tool result, the mail in the context right after it.
  const [first, second, ...more] = turnsOf("busy");
  assert.equal(more.length, 0);
  assert.ok(first && second);
  assert.ok(lastUserHasToolResult(second) && lastUserText(second).includes(DEFAULT_NUDGE), lastUserText(second));
  const context = systemMessages(second).at(-1) ?? "";
  assert.ok(context.includes(`id="${sent.id}" from="backend"`) && context.includes("MAIL-WHILE-BUSY"), context);
  assert.deepEqual(
    server.unscripted.map((r) => r.seq),
    [],
  );
});

test("rewake: an idle TUI with no daemon is woken by `hook wait` when mail arrives; the woken turn carries the message", async (t) => {
  const box = makeSandbox(t, { baseUrl: server.url });
  const root = join(box.root, "bridge");
  installBridge(box, { rewake: true, viaClaude: true });
  const human = { ...box.env, BRIDGE_ROOT: root };
  bridgeOk(human, ["spawner", "on"]);
  const sendAsBackend = (body: string) =>
    JSON.parse(bridgeOk(human, ["send", "--json", "--queue", "--project", "shop", "--role", "backend", "web", body]));
  const first = sendAsBackend("MAIL-ONE before the first prompt");
  server.script("rewake", [reply("FIRST-REPLY"), reply("WOKEN-REPLY")]);

  const tui = await startTui({
    t,
    cwd: box.cwd,
    env: roleEnv(box.env, root, "shop", "web", { ANTHROPIC_BASE_URL: server.baseUrl("rewake") }),
  });
  await tui.submit("hello there");
  await tui.waitFor("FIRST-REPLY", 20_000);
  const context = systemMessages(turnsOf("rewake")[0]!).join("\n");
  assert.match(context, /hook additional context: \[session-bridge\] Messages for role "web"/);
  assert.ok(context.includes(`id="${first.id}" from="backend"`) && context.includes("MAIL-ONE before the first prompt"), context);
  assert.equal(readJson(join(roleDir(root, "shop", "web"), "chain.json")).source, "human", "a typed prompt starts a chain");

  // The waiter is armed once the turn has ended; nobody types from here on and no daemon runs.
  const waiterFile = join(roleDir(root, "shop", "web"), "waiter.json");
  const waiter = await waitFor(
    "the armed waiter",
    () => existsSync(waiterFile) && JSON.parse(readFileSync(waiterFile, "utf8")),
    20_000,
    () => tui.capture(),
  );
  assert.equal(spawnerStatus(human).daemon.running, false);
  const mark = server.mark();
  const second = sendAsBackend("MAIL-TWO wakes you");
  const woken = await server.waitForRequest((r) => r.kind === "turn" && r.route === "rewake", 20_000, { after: mark });
  const wake = lastUserText(woken);
  assert.match(
    wake,
    /Stop hook blocking error from command "Stop": \[session-bridge\] Not an error: 1 new message from "backend" woke this session/,
  );
  assert.ok(wake.includes(`id="${second.id}" from="backend"`) && wake.includes("MAIL-TWO wakes you"), wake);
  await tui.waitFor("WOKEN-REPLY", 20_000);
  assert.match(bridgeOk(human, ["status", "--project", "shop", second.id]), /web: read at \S+ by hook wait \(rewake/);
  // The woken turn continues the chain of the mail that woke it.
  const chain = readJson(join(roleDir(root, "shop", "web"), "chain.json"));
  assert.deepEqual({ chain: chain.chain, hop: chain.hop, source: chain.source }, { chain: second.chain, hop: 1, source: "wake" });
  // Re-armed for the next mail: a new waiter holds the role.
  await waitFor(
    "the re-armed waiter",
    () => existsSync(waiterFile) && JSON.parse(readFileSync(waiterFile, "utf8")).pid !== waiter.pid && true,
    20_000,
  );
  assert.deepEqual(
    server.unscripted.map((r) => r.seq),
    [],
  );
});
