// Scenario 3 of the end-to-end suite: the wake daemon's spawn driver runs the real `claude -p`
// (found on the daemon's PATH, offline against the scripted model) in each role's folder. Two roles
// ping-pong with nobody typing until the loop guard stops them at maxHops.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { makeSandbox, onCleanup } from "./claude.ts";
import {
  byCwd,
  callTools,
  lastUserText,
  reply,
  requestText,
  startModelServer,
  systemMessages,
  toolResults,
  type ModelRequest,
  type Script,
} from "./model-server.ts";
import {
  bridgeOk,
  daemonLog,
  describeDaemonLog,
  inbox,
  installBridge,
  pathWith,
  readJson,
  roleDir,
  spawnerStatus,
  startDaemon,
  waitFor,
} from "./bridge.ts";
import { DEFAULT_NUDGE } from "../../src/settings/schema.ts";

const SEND = "mcp__session-bridge__bridge_send";
const WHOAMI = "mcp__session-bridge__bridge_whoami";

/** A woken run: asks who it is, answers the message it was given, then ends its turn. */
function answerer(role: string, other: string): Script {
  let n = 0;
  return (req, { turn }) => {
    if (turn > 0) return reply(`${role} done`);
    const id = new RegExp(`<message boundary="[0-9a-f]+" id="([^"]+)" from="${other}"`).exec(requestText(req))?.[1];
    if (!id) return reply(`${role} saw no message`);
    n += 1;
    return callTools([
      { name: WHOAMI, input: {} },
      { name: SEND, input: { to: other, body: `${role}-answer-${n}`, replyTo: id } },
    ]);
  };
}

test("spawn driver: the daemon wakes each role with the real claude -p, each run gets the mail and answers, the loop stops at maxHops", async (t) => {
  const server = await startModelServer();
  onCleanup(t, () => server.close());
  const box = makeSandbox(t, { baseUrl: server.url });
  const root = join(box.root, "bridge");
  const dirs = { frontend: join(box.root, "frontend"), backend: join(box.root, "backend") };
  for (const dir of Object.values(dirs)) mkdirSync(dir);
  // With the rewake hook too: a spawned `claude -p` runs Stop hooks synchronously, so `hook wait`
  // must step aside at once or every run would hang until spawn.timeoutSeconds.
  installBridge(box, { rewake: true });
  // A human at a shell (no CLAUDECODE) sets the rails.
  const human = { ...box.env, BRIDGE_ROOT: root };
  bridgeOk(human, ["spawner", "on"]);
  bridgeOk(human, ["spawner", "config", "driver=spawn", "maxHops=3", "cooldownSeconds=0"]);
  for (const [role, dir] of Object.entries(dirs)) bridgeOk(human, ["spawner", "set", "--force", "shop", role, `cwd=${dir}`]);
  // Both roles' runs share the daemon's base URL; the model server tells them apart by folder.
  server.route(byCwd(dirs.frontend), answerer("frontend", "backend"));
  server.route(byCwd(dirs.backend), answerer("backend", "frontend"));

  // Started the way an admin might: BRIDGE_ADMIN=1 must not reach the runs. The daemon's PATH finds
  // the pinned claude; the offline variables and CLAUDE_CONFIG_DIR (our hooks) are passed on.
  await startDaemon(t, { ...human, BRIDGE_ADMIN: "1", PATH: pathWith({ claude: true }) });
  const kickoff = JSON.parse(
    bridgeOk(human, [
      "send",
      "--json",
      "--queue",
      "--project",
      "shop",
      "--role",
      "backend",
      "frontend",
      "kickoff: please build the list view",
    ]),
  );

  // The third run (frontend's second) answers at hop 3: backend is not woken for it.
  const refused = await waitFor(
    "the loop guard to refuse waking backend",
    () => {
      const wake = readJson(join(roleDir(root, "shop", "backend"), "wake.json"));
      return wake?.lastRefusal?.code === "hops" && daemonLog(root).filter((e) => e.event === "run-end").length === 3 && wake.lastRefusal;
    },
    60_000,
    () => describeDaemonLog(root),
  );
  assert.match(refused.reason, /^loop guard: chain \S+ reached hop 3 \(maxHops 3\)/);

  // On disk: one chain, hops 0..3, each answer tied to the message that woke its run.
  const [m0, m2, ...f] = inbox(root, "shop", "frontend");
  const [m1, m3, ...b] = inbox(root, "shop", "backend");
  assert.deepEqual([f.length, b.length], [0, 0]);
  const chain = [m0!, m1!, m2!, m3!];
  assert.equal(m0!.id, kickoff.id);
  assert.deepEqual(
    chain.map((m) => [m.from, m.to, m.hop, m.chain]),
    [
      ["backend", "frontend", 0, kickoff.chain],
      ["frontend", "backend", 1, kickoff.chain],
      ["backend", "frontend", 2, kickoff.chain],
      ["frontend", "backend", 3, kickoff.chain],
    ],
  );
  assert.deepEqual(
    chain.slice(1).map((m) => m.replyTo),
    chain.slice(0, 3).map((m) => m.id),
  );
  assert.deepEqual(
    chain.slice(1).map((m) => m.body),
    ["frontend-answer-1", "backend-answer-1", "frontend-answer-2"],
  );

  // What each run's model saw: the fixed nudge as the prompt, the mail injected by `hook recv`.
  const firsts = server.findRequests((r) => r.kind === "turn" && !r.body.messages.some((m: any) => m.role === "assistant"));
  assert.equal(firsts.length, 3, "three runs: frontend, backend, frontend");
  firsts.forEach((req: ModelRequest, i) => {
    const woke = chain[i]!;
    assert.ok(lastUserText(req).includes(DEFAULT_NUDGE), lastUserText(req));
    const context = systemMessages(req).join("\n");
    assert.ok(context.includes(`id="${woke.id}" from="${woke.from}" to="${woke.to}"`) && context.includes(`hop="${woke.hop}"`), context);
  });
  // Every run's bridge MCP server was started without BRIDGE_ADMIN although the daemon had it.
  const whoami = server
    .findRequests((r) => r.kind === "turn")
    .flatMap((r) => toolResults(r))
    .filter((x) => /^you are role/.test(x.text));
  assert.equal(whoami.length, 3);
  for (const w of whoami) assert.match(w.text, /^admin: no \(settings tools are refused/m);

  // What `spawner status` tells the human: backend waits, and why.
  const status = spawnerStatus(human);
  const backend = status.roles.find((r: any) => r.role === "backend");
  assert.equal(backend.unread, 1);
  assert.match(
    backend.notWoken,
    /^hops at \S+ \(spawn\): loop guard: chain \S+ reached hop 3 \(maxHops 3\); the messages wait for a prompt typed by a human/,
  );
  assert.match(backend.lastRun.outcome, /^exit 0 after/);
  const runs = daemonLog(root)
    .filter((e) => e.event === "wake")
    .map((e) => `${e.role}@${e.hop}`);
  assert.deepEqual(runs, ["frontend@0", "backend@1", "frontend@2"]);
  assert.deepEqual(
    server.unscripted.map((r) => r.seq),
    [],
  );
});
