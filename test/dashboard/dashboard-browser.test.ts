// The dashboard in a real browser (Debian's Chromium through playwright-core), as a user sees it:
// rooms and roles, the timeline, a message sent with the CLI appearing without a reload, a
// <script> body shown as text, filters, and the admin buttons absent or working.
import { test } from "node:test";
import type { TestContext } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { rolePaths } from "../../src/bus/layout.ts";
import { recordWakeDecision } from "../../src/wake/state.ts";
import { chromiumMissing, launchChromium } from "../helpers/browser.ts";
import { deferrer, startDashboard } from "../helpers/dashboard.ts";
import type { DashboardProc } from "../helpers/dashboard.ts";
import { sandbox, send } from "../helpers/spawner.ts";
import type { Sandbox } from "../helpers/spawner.ts";

const skip = chromiumMissing();

interface Opened {
  box: Sandbox;
  dashboard: DashboardProc;
  browser: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors (a CSP violation shows up here). */
  errors: string[];
}

/** Everything started here is stopped when the test ends, whatever happened. */
async function open(t: TestContext, seed: (box: Sandbox) => void, args: string[] = []): Promise<Opened> {
  const defer = deferrer(t);
  const box = sandbox();
  defer(() => box.cleanup());
  seed(box);
  const dashboard = await startDashboard(box, args);
  defer(() => dashboard.stop());
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
  return { box, dashboard, browser, page, errors };
}

const EVIL = `<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> & "quotes" are fine`;

test("rooms, roles and the timeline; a CLI send appears live without a reload; a <script> body is only text", { skip }, async (t) => {
  let hello = "";
  let evil = "";
  const { box, page, errors } = await open(t, (b) => {
    hello = send(b, "shop", "web", "backend", "hello backend").id;
    evil = send(b, "shop", "backend", "web", EVIL).id;
    send(b, "shop", "infra", "web", "staging is up");
    recordWakeDecision(
      rolePaths(b.root, "shop", "web"),
      () => ({ wake: false, code: "hops", reason: "loop guard: chain c1 reached hop 6 (maxHops 6)" }),
      { driver: "tmux" },
    );
  });
  const room = page.getByTestId("room-shop");
  await room.waitFor();
  for (const r of ["backend", "infra", "web"]) await page.getByTestId(`role-shop-${r}`).waitFor();
  assert.equal(await page.getByTestId("role-shop-infra").getByTestId("mode").textContent(), "default-off");
  assert.equal(await page.getByTestId("role-shop-web").getByTestId("mode").textContent(), "manual");
  assert.equal(await page.getByTestId("role-shop-web").getByTestId("unread").textContent(), "2 unread");
  assert.match(
    (await page.getByTestId("role-shop-web").getByTestId("refusal").textContent()) ?? "",
    /not woken .* \(hops\): loop guard: chain c1 reached hop 6/,
  );
  assert.match((await page.getByTestId("role-shop-web").getByTestId("where").textContent()) ?? "", /offline/);
  assert.equal(await page.locator('[data-testid^="msg-"]').count(), 3);
  assert.equal(await page.getByTestId("daemon").textContent(), "not running");
  assert.equal(await page.locator("[data-admin]").count(), 0, "read-only: no admin buttons");

  // The body of a message is text, whatever it contains.
  await page.getByTestId(`msg-${evil}`).click();
  const body = page.getByTestId("detail-body");
  await body.waitFor();
  assert.equal(await body.textContent(), EVIL);
  assert.equal(await body.locator("*").count(), 0, "no element was made from the body");
  assert.equal(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned), undefined);
  assert.equal(await page.locator('img[src="x"]').count(), 0);

  // Live: a message sent from a shell shows up on the same page, without a reload.
  await page.evaluate(() => ((globalThis as { __same?: number }).__same = 42));
  const live = send(box, "shop", "web", "infra", "new from the CLI").id;
  await page.getByTestId(`msg-${live}`).waitFor({ timeout: 15_000 });
  assert.equal(await page.evaluate(() => (globalThis as { __same?: number }).__same), 42, "the same page, not reloaded");
  assert.equal(await page.locator('[data-testid^="msg-"]').first().getAttribute("data-id"), live, "newest first");
  assert.equal(await page.getByTestId("detail-body").textContent(), EVIL, "the selection survives the update");

  // Filters: by role, then by chain.
  await page.getByTestId("filter-role").selectOption("infra");
  await waitForCount(page, '[data-testid^="msg-"]', 2);
  await page.getByTestId("filter-role").selectOption("");
  await page.getByTestId("filter-chain").selectOption({ index: 1 });
  await waitForCount(page, '[data-testid^="msg-"]', 1);
  await page.getByTestId("filter-chain").selectOption("");
  await waitForCount(page, '[data-testid^="msg-"]', 4);
  await page.getByTestId(`msg-${hello}`).click();
  assert.equal(await page.getByTestId("detail-body").textContent(), "hello backend");
  assert.deepEqual(errors, [], "no console errors, no CSP violations");
});

const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

test("control, C1 and bidi characters are shown escaped, as on a terminal; a failed run's last lines show on its role", {
  skip,
}, async (t) => {
  const body = "safe \u202egnirts desrever\u202c and \u001b[31mred\u001b[0m and \u0085next\ttab\nline two";
  let id = "";
  const { page, errors } = await open(t, (b) => {
    id = send(b, "shop", "web", "backend", body).id;
    const runs = join(b.root, "spawner", "runs");
    mkdirSync(runs, { recursive: true });
    const log = join(runs, "20261123T100211.000Z-shop-backend.log");
    writeFileSync(
      log,
      '# session-bridge spawn run, 2026-11-23T10:02:11Z\n# cwd: /src\n# ["claude","-p"]\n# chain c1 hop 1\n\u001b[31mError\u001b[0m\nNot logged in · Please run /login\n\n# exit 1 after 4.6 s\n',
    );
    const at = new Date().toISOString();
    writeFileSync(
      join(b.root, "spawner", "state.json"),
      JSON.stringify({
        positions: {},
        runs: {},
        lastRuns: { "shop/backend": { log, startedAt: at, endedAt: at, outcome: "exit 1 after 4.6 s" } },
      }),
    );
  });
  await page.getByTestId(`msg-${id}`).click();
  const detail = page.getByTestId("detail-body");
  await detail.waitFor();
  assert.equal(
    await detail.textContent(),
    "safe \\u{202e}gnirts desrever\\u{202c} and \\u{1b}[31mred\\u{1b}[0m and \\u{85}next\ttab\nline two",
  );
  assert.match((await page.locator(`[data-testid="msg-${id}"] .t-prev`).textContent()) ?? "", /^safe \\u\{202e\}gnirts/);
  // Every text node and attribute of the page (the DOM typings are not loaded here: a string).
  const raw = (await page.evaluate(`(() => {
    const re = new RegExp(${JSON.stringify(UNSAFE.source)});
    const hits = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) if (re.test(n.textContent)) hits.push("text: " + n.textContent.slice(0, 80));
    for (const e of document.querySelectorAll("*")) for (const a of e.attributes) if (re.test(a.value)) hits.push(e.tagName + " " + a.name);
    return hits;
  })()`)) as string[];
  assert.deepEqual(raw, [], "no raw control, C1 or bidi character anywhere on the page");
  const run = page.getByTestId("role-shop-backend").getByTestId("last-run");
  assert.match(
    (await run.textContent()) ?? "",
    /^last run .*: exit 1 after 4\.6 s\\u\{1b\}\[31mError\\u\{1b\}\[0m\nNot logged in · Please run \/login$/,
  );
  assert.deepEqual(errors, []);
});

test("with --admin the buttons switch automation and a role's mode through the CLI's write path", { skip }, async (t) => {
  const { box, page, errors } = await open(t, (b) => void send(b, "shop", "web", "backend", "hi"), ["--admin"]);
  const config = (): Record<string, unknown> => JSON.parse(readFileSync(join(box.root, "bridge-settings.json"), "utf8"));
  assert.equal(await page.getByTestId("automation").textContent(), "automation off");
  const toggle = page.getByTestId("admin-automation");
  assert.equal(await toggle.textContent(), "Turn automation on");
  await toggle.click();
  await page.locator('[data-testid="notice"]:not([hidden])').waitFor();
  assert.equal(await page.locator("#notice-text").textContent(), 'changed:\n  defaultMode: "manual" → "auto"\n  enabled: false → true');
  await page.locator('[data-testid="automation"]', { hasText: "automation on" }).waitFor();
  assert.deepEqual(config(), { enabled: true, defaultMode: "auto" });
  assert.equal(await page.getByTestId("role-shop-web").getByTestId("mode").textContent(), "auto");

  const mode = page.getByTestId("admin-mode-shop-web");
  assert.equal(await mode.textContent(), "Set manual");
  await mode.click();
  await page.locator("#notice-text", { hasText: 'projects.shop.roles.web.mode: (unset) → "manual"' }).waitFor();
  await page.getByTestId("admin-mode-shop-web").filter({ hasText: "Set auto" }).waitFor();
  assert.equal(await page.getByTestId("role-shop-web").getByTestId("mode").textContent(), "manual");
  assert.deepEqual(config(), { enabled: true, defaultMode: "auto", projects: { shop: { roles: { web: { mode: "manual" } } } } });

  await page.getByTestId("admin-automation").click();
  await page.locator('[data-testid="automation"]', { hasText: "automation off" }).waitFor();
  assert.equal(config().enabled, false);

  // A refused change is shown with its reason, and the file is left as it was.
  writeFileSync(join(box.root, "bridge-settings.json"), "{ nope");
  await page.locator('[data-testid="automation"]', { hasText: "settings file invalid" }).waitFor();
  await page.getByTestId("admin-automation").click();
  await page.locator("#notice-text", { hasText: "E_CONFIG" }).waitFor();
  assert.match((await page.locator("#notice-text").textContent()) ?? "", /E_CONFIG: .*bridge-settings\.json is not valid JSON/);
  assert.equal(readFileSync(join(box.root, "bridge-settings.json"), "utf8"), "{ nope");
  // Browsers log failed requests (this 400) to the console; nothing else may be there.
  assert.deepEqual(
    errors.filter((e) => !/status of 400/.test(e)),
    [],
  );
});

async function waitForCount(page: Page, selector: string, n: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  let seen = -1;
  while ((seen = await page.locator(selector).count()) !== n) {
    if (Date.now() > deadline) throw new Error(`expected ${n} of ${selector}, saw ${seen}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
