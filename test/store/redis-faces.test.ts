// The faces on the Redis store, end to end through the built binary: the CLI and `hook recv` of
// two "machines" (two bridge roots, nothing shared but one redis-server) exchange messages.
import assert from "node:assert/strict";
import { test } from "node:test";
import { bridge, makeRoot } from "../helpers/cli.ts";
import { messageId, Room } from "../helpers/mcp.ts";
import { waitFor } from "../helpers/poll.ts";
import { freePort, startRedis } from "../helpers/redis.ts";

test("two machines sharing one Redis: send, roles, peek, recv, status, tail, root", async (t) => {
  const redis = await startRedis(t);
  const laptop = { root: makeRoot(t), project: "shop", env: { BRIDGE_URL: redis.url } };
  const devbox = { root: makeRoot(t), project: "shop", env: { BRIDGE_URL: redis.url } };
  assert.equal(bridge(["recv"], { ...devbox, role: "api" }).status, 0);
  const sent = bridge(["send", "api", "from the laptop", "--json"], { ...laptop, role: "web" });
  assert.equal(sent.status, 0, sent.stderr);
  const id = sent.json().id as string;
  const roles = bridge(["roles", "--json"], laptop).json();
  assert.deepEqual(
    roles.roles.map((r: { role: string; unread: number }) => [r.role, r.unread]),
    [
      ["api", 1],
      ["web", 0],
    ],
  );
  assert.match(bridge(["peek"], { ...devbox, role: "api" }).stdout, /from the laptop/);
  assert.equal(bridge(["status", id, "--json"], laptop).json().recipients[0].state, "queued");
  const got = bridge(["recv", "--json"], { ...devbox, role: "api" }).json();
  assert.deepEqual(
    got.messages.map((m: { id: string; body: string }) => [m.id, m.body]),
    [[id, "from the laptop"]],
  );
  const status = bridge(["status", id, "--json"], laptop).json();
  assert.equal(status.recipients[0].state, "read");
  assert.match(status.recipients[0].by, /^cli recv \(pid \d+\)$/);
  assert.deepEqual(bridge(["recv", "--json"], { ...devbox, role: "api" }).json().messages, []);
  assert.match(bridge(["tail"], { ...laptop, role: "api" }).stdout, /from the laptop/);
  const where = bridge(["root", "--json"], laptop).json();
  assert.deepEqual(where.store, { kind: "redis", where: redis.url });
  assert.match(bridge(["root"], laptop).stdout, new RegExp(`store: ${redis.url.replace(/[.]/g, "\\.")} \\(BRIDGE_URL\\)`));
  // Nothing of the messages is written under either root.
  assert.equal(bridge(["peek", "--json"], { root: laptop.root, project: "shop", role: "api" }).json().messages.length, 0);
});

test("hook recv on Redis: messages reach the prompt once; an engine away warns and lets the prompt go on", async (t) => {
  const redis = await startRedis(t);
  const root = makeRoot(t);
  const as = { root, project: "shop", env: { BRIDGE_URL: redis.url } };
  bridge(["recv"], { ...as, role: "api" });
  const sent = bridge(["send", "api", "hello hook", "--json"], { ...as, role: "web" }).json();
  const input = JSON.stringify({ hook_event_name: "UserPromptSubmit", prompt: "go on", session_id: "s-1" });
  const first = bridge(["hook", "recv"], { ...as, role: "api", input });
  assert.equal(first.status, 0, first.stderr);
  const context = JSON.parse(first.stdout).hookSpecificOutput.additionalContext as string;
  assert.match(context, new RegExp(`id="${sent.id}"[^>]*>\\nhello hook\\n`));
  const second = bridge(["hook", "recv"], { ...as, role: "api", input });
  assert.equal(second.stdout, "");
  // BRIDGE_URL is a variable of ours, not a typo that would make the identity "half".
  assert.equal(second.stderr, "");
  assert.match(bridge(["status", sent.id], as).stdout, /api: read at .* by hook recv \(UserPromptSubmit, claude session s-1/);

  // hook send (autosend) on Redis: the turn's reply reaches the other role.
  const stop = JSON.stringify({ hook_event_name: "Stop", last_assistant_message: "my reply, sent for me" });
  const auto = bridge(["hook", "send"], {
    ...as,
    role: "api",
    input: stop,
    env: { ...as.env, BRIDGE_AUTOSEND: "1", BRIDGE_SEND_TO: "web" },
  });
  assert.equal(auto.status, 0, auto.stderr);
  assert.match(bridge(["recv"], { ...as, role: "web" }).stdout, /my reply, sent for me/);

  const away = `redis://:pw@127.0.0.1:${await freePort()}`;
  const blocked = bridge(["hook", "recv"], { root, project: "shop", role: "api", input, env: { BRIDGE_URL: away } });
  assert.equal(blocked.status, 0);
  assert.equal(blocked.stdout, "");
  assert.match(
    blocked.stderr,
    /E_STORE: the store at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ failed: .*nothing was consumed; the prompt goes on/,
  );
});

test("the MCP server on Redis: two machines' sessions send, see each other live, recv, wait and status", async (t) => {
  const redis = await startRedis(t);
  const laptop = new Room();
  const devbox = new Room();
  t.after(async () => {
    await laptop.cleanup();
    await devbox.cleanup();
  });
  const web = await laptop.join("shop", "web", { BRIDGE_URL: redis.url });
  const api = await devbox.join("shop", "api", { BRIDGE_URL: redis.url });
  // The devbox's server registers its session in Redis as it starts, not before join returns.
  await waitFor("the api session registered in Redis", () =>
    bridge(["roles", "--json"], { root: laptop.root, project: "shop", env: { BRIDGE_URL: redis.url } })
      .json()
      .roles.some((r: { role: string }) => r.role === "api"),
  );
  const sent = await web.call("bridge_send", { to: "api", body: "over the wire" });
  assert.equal(sent.isError, false, sent.text);
  assert.match(sent.text, /api: queued; live session/);
  const roles = await api.call("bridge_roles");
  assert.match(roles.text, /- api \(you\): live/);
  assert.match(roles.text, /- web: live/);
  // whoami from a shell of the laptop sees the web session held there, through Redis.
  const who = bridge(["whoami", "--json"], { root: laptop.root, project: "shop", role: "web", env: { BRIDGE_URL: redis.url } }).json();
  assert.equal(who.liveSessions.length, 1);
  assert.equal(who.liveSessions[0].pid, web.pid);
  const got = await api.call("bridge_recv");
  assert.match(got.text, /over the wire/);
  const id = messageId(sent.text);
  assert.match((await web.call("bridge_status", { id })).text, /api: read at .* by /);
  const waiting = api.call("bridge_wait", { timeoutSeconds: 60 });
  await new Promise((r) => setTimeout(r, 300));
  await web.call("bridge_send", { to: "api", body: "while you wait" });
  assert.match((await waiting).text, /while you wait/);
  assert.match((await api.call("bridge_tail")).text, /over the wire[\s\S]*while you wait/);
});
