// The dashboard on the Redis store, in a real browser (Debian's Chromium through playwright-core):
// read as the README's bus user confined to one project's keys, it shows the project named by
// BRIDGE_PROJECT with a role's unread count, a message sent from another "machine" arriving
// without a reload, a read clearing the count, and says what Redis does not show.
import assert from "node:assert/strict";
import { test } from "node:test";
import { chromiumMissing, launchChromium } from "../helpers/browser.ts";
import { deferrer, openEvents, startDashboard } from "../helpers/dashboard.ts";
import { bridge, makeRoot, waitUntil } from "../helpers/cli.ts";
import { freePort, startRedis } from "../helpers/redis.ts";
import { ok, sandbox, send, waitFor } from "../helpers/spawner.ts";

const skip = chromiumMissing();

/** The README's bus user for one project, as redis-server arguments (each ACL rule its own argument). */
const BUS_USER =
  `--user sb-shop on >shop-pw resetkeys ~sb:{shop}:* resetchannels &sb:{shop}:* -@all +@read +@write +@stream +eval +evalsha +time +info +ping +publish`.split(
    " ",
  );

test("on Redis, as a user confined to sb:{shop}:*: unread counts, a message arriving live, a read, and what is not shown", {
  skip,
}, async (t) => {
  const redis = await startRedis(t, ["--requirepass", "admin-only-secret", ...BUS_USER], "admin-only-secret");
  const url = `redis://sb-shop:shop-pw@127.0.0.1:${redis.port}`;
  const defer = deferrer(t);
  const box = sandbox();
  defer(() => box.cleanup());
  // Another machine: its own root, the same Redis.
  const laptop = sandbox();
  defer(() => laptop.cleanup());
  const env = { BRIDGE_URL: url };
  ok(laptop, ["recv", "--project", "shop", "--role", "api"], env);
  const first = send(laptop, "shop", "web", "api", "hello from the laptop", env).id;
  send(laptop, "shop", "web", "api", "second", env);

  const dashboard = await startDashboard(box, [], { ...env, BRIDGE_PROJECT: "shop", BRIDGE_DASHBOARD_POLL_MS: "300" });
  defer(() => dashboard.stop());
  const showing = /showing project\(s\) shop at redis:\/\/sb-shop:\*\*\*@127\.0\.0\.1:\d+ on 127\.0\.0\.1 only/;
  await waitUntil(
    () => showing.test(dashboard.stderr()),
    15_000,
    () => `stderr: ${dashboard.stderr()}`,
  );
  const browser = await launchChromium(box.dir);
  defer(() => browser.close());
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(dashboard.url);
  await page.locator('body[data-state="live"]').waitFor({ timeout: 15_000 });

  await page.getByTestId("room-shop").waitFor();
  const api = page.getByTestId("role-shop-api");
  await api.waitFor();
  assert.equal(await api.getByTestId("unread").textContent(), "2 unread");
  assert.equal(await page.locator('[data-testid^="msg-"]').count(), 2);
  await page.getByTestId(`msg-${first}`).waitFor();
  const notes = (await page.getByTestId("store-notes").textContent()) ?? "";
  assert.match(notes, /come from redis:\/\/sb-shop:\*\*\*@127\.0\.0\.1:\d+; projects shown: shop/);
  assert.match(
    notes,
    /Last wakes and refusals, which the daemons keep in Redis, are not shown here yet: `session-bridge spawner status` shows them/,
  );
  assert.doesNotMatch(notes, /shop-pw/);
  assert.equal(await page.getByTestId("problems").isHidden(), true, "nothing the confined user could not read");

  // Live: a message sent on the other machine shows up on the same page, without a reload.
  await page.evaluate(() => ((globalThis as { __same?: number }).__same = 42));
  const live = send(laptop, "shop", "web", "api", "new from the laptop", env).id;
  await page.getByTestId(`msg-${live}`).waitFor({ timeout: 15_000 });
  await page.locator('[data-testid="role-shop-api"] [data-testid="unread"]', { hasText: "3 unread" }).waitFor({ timeout: 15_000 });
  assert.equal(await page.evaluate(() => (globalThis as { __same?: number }).__same), 42, "the same page, not reloaded");
  assert.equal(await page.locator('[data-testid^="msg-"]').first().getAttribute("data-id"), live, "newest first");

  // A read on the other machine clears the count (no message marks it: the poll does).
  ok(laptop, ["recv", "--project", "shop", "--role", "api"], env);
  await page.locator('[data-testid="role-shop-api"] [data-testid="unread"]').waitFor({ state: "detached", timeout: 15_000 });
  assert.deepEqual(errors, [], "no console errors, no CSP violations");
});

test("on Redis, the dashboard needs the projects named, and an engine away is E_STORE without the password", async (t) => {
  const root = makeRoot(t);
  const away = `redis://bus:s3cret@127.0.0.1:${await freePort()}`;
  const unnamed = bridge(["dashboard"], { root, env: { BRIDGE_URL: away } });
  assert.equal(unnamed.status, 2, unnamed.stderr);
  assert.match(
    unnamed.stderr,
    /E_USAGE: on Redis \(BRIDGE_URL\) the dashboard shows the projects you name.*--project P\[,Q…\] or set BRIDGE_PROJECT/,
  );
  const down = bridge(["dashboard", "--project", "shop,bank"], { root, env: { BRIDGE_URL: away } });
  assert.equal(down.status, 1, down.stderr);
  assert.match(down.stderr, /E_STORE: the store at redis:\/\/bus:\*\*\*@127\.0\.0\.1:\d+ failed: .*nothing was read/);
  assert.doesNotMatch(down.stderr + down.stdout, /s3cret/);
  const bad = bridge(["dashboard", "--project", "a:b"], { root, env: { BRIDGE_URL: away } });
  assert.equal(bad.status, 1, bad.stderr);
  assert.match(bad.stderr, /"a:b"/);
  const onFiles = bridge(["dashboard", "--project", "shop"], { root });
  assert.equal(onFiles.status, 2);
  assert.match(onFiles.stderr, /E_USAGE: --project is for the Redis store \(BRIDGE_URL\)/);
});

test("on Redis, the dashboard's stream says when the engine is away, and shows new mail again after a kill -9 and restart", async (t) => {
  const redis = await startRedis(t);
  const env = { BRIDGE_URL: redis.url };
  const defer = deferrer(t);
  const box = sandbox();
  defer(() => box.cleanup());
  ok(box, ["recv", "--project", "shop", "--role", "api"], env);
  send(box, "shop", "web", "api", "before", env);
  const dashboard = await startDashboard(box, ["--project", "shop"], { ...env, BRIDGE_DASHBOARD_POLL_MS: "300" });
  defer(() => dashboard.stop());
  const events = await openEvents(dashboard.port, dashboard.token);
  defer(() => events.close());
  const latest = () => events.snapshots().at(-1);
  const bodies = () => (latest()?.projects[0]?.messages ?? []).map((m: { body: string }) => m.body);
  await waitFor(
    "the first snapshot",
    () => bodies().includes("before"),
    15_000,
    () => events.raw(),
  );
  await redis.kill9();
  await waitFor(
    "a snapshot naming the engine that is away",
    () => latest()?.problems.some((p: string) => p.includes(`reading project shop at ${redis.url}`) && /E_STORE|failed/.test(p)),
    20_000,
    () => JSON.stringify(latest()?.problems),
  );
  assert.deepEqual(bodies(), ["before"], "what was shown stays shown");
  // Away for longer than the store's client retries on its own (src/store/redis/connect.ts, under a second).
  await new Promise((r) => setTimeout(r, 2500));
  await redis.restart();
  send(box, "shop", "web", "api", "after the restart", env);
  await waitFor(
    "the new message, and no problem left",
    () => bodies().includes("after the restart") && latest()?.problems.length === 0,
    30_000,
    () => `${JSON.stringify(latest()?.problems)}\n${dashboard.stderr()}`,
  );
  assert.equal(latest()?.projects[0]?.roles.find((r: { role: string }) => r.role === "api")?.unread, 2);
});
