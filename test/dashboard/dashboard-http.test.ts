// `session-bridge dashboard` over raw HTTP, as a browser or an attacker would talk to it: the
// token on every request, the Host check against DNS rebinding, no other site, loopback only,
// read-only unless --admin, and the event stream that keeps the page live.
import { test } from "node:test";
import type { TestContext } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync, chmodSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { BIN } from "../helpers/bin.ts";
import { baseEnv, cli, ok, sandbox, send, waitFor } from "../helpers/spawner.ts";
import type { Sandbox } from "../helpers/spawner.ts";
import { deferrer, inotifyWatches, openEvents, request, startDashboard } from "../helpers/dashboard.ts";
import type { DashboardProc } from "../helpers/dashboard.ts";

const deferrers = new WeakMap<TestContext, (fn: () => unknown) => void>();
/** Everything a test starts is stopped before its folder goes, even when it fails. */
function defer(t: TestContext, fn: () => unknown): void {
  let d = deferrers.get(t);
  if (!d) deferrers.set(t, (d = deferrer(t)));
  d(fn);
}

function box(t: TestContext): Sandbox {
  const b = sandbox();
  defer(t, () => b.cleanup());
  return b;
}

async function dashboard(t: TestContext, b: Sandbox, args: string[] = [], extra: Record<string, string> = {}): Promise<DashboardProc> {
  const d = await startDashboard(b, args, extra);
  defer(t, () => d.stop());
  return d;
}

const q = (d: DashboardProc, path: string): string => `${path}?token=${encodeURIComponent(d.token)}`;
const config = (b: Sandbox): unknown => JSON.parse(readFileSync(join(b.root, "bridge-settings.json"), "utf8"));

test("prints one URL line on 127.0.0.1 with a fresh token; the page, script and style carry the security headers and no CORS", async (t) => {
  const b = box(t);
  const d = await dashboard(t, b);
  assert.match(d.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);
  const other = await dashboard(t, b);
  assert.notEqual(other.token, d.token, "each run has its own token");
  assert.match(d.stderr(), /on 127\.0\.0\.1 only, read-only/);
  for (const [path, type] of [
    ["/", "text/html"],
    ["/app.js", "text/javascript"],
    ["/app.css", "text/css"],
    ["/api/snapshot", "application/json"],
  ] as const) {
    const r = await request(d.port, { path: q(d, path) });
    assert.equal(r.status, 200, path);
    assert.ok(r.headers["content-type"]?.startsWith(type), `${path}: ${r.headers["content-type"]}`);
    assert.match(String(r.headers["content-security-policy"]), /default-src 'none'; script-src 'self'; style-src 'self'/);
    assert.equal(r.headers["x-content-type-options"], "nosniff");
    assert.equal(r.headers["referrer-policy"], "no-referrer");
    assert.equal(r.headers["cache-control"], "no-store");
    assert.deepEqual(
      Object.keys(r.headers).filter((h) => h.startsWith("access-control-")),
      [],
      `${path} sends no CORS header`,
    );
  }
  const page = await request(d.port, { path: q(d, "/") });
  assert.ok(page.body.includes(`/app.js?token=${d.token}`), "the page loads its own script with the token");
  assert.doesNotMatch(page.body, /<script>|https?:\/\/(?!www\.w3\.org)/, "no inline script and nothing from the network");
  // A CORS preflight gets no CORS answer either.
  const preflight = await request(d.port, {
    method: "OPTIONS",
    path: q(d, "/api/snapshot"),
    headers: { Origin: `http://127.0.0.1:${d.port}`, "Access-Control-Request-Method": "POST" },
  });
  assert.equal(preflight.status, 405);
  assert.deepEqual(
    Object.keys(preflight.headers).filter((h) => h.startsWith("access-control-")),
    [],
  );
});

test("every path answers 403 without the token, with a wrong one, or with it only in a header", async (t) => {
  const b = box(t);
  const d = await dashboard(t, b, ["--admin"]);
  const wrong = d.token.replace(/^./, (c) => (c === "A" ? "B" : "A"));
  for (const path of ["/", "/app.js", "/app.css", "/api/snapshot", "/api/events", "/nope"]) {
    for (const suffix of ["", "?token=", `?token=${wrong}`, `?token=${d.token.slice(0, -1)}`, `?token=${d.token}x`, `?t=${d.token}`]) {
      const r = await request(d.port, { path: path + suffix, headers: { "X-Bridge-Token": d.token } });
      assert.equal(r.status, 403, `${path}${suffix}`);
      assert.match(r.body, /missing or wrong token/);
      assert.ok(!r.body.includes(d.token), "the answer never shows the token");
    }
  }
  const post = await request(d.port, {
    method: "POST",
    path: "/api/automation",
    headers: { "X-Bridge-Token": d.token, "Content-Type": "application/json" },
    body: '{"enabled":true}',
  });
  assert.equal(post.status, 403);
  assert.equal(existsSync(join(b.root, "bridge-settings.json")), false, "nothing changed");
});

test("the Host header must name this server: another name (DNS rebinding), another port or none is refused", async (t) => {
  const b = box(t);
  const d = await dashboard(t, b);
  for (const host of [
    "evil.example:" + d.port,
    "evil.example",
    `127.0.0.1:${d.port + 1}`,
    "127.0.0.1",
    `localhost.evil.example:${d.port}`,
    `[::1]:${d.port}`,
    `0.0.0.0:${d.port}`,
  ]) {
    const r = await request(d.port, { path: q(d, "/api/snapshot"), headers: { Host: host } });
    assert.equal(r.status, 403, host);
    assert.match(r.body, /Host header must be 127\.0\.0\.1:\d+ or localhost:\d+/);
  }
  assert.equal((await request(d.port, { path: q(d, "/api/snapshot"), headers: { Host: `localhost:${d.port}` } })).status, 200);
  assert.equal((await request(d.port, { path: q(d, "/api/snapshot"), headers: { Host: `LOCALHOST:${d.port}` } })).status, 200);
});

test("another site cannot use it, even knowing the token: a cross-site fetch or a foreign Origin is refused", async (t) => {
  const b = box(t);
  const d = await dashboard(t, b, ["--admin"]);
  const json = { "X-Bridge-Token": d.token, "Content-Type": "application/json" };
  const hostile: Record<string, string>[] = [
    { "Sec-Fetch-Site": "cross-site" },
    { "Sec-Fetch-Site": "same-site" },
    { Origin: "http://evil.example" },
    { Origin: "null" },
    { Origin: `http://127.0.0.1:${d.port + 1}` },
  ];
  for (const headers of hostile) {
    assert.equal((await request(d.port, { path: q(d, "/api/snapshot"), headers })).status, 403, JSON.stringify(headers));
    const post = await request(d.port, {
      method: "POST",
      path: q(d, "/api/automation"),
      headers: { ...json, ...headers },
      body: '{"enabled":true}',
    });
    assert.equal(post.status, 403, `POST ${JSON.stringify(headers)}`);
  }
  assert.equal(existsSync(join(b.root, "bridge-settings.json")), false, "nothing changed");
  // The page itself, navigated to by the user, and its own requests are fine.
  assert.equal((await request(d.port, { path: q(d, "/"), headers: { "Sec-Fetch-Site": "none" } })).status, 200);
  assert.equal(
    (
      await request(d.port, {
        path: q(d, "/api/snapshot"),
        headers: { "Sec-Fetch-Site": "same-origin", Origin: `http://localhost:${d.port}`, Host: `localhost:${d.port}` },
      })
    ).status,
    200,
  );
});

test("loopback only: no option to listen elsewhere, and the port is closed on every other address", async (t) => {
  const b = box(t);
  for (const flag of ["--host=0.0.0.0", "--bind=0.0.0.0", "--listen=0.0.0.0", "--address=::"]) {
    const r = cli(b, ["dashboard", flag]);
    assert.equal(r.status, 2, flag);
    assert.match(r.stderr, /unknown option/);
    assert.equal(r.stdout, "", "nothing served");
  }
  const d = await dashboard(t, b);
  assert.equal(new URL(d.url).hostname, "127.0.0.1");
  // 127.0.0.2 is this machine too (all of 127/8 is loopback): a server on 0.0.0.0 would answer there.
  for (const host of ["127.0.0.2", "::1"]) {
    const outcome = await new Promise<string>((resolve) => {
      const s = connect({ host, port: d.port });
      s.once("connect", () => {
        s.destroy();
        resolve("connected");
      });
      s.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? "error"));
    });
    assert.notEqual(outcome, "connected", `${host}:${d.port} must not reach the dashboard`);
    assert.match(outcome, /ECONNREFUSED|EADDRNOTAVAIL|ENETUNREACH|EAFNOSUPPORT/, host);
  }
});

test("--port: a whole number up to 65535; a port in use is named with the fix; a free one is used", async (t) => {
  const b = box(t);
  for (const value of ["abc", "70000", "-1", "1.5", ""]) {
    const r = cli(b, ["dashboard", `--port=${value}`]);
    assert.equal(r.status, 2, value);
    assert.match(r.stderr, /--port must be a whole number from 0 to 65535/);
  }
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
  defer(t, () => busy.close());
  const port = (busy.address() as { port: number }).port;
  const r = cli(b, ["dashboard", "--port", String(port)]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use .*pick another with --port N, or leave out --port`));
  const json = cli(b, ["dashboard", "--port", String(port), "--json"]);
  assert.equal(JSON.parse(json.stderr).error.code, "E_IO");
  await new Promise<void>((resolve) => busy.close(() => resolve()));
  const d = await dashboard(t, b, ["--port", String(port)]);
  assert.equal(d.port, port);
});

test("--admin is refused inside a Claude Code session unless BRIDGE_ADMIN=1; read-only is fine there", async (t) => {
  const b = box(t);
  const refused = cli(b, ["dashboard", "--admin"], { CLAUDECODE: "1" });
  assert.equal(refused.status, 1);
  assert.equal(refused.stdout, "");
  assert.match(
    refused.stderr,
    /E_ADMIN_ONLY: dashboard --admin can change the automation settings.*run it from your own shell, or leave out --admin/,
  );
  const json = cli(b, ["dashboard", "--admin", "--json"], { CLAUDECODE: "1" });
  assert.equal(JSON.parse(json.stderr).error.code, "E_ADMIN_ONLY");
  const readOnly = await dashboard(t, b, [], { CLAUDECODE: "1" });
  assert.equal(JSON.parse((await request(readOnly.port, { path: q(readOnly, "/api/snapshot") })).body).admin, false);
  const allowed = await dashboard(t, b, ["--admin"], { CLAUDECODE: "1", BRIDGE_ADMIN: "1" });
  assert.equal(JSON.parse((await request(allowed.port, { path: q(allowed, "/api/snapshot") })).body).admin, true);
});

test("read-only by default: the settings actions answer 403 and change nothing", async (t) => {
  const b = box(t);
  const d = await dashboard(t, b);
  const headers = { "X-Bridge-Token": d.token, "Content-Type": "application/json", Origin: `http://127.0.0.1:${d.port}` };
  for (const [path, body] of [
    ["/api/automation", { enabled: true }],
    ["/api/role-mode", { project: "shop", role: "web", mode: "auto" }],
  ] as const) {
    const r = await request(d.port, { method: "POST", path: q(d, path), headers, body: JSON.stringify(body) });
    assert.equal(r.status, 403, path);
    assert.equal(JSON.parse(r.body).error.code, "E_ADMIN_ONLY");
  }
  assert.equal(existsSync(join(b.root, "bridge-settings.json")), false);
});

test("with --admin a change needs the header token, JSON from this origin, and a valid request; then it is the CLI's change", async (t) => {
  const b = box(t);
  const d = await dashboard(t, b, ["--admin"]);
  const good = {
    "X-Bridge-Token": d.token,
    "Content-Type": "application/json",
    Origin: `http://127.0.0.1:${d.port}`,
    "Sec-Fetch-Site": "same-origin",
  };
  const post = (path: string, body: string, headers: Record<string, string> = good) =>
    request(d.port, { method: "POST", path: q(d, path), headers, body });
  const { "X-Bridge-Token": _, ...noHeaderToken } = good;
  assert.equal((await post("/api/automation", '{"enabled":true}', noHeaderToken)).status, 403);
  assert.equal((await post("/api/automation", '{"enabled":true}', { ...good, "X-Bridge-Token": "x".repeat(32) })).status, 403);
  // What a plain HTML form could send: refused before it is read.
  assert.equal(
    (await post("/api/automation", "enabled=true", { ...good, "Content-Type": "application/x-www-form-urlencoded" })).status,
    415,
  );
  assert.equal((await post("/api/automation", '{"enabled":true}', { ...good, "Content-Type": "text/plain" })).status, 415);
  assert.equal((await request(d.port, { method: "GET", path: q(d, "/api/automation") })).status, 405);
  const bad: [string, string, RegExp][] = [
    ["/api/automation", "{", /not JSON/],
    ["/api/automation", "[]", /must be a JSON object/],
    ["/api/automation", '{"enabled":"yes"}', /"enabled" must be true or false/],
    ["/api/automation", '{"enabled":true,"maxHops":99}', /unknown field "maxHops"/],
    ["/api/role-mode", '{"project":"shop","role":"../x","mode":"auto"}', /invalid role name/],
    ["/api/role-mode", '{"project":"shop","role":"web","mode":"sometimes"}', /"mode" must be "auto" or "manual"/],
  ];
  for (const [path, body, message] of bad) {
    const r = await post(path, body);
    assert.equal(r.status, 400, body);
    assert.match(JSON.parse(r.body).error.message, message);
  }
  assert.equal((await post("/api/automation", JSON.stringify({ enabled: true, pad: "x".repeat(9000) }))).status, 413);
  assert.equal(existsSync(join(b.root, "bridge-settings.json")), false, "no refused request changed anything");

  const on = await post("/api/automation", '{"enabled":true}');
  assert.equal(on.status, 200);
  assert.deepEqual(JSON.parse(on.body), {
    changes: ['defaultMode: "manual" → "auto"', "enabled: false → true"],
    text: 'changed:\n  defaultMode: "manual" → "auto"\n  enabled: false → true',
  });
  assert.deepEqual(config(b), { enabled: true, defaultMode: "auto" }, "the same file `spawner on` writes");
  assert.equal(JSON.parse((await post("/api/automation", '{"enabled":true}')).body).text, "no change: the settings already were so");
  const mode = await post("/api/role-mode", '{"project":"shop","role":"web","mode":"manual"}');
  assert.equal(JSON.parse(mode.body).text, 'changed:\n  projects.shop.roles.web.mode: (unset) → "manual"');
  const off = await post("/api/automation", '{"enabled":false}');
  assert.deepEqual(JSON.parse(off.body).changes, ["enabled: true → false"]);
  assert.deepEqual(config(b), { enabled: false, defaultMode: "auto", projects: { shop: { roles: { web: { mode: "manual" } } } } });
  // The CLI sees the same settings.
  assert.match(ok(b, ["spawner", "status"]), /automation: off; default mode auto/);
  // A broken settings file is reported, never overwritten.
  writeFileSync(join(b.root, "bridge-settings.json"), "{ nope");
  const broken = await post("/api/automation", '{"enabled":true}');
  assert.equal(broken.status, 400);
  assert.equal(JSON.parse(broken.body).error.code, "E_CONFIG");
  assert.equal(readFileSync(join(b.root, "bridge-settings.json"), "utf8"), "{ nope");
});

test("the event stream: a snapshot at once, a new one when a message is sent with the CLI, heartbeats in between", async (t) => {
  const b = box(t);
  send(b, "shop", "web", "backend", "first");
  const d = await dashboard(t, b, [], { BRIDGE_DASHBOARD_HEARTBEAT_MS: "100" });
  const stream = await openEvents(d.port, d.token);
  defer(t, () => stream.close());
  assert.equal(stream.status, 200);
  const first = await waitFor("the first snapshot", () => stream.snapshots()[0]);
  assert.deepEqual(
    first.projects[0].messages.map((m: { body: string }) => m.body),
    ["first"],
  );
  const sent = send(b, "shop", "backend", "web", "second, live");
  const next = await waitFor("a snapshot with the new message", () =>
    stream.snapshots().find((s) => s.projects[0].messages.some((m: { id: string }) => m.id === sent.id)),
  );
  assert.equal(next.projects[0].messages[0].body, "second, live", "newest first");
  await waitFor("a heartbeat", () => stream.raw().includes("\n: ping\n"));
  const count = stream.snapshots().length;
  await waitFor("two more heartbeats", () => stream.raw().split(": ping").length >= 4);
  assert.equal(stream.snapshots().length, count, "nothing changed, so no new snapshot");
  // Without the token the stream is refused like everything else.
  assert.equal((await openEvents(d.port, "wrong-token")).status, 403);
});

test("watches are held only while a page is open, and SIGTERM ends open streams and exits 0", async (t) => {
  const b = box(t);
  send(b, "shop", "web", "backend", "hello");
  const d = await dashboard(t, b);
  const pid = d.child.pid!;
  assert.equal(inotifyWatches(pid), 0, "no page open: nothing watched");
  const one = await openEvents(d.port, d.token);
  const two = await openEvents(d.port, d.token);
  await waitFor("watches while pages are open", () => inotifyWatches(pid) >= 5);
  one.close();
  await waitFor("the snapshot reached the second page", () => two.snapshots().length > 0);
  assert.ok(inotifyWatches(pid) >= 5, "one page still open: still watching");
  two.close();
  await waitFor("all watches released once the last page left", () => inotifyWatches(pid) === 0);
  const three = await openEvents(d.port, d.token);
  await waitFor("a snapshot", () => three.snapshots().length > 0);
  assert.equal(await d.stop(), 0);
  assert.ok(three.raw().includes("event: snapshot"));
});

test("--open hands the URL to xdg-open, or says there is none; --json and --help", async (t) => {
  const b = box(t);
  const opened = join(b.dir, "opened.txt");
  writeFileSync(join(b.bin, "xdg-open"), `#!/bin/sh\nprintf '%s' "$1" > "${opened}"\n`);
  chmodSync(join(b.bin, "xdg-open"), 0o755);
  const d = await dashboard(t, b, ["--open"]);
  await waitFor("xdg-open to be called", () => existsSync(opened) && readFileSync(opened, "utf8") === d.url);
  const none = await dashboard(t, b, ["--open"], { PATH: join(b.dir, "empty") });
  await waitFor("the note", () => /--open: no xdg-open on PATH; open the URL above in your browser/.test(none.stderr()));
  const r = cli(b, ["dashboard", "--json", "--port", "abc"]);
  assert.equal(JSON.parse(r.stderr).error.code, "E_USAGE");
  assert.match(ok(b, ["dashboard", "--help"]), /usage: session-bridge dashboard \[--port N\] \[--open\] \[--admin\] \[--json\]/);
  assert.match(ok(b, ["--help"]), /dashboard \[--port N\] \[--open\] \[--admin\]/);
  assert.equal(cli(b, ["dashboard", "now"]).status, 2);
});

test("--json prints the URL, port, mode and root as one JSON line", async (t) => {
  const b = box(t);
  const child = spawn(process.execPath, [BIN, "dashboard", "--json"], { env: baseEnv(b), stdio: ["ignore", "pipe", "ignore"] });
  defer(t, () => child.kill("SIGTERM"));
  let out = "";
  child.stdout!.setEncoding("utf8").on("data", (x: string) => (out += x));
  const line = await waitFor("the JSON line", () => out.includes("\n") && out);
  const info = JSON.parse(line);
  assert.equal(info.admin, false);
  assert.equal(info.root, b.root);
  assert.equal(info.url, `http://127.0.0.1:${info.port}/?token=${new URL(info.url).searchParams.get("token")}`);
});
