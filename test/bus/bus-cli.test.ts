// The bus CLI as a user runs it: every command, its --json shape, and each error code.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { bridge, bridgeAsync, makeRoot } from "../helpers/cli.ts";

const shop = (root: string, role: string) => ({ root, project: "shop", role });

test("send then recv delivers once and prints the message", (t) => {
  const root = makeRoot(t);
  assert.equal(bridge(["recv"], shop(root, "frontend")).status, 0); // frontend joins
  const sent = bridge(["send", "frontend", "GET /users now returns {id,name,email}"], shop(root, "backend"));
  assert.equal(sent.status, 0, sent.stderr);
  assert.match(sent.stdout, /^sent m\w+ \(chain c\w+ hop 0\)\n {2}frontend: queued; no live session/);

  const got = bridge(["recv"], shop(root, "frontend"));
  assert.equal(got.status, 0, got.stderr);
  assert.match(got.stdout, /── m\w+ from backend to frontend · .* · chain c\w+ hop 0\n {2}GET \/users now returns \{id,name,email\}\n/);

  const again = bridge(["recv"], shop(root, "frontend"));
  assert.equal(again.stdout, "");
  assert.match(again.stderr, /no unread messages/);
  // With --json, one document: nothing to read is said once, not per (empty) batch.
  assert.equal(bridge(["recv", "--json"], shop(root, "frontend")).stdout, '{"messages":[],"skipped":0}\n');
});

test("--json shapes of send, recv, peek, tail, roles, whoami, status and root", (t) => {
  const root = makeRoot(t);
  bridge(["recv"], shop(root, "web"));
  const sent = bridge(["send", "web", "hello", "--json"], shop(root, "api")).json();
  assert.match(sent.id, /^m[a-z0-9]+$/);
  assert.equal(sent.hop, 0);
  assert.deepEqual(sent.deliveries, [
    {
      role: "web",
      live: [],
      wake: {
        woken: false,
        text: "not woken automatically: automation is off (enabled: false); turn it on with `session-bridge spawner on`; it waits for that role's next prompt",
      },
    },
  ]);

  const peeked = bridge(["peek", "--json"], shop(root, "web")).json();
  assert.equal(peeked.messages.length, 1);
  assert.deepEqual(
    { ...peeked.messages[0], ts: undefined, chain: undefined },
    { id: sent.id, ts: undefined, project: "shop", from: "api", to: "web", body: "hello", chain: undefined, hop: 0 },
  );
  assert.equal(peeked.skipped, 0);

  const queued = bridge(["status", sent.id, "--json"], shop(root, "api")).json();
  assert.deepEqual(queued.recipients, [{ role: "web", state: "queued" }]);

  const beforeRecv = Date.now();
  const received = bridge(["recv", "--json"], shop(root, "web")).json();
  const afterRecv = Date.now();
  assert.deepEqual(
    received.messages.map((m: { id: string }) => m.id),
    [sent.id],
  );

  const read = bridge(["status", sent.id, "--json"], shop(root, "api")).json();
  assert.equal(read.recipients[0].state, "read");
  assert.match(read.recipients[0].by, /^cli recv \(pid \d+\)$/);
  // When it was read: during that recv (ms stamps; a second either side for a clock step), not any date.
  const at = Date.parse(read.recipients[0].at);
  assert.ok(at >= beforeRecv - 1000 && at <= afterRecv + 1000, `read at ${read.recipients[0].at}`);
  assert.equal(read.from, "api");

  const tail = bridge(["tail", "--json"], shop(root, "web")).json();
  assert.deepEqual(
    tail.messages.map((m: { id: string; read: boolean }) => [m.id, m.read]),
    [[sent.id, true]],
  );

  const roles = bridge(["roles", "--json"], shop(root, "web")).json();
  assert.deepEqual(
    roles.roles.map((r: { role: string; unread: number; live: boolean }) => [r.role, r.unread, r.live]),
    [
      ["api", 0, false],
      ["web", 0, false],
    ],
  );

  const who = bridge(["whoami", "--json"], shop(root, "web")).json();
  assert.equal(who.project, "shop");
  assert.equal(who.role, "web");
  assert.equal(who.admin, false);
  assert.equal(who.wake.auto, false);
  assert.match(who.wake.why, /automation is off \(enabled: false\); turn it on with `session-bridge spawner on`/);

  assert.deepEqual(bridge(["root", "--json"], { root }).json(), { root, source: "BRIDGE_ROOT" });
  assert.equal(bridge(["root"], { root }).stdout, root + "\n");
});

test("broadcast reaches every other role, never the sender", (t) => {
  const root = makeRoot(t);
  for (const r of ["a", "b", "c"]) bridge(["recv"], shop(root, r));
  const sent = bridge(["send", "*", "staging is up", "--json"], shop(root, "a")).json();
  assert.deepEqual(
    sent.deliveries.map((d: { role: string }) => d.role),
    ["b", "c"],
  );
  assert.equal(bridge(["peek", "--json"], shop(root, "a")).json().messages.length, 0);
  for (const r of ["b", "c"]) {
    const [m] = bridge(["recv", "--json"], shop(root, r)).json().messages;
    assert.equal(m.to, "*");
    assert.equal(m.body, "staging is up");
  }
  const status = bridge(["status", sent.id, "--json"], shop(root, "a")).json();
  assert.deepEqual(
    status.recipients.map((r: { role: string; state: string }) => [r.role, r.state]),
    [
      ["b", "read"],
      ["c", "read"],
    ],
  );
});

test("broadcast with nobody else in the project is E_NO_RECIPIENTS", (t) => {
  const root = makeRoot(t);
  const r = bridge(["send", "*", "anyone?"], shop(root, "alone"));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /E_NO_RECIPIENTS: nobody else has joined project "shop"/);
});

test("unknown recipient lists the known roles; --queue leaves it for a role that joins later", (t) => {
  const root = makeRoot(t);
  bridge(["recv"], shop(root, "frontend"));
  const r = bridge(["send", "fronted", "typo"], shop(root, "backend"));
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /E_UNKNOWN_ROLE: unknown role "fronted" in project "shop" \(known: frontend; did you mean "frontend"\?\); use --queue/,
  );

  const json = bridge(["send", "fronted", "typo", "--json"], shop(root, "backend"));
  assert.equal(json.status, 1);
  assert.equal(JSON.parse(json.stderr).error.code, "E_UNKNOWN_ROLE");

  assert.equal(bridge(["send", "later", "for you", "--queue"], shop(root, "backend")).status, 0);
  const got = bridge(["recv", "--json"], shop(root, "later")).json();
  assert.deepEqual(
    got.messages.map((m: { body: string }) => m.body),
    ["for you"],
  );
});

test("sending to yourself is E_SELF_SEND", (t) => {
  const root = makeRoot(t);
  const r = bridge(["send", "web", "me?"], shop(root, "web"));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /E_SELF_SEND: "web" is your own role/);
});

test("bad names are E_BAD_NAME and nothing is created outside the project", (t) => {
  const root = makeRoot(t);
  bridge(["recv"], shop(root, "web"));
  for (const to of ["../blog/backend", "a/b", "..", ".hidden", "-x", "x".repeat(65), "sp ace", "é"]) {
    const r = bridge(["send", "--queue", "--", to, "hi"], shop(root, "api"));
    assert.equal(r.status, 1, `to ${JSON.stringify(to)} should be refused`);
    assert.match(r.stderr, /E_BAD_NAME: invalid role name/, to);
  }
  for (const [project, role] of [
    ["../etc", "web"],
    ["shop", "../web"],
    ["*", "web"],
    ["shop", "*"],
  ] as const) {
    const r = bridge(["recv"], { root, project, role });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /E_BAD_NAME/);
  }
  // Refused sends leave no trace: not even the sender joined.
  const projects = bridge(["roles", "--json"], { root, project: "shop" }).json();
  assert.deepEqual(
    projects.roles.map((r: { role: string }) => r.role),
    ["web"],
  );
});

test("two projects never see each other", (t) => {
  const root = makeRoot(t);
  bridge(["recv"], { root, project: "blog", role: "backend" });
  bridge(["recv"], shop(root, "web"));
  const r = bridge(["send", "backend", "wrong room"], shop(root, "web"));
  assert.match(r.stderr, /E_UNKNOWN_ROLE: unknown role "backend" in project "shop"/);
  assert.deepEqual(
    bridge(["roles", "--json"], { root, project: "blog" })
      .json()
      .roles.map((x: { role: string }) => x.role),
    ["backend"],
  );
});

test("body limits: empty refused, over maxBodyBytes is E_TOO_LARGE naming the limit, exactly the limit passes", (t) => {
  const root = makeRoot(t);
  bridge(["recv"], shop(root, "web"));
  assert.match(bridge(["send", "web", ""], shop(root, "api")).stderr, /E_BAD_BODY: message body is empty/);
  assert.match(bridge(["send", "web", "  \n "], shop(root, "api")).stderr, /E_BAD_BODY/);
  writeFileSync(join(root, "bridge-settings.json"), JSON.stringify({ maxBodyBytes: 10 }));
  const over = bridge(["send", "web", "héllo wörld"], shop(root, "api")); // 13 bytes in UTF-8
  assert.equal(over.status, 1);
  assert.match(over.stderr, /E_TOO_LARGE: message body is 13 bytes, over the limit of 10 bytes/);
  assert.equal(bridge(["send", "web", "héllo wö"], shop(root, "api")).status, 0); // 10 bytes
});

test("any UTF-8 text round-trips byte-exact, including through stdin", (t) => {
  const root = makeRoot(t);
  bridge(["recv"], shop(root, "web"));
  const body = 'line1\nline2\r\n\t"quotes" \'single\' `tick` $HOME \\ back\u0000nul \u001b[31mred\u001b[0m 🎉 ü 中文 \u2028 {"json":true}';
  assert.equal(bridge(["send", "web", "-"], { ...shop(root, "api"), input: body }).status, 0);
  const [m] = bridge(["recv", "--json"], shop(root, "web")).json().messages;
  assert.equal(m.body, body);
  assert.equal(Buffer.compare(Buffer.from(m.body, "utf8"), Buffer.from(body, "utf8")), 0);
});

test("a leading byte order mark is part of the body, on stdin as on argv (stored byte-exact)", (t) => {
  const root = makeRoot(t);
  bridge(["recv"], shop(root, "web"));
  const bom = Buffer.from([0xef, 0xbb, 0xbf, 0x68, 0x69]); // U+FEFF then "hi"
  assert.equal(bridge(["send", "web", "-"], { ...shop(root, "api"), input: bom }).status, 0);
  assert.equal(bridge(["send", "web", "\ufeffhi"], shop(root, "api")).status, 0);
  const bodies = bridge(["recv", "--json"], shop(root, "web"))
    .json()
    .messages.map((m: { body: string }) => m.body);
  assert.deepEqual(bodies, ["\ufeffhi", "\ufeffhi"]);
  assert.equal(Buffer.compare(Buffer.from(bodies[0]!, "utf8"), bom), 0);
});

test("a body on stdin that is not UTF-8 is refused, not mangled", (t) => {
  const root = makeRoot(t);
  bridge(["recv"], shop(root, "web"));
  const r = bridge(["send", "web", "-"], { ...shop(root, "api"), input: Buffer.from([0x68, 0xff, 0xfe, 0x69]) });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /E_BAD_BODY: the body read from stdin \(4 bytes\) is not valid UTF-8/);
  assert.equal(bridge(["peek", "--json"], shop(root, "web")).json().messages.length, 0);
});

test("no identity: the error says how to connect", (t) => {
  const root = makeRoot(t);
  const r = bridge(["recv"], { root });
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /E_NO_IDENTITY: no bridge identity: set BRIDGE_PROJECT \(or --project\) and BRIDGE_ROLE \(or --role\); .*BRIDGE_PROJECT=shop BRIDGE_ROLE=web claude/,
  );
  assert.equal(bridge(["send", "x", "y", "--project", "shop", "--role", "me", "--queue"], { root }).status, 0);
});

test("usage errors exit 2 and name the problem; --help works on every level", (t) => {
  const root = makeRoot(t);
  const unknown = bridge(["send", "web", "hi", "--frobnicate"], shop(root, "api"));
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown option "--frobnicate" \(known: --help, --json, --project, --role, --queue, --reply-to\)/);
  const extra = bridge(["send", "web", "two", "words"], shop(root, "api"));
  assert.equal(extra.status, 2);
  assert.match(extra.stderr, /too many arguments: send takes TO BODY, and "words" is extra; quote an argument with spaces/);
  assert.match(bridge(["tail", "lots"], shop(root, "api")).stderr, /N must be a whole number \(got "lots"\)/);
  for (const cmd of ["send", "recv", "peek", "tail", "roles", "whoami", "status", "root"]) {
    const help = bridge([cmd, "--help"], { root });
    assert.equal(help.status, 0, cmd);
    assert.match(help.stdout, new RegExp(`^usage: session-bridge ${cmd}`), cmd);
  }
  const top = bridge(["--help"], { root });
  assert.equal(top.status, 0);
  assert.match(top.stdout, /usage: session-bridge <command>/);
  assert.match(bridge(["--version"], { root }).stdout, /^\d+\.\d+\.\d+\n$/);
});

test("a body starting with a dash goes after --", (t) => {
  const root = makeRoot(t);
  bridge(["recv"], shop(root, "web"));
  assert.equal(bridge(["send", "--", "web", "--not-a-flag"], shop(root, "api")).status, 0);
  assert.equal(bridge(["recv", "--json"], shop(root, "web")).json().messages[0].body, "--not-a-flag");
});

test("reply-to is carried and validated", (t) => {
  const root = makeRoot(t);
  bridge(["recv"], shop(root, "web"));
  const first = bridge(["send", "web", "question", "--json"], shop(root, "api")).json();
  bridge(["recv"], shop(root, "web"));
  assert.equal(bridge(["send", "api", "answer", "--reply-to", first.id], shop(root, "web")).status, 0);
  assert.equal(bridge(["recv", "--json"], shop(root, "api")).json().messages[0].replyTo, first.id);
  assert.match(
    bridge(["send", "api", "x", "--reply-to", "not an id"], shop(root, "web")).stderr,
    /replyTo "not an id" is not a message id/,
  );
});

test("status of an unknown id is E_NOT_FOUND; a malformed id is a usage error", (t) => {
  const root = makeRoot(t);
  bridge(["recv"], shop(root, "web"));
  assert.match(bridge(["status", "mnope"], shop(root, "web")).stderr, /E_NOT_FOUND: no message with id "mnope" in project "shop"/);
  assert.equal(bridge(["status", "../x"], shop(root, "web")).status, 2);
});

test("tail shows the last N with read marks; --follow prints new messages as they arrive", async (t) => {
  const root = makeRoot(t);
  bridge(["recv"], shop(root, "web"));
  for (const n of [1, 2, 3]) bridge(["send", "web", `msg ${n}`], shop(root, "api"));
  bridge(["recv"], shop(root, "web"));
  bridge(["send", "web", "msg 4"], shop(root, "api"));
  const last2 = bridge(["tail", "2"], shop(root, "web")).stdout;
  assert.match(last2, /· read\n {2}msg 3\n── .* · unread\n {2}msg 4\n$/);
  assert.doesNotMatch(last2, /msg 2/);

  const follow = bridgeAsync(["tail", "1", "--follow"], shop(root, "web"));
  t.after(() => follow.child.kill("SIGKILL"));
  await follow.waitFor(/msg 4/);
  bridge(["send", "web", "msg 5 live"], shop(root, "api"));
  await follow.waitFor(/msg 5 live/);
  follow.child.kill("SIGINT");
  assert.equal(await follow.exited, 0);
  assert.equal(bridge(["peek", "--json"], shop(root, "web")).json().messages.length, 2, "tail never consumes");
});

test("a corrupt config does not stop messaging; whoami reports it with its path", (t) => {
  const root = makeRoot(t);
  bridge(["recv"], shop(root, "web"));
  writeFileSync(join(root, "bridge-settings.json"), "{ not json");
  const sent = bridge(["send", "web", "still works"], shop(root, "api"));
  assert.equal(sent.status, 0);
  assert.match(sent.stderr, /warning: .*bridge-settings\.json is not valid JSON/);
  const who = bridge(["whoami", "--json"], shop(root, "web")).json();
  assert.match(who.configError, /bridge-settings\.json is not valid JSON/);
});

test("a send from inside a Claude session carries the role's chain; a shell send starts a new chain", (t) => {
  const root = makeRoot(t);
  bridge(["recv"], shop(root, "web"));
  writeFileSync(join(root, "projects/shop/web/chain.json"), JSON.stringify({ chain: "cfixed1", hop: 3, at: "x", source: "wake" }));
  const inSession = bridge(["send", "api", "from claude's Bash tool", "--queue", "--json"], {
    ...shop(root, "web"),
    env: { CLAUDECODE: "1" },
  }).json();
  assert.deepEqual([inSession.chain, inSession.hop], ["cfixed1", 3]);
  const human = bridge(["send", "api", "typed by a human", "--json"], shop(root, "web")).json();
  assert.notEqual(human.chain, "cfixed1");
  assert.equal(human.hop, 0);
  const spawned = bridge(["send", "api", "spawned run", "--json"], {
    ...shop(root, "web"),
    env: { BRIDGE_CHAIN: "cspawn9", BRIDGE_HOP: "4" },
  }).json();
  assert.deepEqual([spawned.chain, spawned.hop], ["cspawn9", 4]);
});

test("output piped into a reader that stops early (| head) ends quietly, exit 0", async (t) => {
  const root = makeRoot(t);
  bridge(["recv"], shop(root, "web"));
  for (let i = 0; i < 5; i++) bridge(["send", "web", `line ${i} ${"x".repeat(20_000)}`], shop(root, "api"));
  const reader = bridgeAsync(["tail", "5"], shop(root, "web"));
  await reader.waitFor(/line 0/);
  reader.child.stdout.destroy();
  assert.equal(await reader.exited, 0);
  assert.doesNotMatch(reader.stderr, /EPIPE|Error/);
});
