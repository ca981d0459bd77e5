// The admin gate (BRIDGE_ADMIN=1) on every settings tool and prompt, checked on the file on disk;
// concurrent admin writers; a corrupt settings file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Room } from "../helpers/mcp.ts";
import type { Bridged } from "../helpers/mcp.ts";

const configOf = (room: Room): Record<string, any> | undefined => {
  const path = join(room.root, "bridge-settings.json");
  return existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : undefined;
};

interface Case {
  what: string;
  run(s: Bridged): Promise<{ text: string; isError: boolean }>;
  /** What the file holds after the admin ran it. */
  expect(config: Record<string, any>): void;
  changed: RegExp;
}

const prompt = (name: string, args: Record<string, string>) => async (s: Bridged) => ({ text: await s.prompt(name, args), isError: false });

const CASES: Case[] = [
  {
    what: "bridge_mode",
    run: (s) => s.call("bridge_mode", { role: "api", mode: "auto" }),
    expect: (c) => assert.equal(c.projects.shop.roles.api.mode, "auto"),
    changed: /projects\.shop\.roles\.api\.mode: \(unset\) → "auto"/,
  },
  {
    what: "bridge_set",
    run: (s) => s.call("bridge_set", { project: "shop", role: "api", cwd: "/srv/api", model: "sonnet", permissionMode: "plan" }),
    expect: (c) => assert.deepEqual(c.projects.shop.roles.api, { cwd: "/srv/api", model: "sonnet", permissionMode: "plan" }),
    changed: /projects\.shop\.roles\.api\.cwd: \(unset\) → "\/srv\/api"/,
  },
  {
    what: "bridge_settings",
    run: (s) =>
      s.call("bridge_settings", {
        enabled: true,
        maxHops: 3,
        rateLimitPerMinute: 5,
        cooldownSeconds: 2.5,
        defaultOffRoles: ["qa"],
        "spawn.maxTurns": 7,
      }),
    expect: (c) =>
      assert.deepEqual(c, {
        enabled: true,
        maxHops: 3,
        rateLimitPerMinute: 5,
        cooldownSeconds: 2.5,
        defaultOffRoles: ["qa"],
        spawn: { maxTurns: 7 },
      }),
    changed: /maxHops: 6 → 3/,
  },
  {
    what: "/set-mode",
    run: prompt("set-mode", { role: "shop/api", mode: "auto" }),
    expect: (c) => assert.equal(c.projects.shop.roles.api.mode, "auto"),
    changed: /projects\.shop\.roles\.api\.mode: \(unset\) → "auto"/,
  },
  {
    what: "/configure-role",
    run: prompt("configure-role", { role: "api", setting: "cwd=/srv/api", setting2: "model=opus" }),
    expect: (c) => assert.deepEqual(c.projects.shop.roles.api, { cwd: "/srv/api", model: "opus" }),
    changed: /projects\.shop\.roles\.api\.model: \(unset\) → "opus"/,
  },
  {
    what: "/set-driver",
    run: prompt("set-driver", { driver: "spawn" }),
    expect: (c) => assert.deepEqual(c, { driver: "spawn" }),
    changed: /driver: "tmux" → "spawn"/,
  },
  {
    what: "/automation",
    run: prompt("automation", { state: "on", project: "shop" }),
    expect: (c) => assert.deepEqual(c, { enabled: true, projects: { shop: { mode: "auto" } } }),
    changed: /enabled: false → true/,
  },
  {
    what: "/set-limits",
    run: prompt("set-limits", { limit: "maxHops=4", limit2: "cooldownSeconds=30" }),
    expect: (c) => assert.deepEqual(c, { maxHops: 4, cooldownSeconds: 30 }),
    changed: /maxHops: 6 → 4/,
  },
];

for (const c of CASES) {
  test(`${c.what}: refused without BRIDGE_ADMIN=1 (nothing written), applied with it (file on disk)`, async (t) => {
    const room = new Room();
    t.after(() => room.cleanup());
    const plain = await room.join("shop", "web");
    const refused = await c.run(plain);
    if (c.what.startsWith("bridge_")) assert.equal(refused.isError, true, refused.text);
    assert.match(refused.text, /only an admin session may do; this session was not started with BRIDGE_ADMIN=1, so nothing was changed/);
    assert.match(refused.text, /BRIDGE_ADMIN=1 BRIDGE_PROJECT=shop BRIDGE_ROLE=web claude/);
    assert.equal(configOf(room), undefined, "nothing was written");

    const admin = await room.join("shop", "web", { BRIDGE_ADMIN: "1" });
    const applied = await c.run(admin);
    assert.equal(applied.isError, false, applied.text);
    assert.match(applied.text, c.changed);
    c.expect(configOf(room)!);
  });
}

test("BRIDGE_ADMIN other than 1 is not admin; reading the settings is allowed to everyone", async (t) => {
  const room = new Room();
  t.after(() => room.cleanup());
  const admin = await room.join("shop", "web", { BRIDGE_ADMIN: "1" });
  await admin.call("bridge_set", { role: "api", model: "haiku" });
  const notAdmin = await room.join("shop", "api", { BRIDGE_ADMIN: "true" });
  assert.equal((await notAdmin.call("bridge_settings", { maxHops: 2 })).isError, true);
  const config = await notAdmin.call("bridge_config");
  assert.equal(config.isError, false);
  assert.match(config.text, /enabled false: automation is off/);
  assert.match(config.text, /- api \(you\): manual — automation is off .*model haiku/);
  assert.match(await notAdmin.prompt("show-config"), /\[session-bridge \/show-config\]\nsession-bridge automation settings/);
  assert.match((await notAdmin.call("bridge_whoami")).text, /admin: no/);
  assert.match((await admin.call("bridge_whoami")).text, /admin: yes/);
});

test("concurrent bridge_set/bridge_settings from two admin servers lose no update", async (t) => {
  const room = new Room();
  t.after(() => room.cleanup());
  const a = await room.join("shop", "web", { BRIDGE_ADMIN: "1" });
  const b = await room.join("shop", "api", { BRIDGE_ADMIN: "1" });
  const N = 25;
  const calls: Promise<{ isError: boolean; text: string }>[] = [];
  for (let i = 0; i < N; i++) {
    calls.push(a.call("bridge_set", { role: `a${i}`, model: `m${i}` }));
    calls.push(b.call("bridge_set", { role: `b${i}`, model: `m${i}` }));
  }
  calls.push(a.call("bridge_settings", { maxHops: 9 }), b.call("bridge_settings", { rateLimitPerMinute: 99 }));
  for (const r of await Promise.all(calls)) assert.equal(r.isError, false, r.text);
  const config = configOf(room)!;
  assert.equal(Object.keys(config.projects.shop.roles).length, 2 * N);
  assert.equal(config.maxHops, 9);
  assert.equal(config.rateLimitPerMinute, 99);
});

test("invalid settings are rejected with the key named, and nothing is saved", async (t) => {
  const room = new Room();
  t.after(() => room.cleanup());
  const admin = await room.join("shop", "web", { BRIDGE_ADMIN: "1" });
  const range = await admin.call("bridge_settings", { maxHops: 0, enabled: true });
  assert.equal(range.isError, true);
  assert.match(range.text, /E_CONFIG: not saved: "maxHops" must be an integer from 1 to 100 \(got 0\)/);
  const type = await admin.call("bridge_settings", { enabled: "yes" });
  assert.match(type.text, /E_USAGE: invalid arguments for bridge_settings: "enabled" must be a boolean or null \(got "yes"\)/);
  const unknown = await admin.call("bridge_settings", { enabeld: true });
  assert.match(unknown.text, /unknown argument "enabeld" \(known arguments: enabled, defaultMode, /);
  const empty = await admin.call("bridge_settings", {});
  assert.match(empty.text, /E_USAGE: nothing to set/);
  const cwd = await admin.call("bridge_set", { role: "api", cwd: "relative/path" });
  assert.match(cwd.text, /"projects\.shop\.roles\.api\.cwd" must be an absolute path/);
  const mode = await admin.call("bridge_mode", { role: "api", mode: "sometimes" });
  assert.match(mode.text, /"mode" must be one of "auto", "manual"/);
  const badRole = await admin.call("bridge_mode", { role: "no/slash", mode: "auto" });
  assert.match(badRole.text, /E_BAD_NAME: invalid role name "no\/slash"/);
  const limits = await admin.prompt("set-limits", { limit: "nudgePrompt=hi" });
  assert.match(limits, /not changed: E_USAGE: "nudgePrompt" cannot be set here \(keys: maxHops, /);
  const state = await admin.prompt("automation", { state: "maybe" });
  assert.match(state, /not changed: E_USAGE: state must be "on" or "off"/);
  assert.equal(configOf(room), undefined);
});

test("a corrupt settings file is reported with its path and never replaced; the bus keeps working", async (t) => {
  const room = new Room();
  t.after(() => room.cleanup());
  const path = join(room.root, "bridge-settings.json");
  const admin = await room.join("shop", "web", { BRIDGE_ADMIN: "1" });
  await room.join("shop", "api");
  writeFileSync(path, '{"maxHops": 3,');
  const config = await admin.call("bridge_config");
  assert.equal(config.isError, true);
  assert.match(config.text, new RegExp(`E_CONFIG: ${path.replace(/[/.]/g, "\\$&")} is not valid JSON`));
  const write = await admin.call("bridge_settings", { enabled: true });
  assert.equal(write.isError, true);
  assert.match(write.text, /is not valid JSON/);
  assert.match(
    await admin.prompt("set-mode", { role: "api", mode: "auto" }),
    /not changed: E_CONFIG: .*bridge-settings\.json is not valid JSON/,
  );
  assert.equal(readFileSync(path, "utf8"), '{"maxHops": 3,', "the file is untouched");
  const sent = await admin.call("bridge_send", { to: "api", body: "still works" });
  assert.equal(sent.isError, false);
  assert.match(sent.text, /warning: .*not valid JSON.*\(sent with the default limits\)/);
  assert.match((await admin.call("bridge_whoami")).text, /warning: .*bridge-settings\.json is not valid JSON/);

  writeFileSync(path, JSON.stringify({ maxHops: "six", colour: "red" }));
  const invalid = await admin.call("bridge_config");
  assert.match(invalid.text, /"maxHops" must be an integer from 1 to 100 \(got "six"\); unknown key "colour"/);
});
