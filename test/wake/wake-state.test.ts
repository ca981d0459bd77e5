// The per-role wake record shared by the daemon and `hook wait`: decisions are made on the stored
// history under the role's lock, wakes and refusals are recorded, and bad data never blocks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureRoleDir, rolePaths } from "../../src/bus/layout.ts";
import type { RolePaths } from "../../src/bus/layout.ts";
import { decideWake } from "../../src/wake/rails.ts";
import type { WakeHistory } from "../../src/wake/rails.ts";
import { defaultSettings } from "../../src/settings/schema.ts";
import { recordWakeDecision, finishWake, readWakeState } from "../../src/wake/state.ts";
import { claimWake } from "../../src/wake/claim.ts";
import type { Message } from "../../src/bus/message.ts";

const settings = { ...defaultSettings(), enabled: true, defaultMode: "auto" as const, rateLimitPerMinute: 2, cooldownSeconds: 5 };
const batch: Message[] = [{ id: "m1", ts: "t", project: "shop", from: "web", to: "backend", body: "b", chain: "c1", hop: 1 }];
const decide = (now: number) => (history: WakeHistory) =>
  decideWake({ settings, project: "shop", role: "backend", batch, history, now, target: { ok: true } });

function withPaths(fn: (paths: RolePaths) => void): () => void {
  return () => {
    const dir = mkdtempSync(join(tmpdir(), "sb-wake-"));
    try {
      const paths = rolePaths(join(dir, "root"), "shop", "backend");
      ensureRoleDir(paths);
      fn(paths);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test(
  "a wake is recorded (rate, cooldown, last wake) and the next decision sees it",
  withPaths((paths) => {
    const t = Date.parse("2026-01-01T00:00:00Z");
    assert.equal(recordWakeDecision(paths, decide(t), { driver: "tmux", now: t }).wake, true);
    const state = readWakeState(paths);
    assert.deepEqual(state.recent, [t]);
    assert.equal(state.lastWakeAt, t);
    assert.deepEqual(state.lastWake, { at: "2026-01-01T00:00:00.000Z", driver: "tmux", chain: "c1", hop: 1, ids: ["m1"] });
    assert.equal(state.inFlightSince, undefined);
    const again = recordWakeDecision(paths, decide(t + 1000), { driver: "spawn", now: t + 1000 });
    assert.equal(again.wake === false && again.code, "cooldown");
    const refusal = readWakeState(paths).lastRefusal!;
    assert.equal(refusal.code, "cooldown");
    assert.equal(refusal.driver, "spawn");
    assert.equal(refusal.retryAt, "2026-01-01T00:00:05.000Z");
  }),
);

test(
  "in flight until finishWake, which notes the outcome on the last wake",
  withPaths((paths) => {
    const t = Date.now();
    recordWakeDecision(paths, decide(t), { driver: "spawn", inFlight: true, now: t });
    assert.equal(readWakeState(paths).inFlightSince, t);
    const busy = recordWakeDecision(paths, decide(t + 10_000), { driver: "spawn", now: t + 10_000 });
    assert.equal(busy.wake === false && busy.code, "busy");
    finishWake(paths, "exit 0 after 1.0 s");
    const state = readWakeState(paths);
    assert.equal(state.inFlightSince, undefined);
    assert.equal(state.lastWake!.detail, "exit 0 after 1.0 s");
  }),
);

test(
  "nothing-new is not recorded; a corrupt wake.json reads as no history",
  withPaths((paths) => {
    const empty = recordWakeDecision(
      paths,
      (h) => decideWake({ settings, project: "shop", role: "backend", batch: [], history: h, now: 0, target: { ok: true } }),
      { driver: "tmux" },
    );
    assert.equal(empty.wake === false && empty.code, "nothing-new");
    assert.deepEqual(readWakeState(paths), { recent: [] });
    writeFileSync(paths.wake, "{not json");
    assert.deepEqual(readWakeState(paths), { recent: [] });
    writeFileSync(paths.wake, JSON.stringify({ recent: ["x", 5, null] }));
    assert.deepEqual(readWakeState(paths).recent, [5]);
    assert.equal(recordWakeDecision(paths, decide(Date.now()), { driver: "tmux" }).wake, true);
  }),
);

test(
  "a claim decides at the time it holds the lock: a wake another driver recorded while it waited counts against the cooldown",
  withPaths((paths) => {
    const claim = (clock: () => number) =>
      claimWake({
        paths,
        driver: "rewake",
        settings,
        project: "shop",
        role: "backend",
        clock,
        target: { ok: true },
        readMail: () => batch,
      });
    // The claimer looked at the clock, then waited for the lock while the daemon woke the role.
    const lookedAt = Date.now() - 50;
    recordWakeDecision(paths, () => ({ wake: true, chain: "c1", hop: 1, ids: ["m0"] }), { driver: "tmux", now: Date.now() });
    const d = claim(Date.now);
    assert.equal(d.wake ? "wake" : d.code, "cooldown");
    // Decided at the earlier reading, the daemon's stamp would be "in the future" and ignored.
    const stale = claim(() => lookedAt);
    assert.equal(stale.wake, true, "the stale clock is what let both wake");
  }),
);
