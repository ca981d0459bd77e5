// The rails as a pure function: every refusal code, the order of the checks, and clock jumps.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decideWake, IN_FLIGHT_LIMIT_MS, withWake } from "../../src/wake/rails.ts";
import { wakerOf } from "../../src/wake/chain.ts";
import type { RefusalCode, WakeDecision, WakeHistory, WakeFacts } from "../../src/wake/rails.ts";
import { defaultSettings } from "../../src/settings/schema.ts";
import type { Settings } from "../../src/settings/schema.ts";
import type { Message } from "../../src/bus/message.ts";

const NOW = Date.parse("2026-01-01T12:00:00Z");
const MIN = 60_000;

function msg(hop: number, chain = "cA", id = `m${hop}${chain}`): Message {
  return { id, ts: new Date(NOW).toISOString(), project: "shop", from: "web", to: "backend", body: "hi", chain, hop };
}

function on(patch: Partial<Settings> = {}): Settings {
  return { ...defaultSettings(), enabled: true, defaultMode: "auto", cooldownSeconds: 10, rateLimitPerMinute: 3, maxHops: 4, ...patch };
}

function request(patch: Partial<WakeFacts> = {}): WakeFacts {
  return {
    settings: on(),
    project: "shop",
    role: "backend",
    batch: [msg(0)],
    history: { recent: [] },
    now: NOW,
    target: { ok: true },
    ...patch,
  };
}

function code(d: WakeDecision): RefusalCode | "wake" {
  return d.wake ? "wake" : d.code;
}

function refused(d: WakeDecision): Extract<WakeDecision, { wake: false }> {
  assert.equal(d.wake, false, `expected a refusal, got ${JSON.stringify(d)}`);
  return d as Extract<WakeDecision, { wake: false }>;
}

test("an empty batch is nothing-new, before anything else (even with automation off)", () => {
  assert.equal(code(decideWake(request({ batch: [], settings: defaultSettings() }))), "nothing-new");
  assert.equal(code(decideWake(request({ batch: [] }))), "nothing-new");
});

test("out of the box nothing is woken: off, and the reason says how to turn it on", () => {
  const d = refused(decideWake(request({ settings: defaultSettings() })));
  assert.equal(d.code, "off");
  assert.match(d.reason, /spawner on/);
  assert.equal(d.retryAt, undefined);
});

test("master switch off beats every per-role mode", () => {
  const settings = on({ enabled: false, projects: { shop: { mode: "auto", roles: { backend: { mode: "auto" } } } } });
  assert.equal(code(decideWake(request({ settings }))), "off");
});

test("enabled but manual by default: manual, naming the opt-in command", () => {
  const d = refused(decideWake(request({ settings: on({ defaultMode: "manual" }) })));
  assert.equal(d.code, "manual");
  assert.match(d.reason, /spawner on shop backend/);
});

test("infra and qa stay manual under global and project auto until opted in by name", () => {
  for (const role of ["infra", "qa"]) {
    const settings = on({ projects: { shop: { mode: "auto" } } });
    const d = refused(decideWake(request({ role, settings })));
    assert.equal(d.code, "manual");
    assert.match(d.reason, new RegExp(`spawner on shop ${role}`));
    const named = on({ projects: { shop: { mode: "auto", roles: { [role]: { mode: "auto" } } } } });
    assert.equal(code(decideWake(request({ role, settings: named }))), "wake");
  }
});

test("defaultOffRoles is configurable", () => {
  assert.equal(code(decideWake(request({ role: "infra", settings: on({ defaultOffRoles: [] }) }))), "wake");
  assert.equal(code(decideWake(request({ role: "backend", settings: on({ defaultOffRoles: ["backend"] }) }))), "manual");
});

test("per-project and per-role modes: the role's own mode wins, then the project's, then the default", () => {
  assert.equal(code(decideWake(request({ settings: on({ projects: { shop: { mode: "manual" } } }) }))), "manual");
  assert.equal(
    code(decideWake(request({ settings: on({ projects: { shop: { mode: "manual", roles: { backend: { mode: "auto" } } } } }) }))),
    "wake",
  );
  assert.equal(code(decideWake(request({ settings: on({ defaultMode: "manual", projects: { shop: { mode: "auto" } } }) }))), "wake");
  assert.equal(code(decideWake(request({ settings: on({ projects: { shop: { roles: { backend: { mode: "manual" } } } } }) }))), "manual");
  // Another project's settings do not leak.
  assert.equal(
    code(decideWake(request({ project: "blog", settings: on({ defaultMode: "manual", projects: { shop: { mode: "auto" } } }) }))),
    "manual",
  );
});

test("loop guard: hop maxHops-1 wakes, hop maxHops is refused, naming chain, hop and maxHops", () => {
  assert.equal(code(decideWake(request({ batch: [msg(3)] }))), "wake");
  const d = refused(decideWake(request({ batch: [msg(4, "cLoop")] })));
  assert.equal(d.code, "hops");
  assert.match(d.reason, /chain cLoop reached hop 4 \(maxHops 4\)/);
  assert.match(d.reason, /typed by a human/);
  assert.equal(d.retryAt, undefined, "a hop refusal is final: time never lifts it");
  assert.equal(code(decideWake(request({ batch: [msg(9)] }))), "hops");
});

test("loop guard counts hops, not time: a reply arriving hours later is still refused", () => {
  const d = decideWake(request({ batch: [msg(4)], now: NOW + 10 * 3600_000, history: { recent: [NOW], lastWakeAt: NOW } }));
  assert.equal(code(d), "hops");
});

test("a mixed batch wakes with the highest eligible hop and names every message", () => {
  const batch = [msg(1, "cA", "m1"), msg(5, "cB", "m2"), msg(2, "cC", "m3")];
  const d = decideWake(request({ batch }));
  assert.deepEqual(d, { wake: true, chain: "cC", hop: 2, ids: ["m1", "m2", "m3"] });
});

test("busy while a wake is in flight, not once the mark is older than the limit", () => {
  const busy = refused(decideWake(request({ history: { recent: [], inFlightSince: NOW - 1000 } })));
  assert.equal(busy.code, "busy");
  assert.match(busy.reason, /follow-up/);
  assert.equal(busy.retryAt, NOW - 1000 + IN_FLIGHT_LIMIT_MS);
  assert.equal(code(decideWake(request({ history: { recent: [], inFlightSince: NOW - IN_FLIGHT_LIMIT_MS } }))), "wake");
  assert.equal(code(decideWake(request({ history: { recent: [], inFlightSince: NOW - 3 * IN_FLIGHT_LIMIT_MS } }))), "wake");
});

test("clock jumps: an in-flight mark from the far future never holds the role", () => {
  // The clock went back a day after the mark was written: waiting for "now - mark" to reach the
  // limit would hold the role for a day.
  assert.equal(code(decideWake(request({ history: { recent: [], inFlightSince: NOW + 24 * 3600_000 } }))), "wake");
  assert.equal(code(decideWake(request({ history: { recent: [], inFlightSince: NOW + 2 * MIN } }))), "wake");
  // A small jump back keeps a genuinely running wake busy.
  assert.equal(code(decideWake(request({ history: { recent: [], inFlightSince: NOW + 5000 } }))), "busy");
});

test("cooldown: refused inside the window with the exact retry time, free at its end", () => {
  const d = refused(decideWake(request({ history: { recent: [NOW - 4000], lastWakeAt: NOW - 4000 } })));
  assert.equal(d.code, "cooldown");
  assert.equal(d.retryAt, NOW + 6000);
  assert.match(d.reason, /4 s ago \(cooldownSeconds 10\)/);
  assert.equal(code(decideWake(request({ history: { recent: [NOW - 10_000], lastWakeAt: NOW - 10_000 } }))), "wake");
  assert.equal(code(decideWake(request({ settings: on({ cooldownSeconds: 0 }), history: { recent: [NOW], lastWakeAt: NOW } }))), "wake");
  // Fractional seconds are allowed (tests use them).
  const frac = refused(
    decideWake(request({ settings: on({ cooldownSeconds: 0.5 }), history: { recent: [NOW - 100], lastWakeAt: NOW - 100 } })),
  );
  assert.equal(frac.retryAt, NOW + 400);
});

test("clock jumps: a last-wake stamp from the future or the far past never blocks", () => {
  assert.equal(code(decideWake(request({ history: { recent: [], lastWakeAt: NOW + 5000 } }))), "wake");
  assert.equal(code(decideWake(request({ history: { recent: [], lastWakeAt: NOW + 365 * 24 * 3600_000 } }))), "wake");
  assert.equal(code(decideWake(request({ history: { recent: [], lastWakeAt: 0 } }))), "wake");
});

test("rate limit: refused at the limit with the exact time a slot frees", () => {
  const recent = [NOW - 50_000, NOW - 30_000, NOW - 20_000];
  const d = refused(decideWake(request({ history: { recent } })));
  assert.equal(d.code, "rate");
  assert.match(d.reason, /3 wakes in the last minute \(rateLimitPerMinute 3\)/);
  assert.equal(d.retryAt, NOW - 50_000 + MIN);
  assert.equal(code(decideWake(request({ history: { recent }, now: d.retryAt! }))), "wake");
  assert.equal(code(decideWake(request({ history: { recent: recent.slice(1) } }))), "wake");
  // A stamp exactly a minute old has left the window.
  assert.equal(code(decideWake(request({ history: { recent: [NOW - MIN, NOW - 1, NOW - 2] } }))), "wake");
});

test("rate limit lowered below the count: the retry time is when the count drops under it", () => {
  const recent = [NOW - 55_000, NOW - 40_000, NOW - 30_000, NOW - 10_000, NOW - 5_000];
  const d = refused(decideWake(request({ settings: on({ rateLimitPerMinute: 2 }), history: { recent } })));
  assert.equal(d.retryAt, NOW - 10_000 + MIN);
  const at = d.retryAt!;
  assert.equal(code(decideWake(request({ settings: on({ rateLimitPerMinute: 2 }), history: { recent }, now: at - 1 }))), "rate");
  assert.equal(code(decideWake(request({ settings: on({ rateLimitPerMinute: 2 }), history: { recent }, now: at }))), "wake");
});

test("clock jumps: rate stamps from the far future or far past are not counted; near-future ones are, and free on time", () => {
  const far = NOW + 24 * 3600_000;
  assert.equal(code(decideWake(request({ history: { recent: [far, far, far, far] } }))), "wake");
  assert.equal(code(decideWake(request({ history: { recent: [1, 2, 3, 4] } }))), "wake");
  const near = [NOW + 10_000, NOW + 20_000, NOW + 30_000];
  const d = refused(decideWake(request({ history: { recent: near } })));
  assert.equal(d.code, "rate");
  assert.equal(d.retryAt, NOW + 10_000 + MIN);
  assert.equal(code(decideWake(request({ history: { recent: near }, now: d.retryAt! }))), "wake");
});

test("no target: refused with the driver's reason, only after every other rail passed", () => {
  const d = refused(decideWake(request({ target: { ok: false, reason: "pane %3 is gone" } })));
  assert.equal(d.code, "no-target");
  assert.equal(d.reason, "pane %3 is gone");
  assert.equal(d.retryAt, undefined);
});

test("order of checks: nothing-new, off/manual, hops, busy, cooldown, rate, no-target, then wake", () => {
  // Start with a request failing every rail, then lift one at a time: each lift reveals the next.
  const worst: WakeFacts = request({
    settings: on({ enabled: false }),
    batch: [msg(4)],
    history: { recent: [NOW - 3, NOW - 2, NOW - 1], lastWakeAt: NOW - 1, inFlightSince: NOW - 1 },
    target: { ok: false, reason: "no pane" },
  });
  const lifts: Array<[RefusalCode | "wake", (r: WakeFacts) => WakeFacts]> = [
    ["off", (r) => r],
    ["manual", (r) => ({ ...r, settings: { ...r.settings, enabled: true, defaultMode: "manual" } })],
    ["hops", (r) => ({ ...r, settings: { ...r.settings, defaultMode: "auto" } })],
    ["busy", (r) => ({ ...r, batch: [msg(0)] })],
    ["cooldown", (r) => ({ ...r, history: { ...r.history, inFlightSince: undefined } as WakeHistory })],
    ["rate", (r) => ({ ...r, history: { recent: r.history.recent } })],
    ["no-target", (r) => ({ ...r, history: { recent: [] } })],
    ["wake", (r) => ({ ...r, target: { ok: true } })],
  ];
  let current = worst;
  assert.equal(code(decideWake({ ...worst, batch: [] })), "nothing-new");
  for (const [expected, lift] of lifts) {
    current = lift(current);
    assert.equal(code(decideWake(current)), expected);
  }
});

test("every refusal carries a reason; timed refusals carry a retry time in the future", () => {
  const cases: WakeFacts[] = [
    request({ settings: defaultSettings() }),
    request({ settings: on({ defaultMode: "manual" }) }),
    request({ batch: [msg(7)] }),
    request({ history: { recent: [], inFlightSince: NOW } }),
    request({ history: { recent: [NOW], lastWakeAt: NOW } }),
    request({ settings: on({ cooldownSeconds: 0 }), history: { recent: [NOW, NOW, NOW] } }),
    request({ target: { ok: false, reason: "x" } }),
  ];
  for (const r of cases) {
    const d = refused(decideWake(r));
    assert.ok(d.reason.length > 0, d.code);
    if (d.code === "busy" || d.code === "cooldown" || d.code === "rate") assert.ok(d.retryAt! > r.now, d.code);
    else assert.equal(d.retryAt, undefined, d.code);
  }
});

test("never wedged: following retryAt from any history, wherever its stamps lie, reaches a wake", () => {
  // Deterministic pseudo-random histories with stamps spread from the far past to the far future.
  let seed = 42;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const spread = (): number => NOW + Math.round((rand() - 0.5) * 2 * [5_000, 90_000, 7_200_000, 86_400_000 * 30][Math.floor(rand() * 4)]!);
  for (let round = 0; round < 500; round++) {
    const history: WakeHistory = { recent: Array.from({ length: Math.floor(rand() * 30) }, spread) };
    if (rand() < 0.5) history.lastWakeAt = spread();
    if (rand() < 0.3) history.inFlightSince = spread();
    const settings = on({ rateLimitPerMinute: 1 + Math.floor(rand() * 12), cooldownSeconds: Math.floor(rand() * 120) });
    let now = NOW;
    let steps = 0;
    for (;;) {
      const d = decideWake(request({ settings, history, now }));
      if (d.wake) break;
      assert.ok(d.retryAt !== undefined && d.retryAt > now, `round ${round}: ${d.code} without a future retry time`);
      now = d.retryAt;
      assert.ok(++steps < 100, `round ${round}: no wake after 100 retries`);
      assert.ok(now - NOW <= IN_FLIGHT_LIMIT_MS + 3 * MIN + 120_000, `round ${round}: wake deferred past any rail's horizon`);
    }
  }
});

test("withWake appends now, sets lastWakeAt and prunes stamps outside the minute (both directions)", () => {
  const h = withWake({ recent: [NOW - MIN - 1, NOW - 1000, NOW + 2 * MIN], inFlightSince: 5 }, NOW);
  assert.deepEqual(h.recent, [NOW - 1000, NOW]);
  assert.equal(h.lastWakeAt, NOW);
  assert.equal(h.inFlightSince, 5, "withWake leaves the in-flight mark to its caller");
});

test("wakerOf: the highest hop under maxHops; none when every message reached it", () => {
  const batch = [msg(1, "cA", "m1"), msg(6, "cDead", "m2"), msg(3, "cB", "m3")];
  assert.equal(wakerOf(batch, 4)!.id, "m3");
  assert.equal(wakerOf(batch, 2)!.id, "m1");
  assert.equal(wakerOf([msg(4), msg(5)], 4), undefined);
  assert.equal(wakerOf([], 4), undefined);
});
