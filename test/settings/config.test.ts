// Settings: validation that names the key, deep defaults, locked atomic writes, corrupt files reported.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadSettings, loadSettingsLenient, updateSettings, settingsPath } from "../../src/settings/file.ts";
import { BridgeError } from "../../src/lib/errors.ts";
import { effectiveRole, mergeSettings, validateSettings } from "../../src/settings/schema.ts";
import { configureRole, parseAssignment, turnOff, turnOn, updateGlobal, describeUpdate } from "../../src/settings/ops.ts";
import { REPO } from "../helpers/bin.ts";
import { makeRoot } from "../helpers/cli.ts";
import { failNth } from "../helpers/faults.ts";

const isConfigError = (e: unknown) => e instanceof BridgeError && e.code === "E_CONFIG";

test("validation names every bad key, the expected type and the value", () => {
  assert.deepEqual(validateSettings({}), []);
  assert.deepEqual(validateSettings({ maxHops: "six", bogus: 1, spawn: { maxTurns: 0 }, projects: { "../x": { mode: "sometimes" } } }), [
    '"maxHops" must be an integer from 1 to 100 (got "six")',
    'unknown key "bogus" (known: enabled, defaultMode, driver, fallback, maxHops, rateLimitPerMinute, cooldownSeconds, denyTools, defaultOffRoles, nudgePrompt, maxBodyBytes, fsync, compactBytes, historyFiles, spawn, guard, projects)',
    '"spawn.maxTurns" must be an integer from 1 to 1000 (got 0)',
    '"projects.../x": "../x" is not a valid project name',
    '"projects.../x.mode" must be one of auto, manual (got "sometimes")',
  ]);
  assert.deepEqual(validateSettings({ projects: { shop: { roles: { web: { cwd: "relative/path", colour: "red" } } } } }), [
    '"projects.shop.roles.web.cwd" must be an absolute path (got "relative/path")',
    'unknown key "projects.shop.roles.web.colour" (known: mode, driver, fallback, cwd, model, tmuxTarget, permissionMode, agent, resume)',
  ]);
  assert.match(validateSettings({ nudgePrompt: "two\nlines" })[0]!, /one line of printable text/);
  assert.match(validateSettings([])[0]!, /must be a JSON object/);
});

test("defaults merge deeply; lists are replaced whole", () => {
  const s = mergeSettings({ spawn: { maxTurns: 5 }, denyTools: ["Bash(rm:*)"] });
  assert.equal(s.spawn.maxTurns, 5);
  // The documented defaults (README, spawner settings) written out, not read from defaultSettings():
  // a default lost there would otherwise agree with the merge that lost it.
  assert.equal(s.spawn.timeoutSeconds, 900);
  assert.equal(s.spawn.permissionMode, "acceptEdits");
  assert.equal(s.spawn.resume, false);
  assert.deepEqual(s.denyTools, ["Bash(rm:*)"]);
  assert.equal(s.maxHops, 6);
});

test("a corrupt or invalid file is reported with its path and never replaced by defaults", (t) => {
  const root = makeRoot(t);
  updateSettings(root, (o) => (o.maxHops = 3));
  writeFileSync(settingsPath(root), '{"maxHops": 3,');
  assert.throws(
    () => loadSettings(root),
    (e: unknown) =>
      isConfigError(e) &&
      (e as Error).message ===
        `${settingsPath(root)} is not valid JSON: line 1, column 15: expected a property name in double quotes, found the end of the file; fix or delete it (defaults apply when it is missing)`,
  );
  assert.throws(() => turnOn(root), isConfigError);
  assert.equal(readFileSync(settingsPath(root), "utf8"), '{"maxHops": 3,', "untouched");
  const lenient = loadSettingsLenient(root);
  assert.ok(lenient.error && isConfigError(lenient.error));
  writeFileSync(settingsPath(root), "  \n");
  assert.throws(
    () => loadSettings(root),
    (e: unknown) => isConfigError(e) && (e as Error).message === `${settingsPath(root)} is empty; write {} for the defaults, or delete it`,
  );
  writeFileSync(settingsPath(root), '{"maxHops": "lots"}');
  assert.throws(
    () => loadSettings(root),
    (e: unknown) => isConfigError(e) && /"maxHops" must be an integer/.test((e as Error).message),
  );
});

test("an invalid change is refused and leaves the file as it was", (t) => {
  const root = makeRoot(t);
  updateGlobal(root, { maxHops: 4 });
  const before = readFileSync(settingsPath(root), "utf8");
  assert.throws(
    () => updateGlobal(root, { maxHops: 0 }),
    (e: unknown) => isConfigError(e) && /not saved: "maxHops" must be an integer from 1 to 100 \(got 0\)/.test((e as Error).message),
  );
  assert.throws(
    () => updateGlobal(root, { colour: "red" }),
    (e: unknown) => (e as BridgeError).code === "E_USAGE",
  );
  assert.throws(() => configureRole(root, "shop", "web", { cwd: "not/absolute" }), isConfigError);
  assert.equal(readFileSync(settingsPath(root), "utf8"), before);
});

test("changes are described exactly; a no-op says so", (t) => {
  const root = makeRoot(t);
  assert.equal(
    describeUpdate(turnOn(root, "shop", "web")),
    'changed:\n  enabled: false → true\n  projects.shop.roles.web.mode: (unset) → "auto"',
  );
  assert.equal(describeUpdate(turnOn(root, "shop", "web")), "no change: the settings already were so");
  assert.deepEqual(updateGlobal(root, { maxHops: null }).changes, []);
  assert.deepEqual(updateGlobal(root, { "spawn.maxTurns": 9 }).changes, ["spawn.maxTurns: 30 → 9"]);
  assert.deepEqual(updateGlobal(root, { "spawn.maxTurns": null }).changes, ["spawn.maxTurns: 9 → 30"]);
  assert.deepEqual(configureRole(root, "shop", "web", { cwd: "/srv/web", model: "opus" }).changes, [
    'projects.shop.roles.web.cwd: (unset) → "/srv/web"',
    'projects.shop.roles.web.model: (unset) → "opus"',
  ]);
  assert.deepEqual(configureRole(root, "shop", "web", { model: "" }).changes, ['projects.shop.roles.web.model: "opus" → (unset)']);
  assert.deepEqual(turnOff(root).changes, ["enabled: true → false"]);
});

test("key=value parsing follows each setting's type", () => {
  assert.deepEqual(parseAssignment("maxHops=3"), ["maxHops", 3]);
  assert.deepEqual(parseAssignment("enabled=true"), ["enabled", true]);
  assert.deepEqual(parseAssignment("defaultOffRoles=infra, qa,ops"), ["defaultOffRoles", ["infra", "qa", "ops"]]);
  assert.deepEqual(parseAssignment("spawn.timeoutSeconds=60"), ["spawn.timeoutSeconds", 60]);
  assert.deepEqual(parseAssignment("cwd=/srv/a=b"), ["cwd", "/srv/a=b"]);
  assert.deepEqual(parseAssignment("maxHops="), ["maxHops", null]);
  assert.throws(() => parseAssignment("maxHops=many"), /maxHops must be a number \(got "many"\)/);
  assert.throws(() => parseAssignment("enabled=yes"), /enabled must be true or false/);
  assert.throws(() => parseAssignment("noequals"), /expected key=value/);
});

test("effective mode per role: master switch, by-name opt-in, default-off roles, project, default", () => {
  const s = (o: Record<string, unknown>) => mergeSettings(o);
  assert.equal(effectiveRole(s({}), "shop", "web").auto, false);
  assert.match(effectiveRole(s({ defaultMode: "auto" }), "shop", "web").why, /automation is off/);
  const on = { enabled: true, defaultMode: "auto" };
  assert.equal(effectiveRole(s(on), "shop", "web").auto, true);
  assert.equal(effectiveRole(s(on), "shop", "infra").auto, false);
  assert.match(effectiveRole(s(on), "shop", "infra").why, /default-off role; opt it in by name: session-bridge spawner on shop infra/);
  assert.equal(effectiveRole(s({ enabled: true, projects: { shop: { mode: "auto" } } }), "shop", "qa").auto, false);
  assert.equal(effectiveRole(s({ enabled: true, projects: { shop: { roles: { qa: { mode: "auto" } } } } }), "shop", "qa").auto, true);
  assert.equal(effectiveRole(s({ enabled: true, defaultMode: "auto", projects: { shop: { mode: "manual" } } }), "shop", "web").auto, false);
  assert.equal(
    effectiveRole(s({ enabled: true, projects: { shop: { mode: "auto", roles: { web: { mode: "manual" } } } } }), "shop", "web").auto,
    false,
  );
  assert.equal(effectiveRole(s({ enabled: true, projects: { shop: { mode: "auto" } } }), "blog", "web").auto, false);
});

test("two processes writing settings at once never lose an update", async (t) => {
  const root = makeRoot(t);
  updateSettings(root, () => {}); // creates the root
  const worker = join(REPO, "dist/test/fixtures/config-worker.mjs");
  const runs = ["p1", "p2", "p3"].map(
    (project) =>
      new Promise<number | null>((resolve) =>
        spawn(process.execPath, [worker, root, project, "40"], { stdio: "inherit" }).on("exit", resolve),
      ),
  );
  assert.deepEqual(await Promise.all(runs), [0, 0, 0]);
  const projects = loadSettings(root).projects;
  for (const p of ["p1", "p2", "p3"]) assert.equal(Object.keys(projects[p]?.roles ?? {}).length, 40, p);
});

test("a root's old spawner.config.json is moved to bridge-settings.json on the first read, never lost or overwritten", (t) => {
  const made = (): string => {
    const dir = makeRoot(t);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  };
  const root = made();
  const old = join(root, "spawner.config.json");
  writeFileSync(old, JSON.stringify({ enabled: true, maxHops: 3 }));
  assert.equal(loadSettings(root).maxHops, 3, "read through the old name");
  assert.equal(existsSync(old), false, "moved");
  assert.deepEqual(JSON.parse(readFileSync(join(root, "bridge-settings.json"), "utf8")), { enabled: true, maxHops: 3 });
  // A new file already there wins; the old one is left as it is (nothing overwritten).
  writeFileSync(old, JSON.stringify({ maxHops: 9 }));
  assert.equal(loadSettings(root).maxHops, 3);
  assert.equal(existsSync(old), true);
  // A root where the move is refused (read-only) still reads the old file where it is.
  const ro = made();
  writeFileSync(join(ro, "spawner.config.json"), JSON.stringify({ maxHops: 4 }));
  const fault = failNth(1, "EACCES");
  try {
    assert.equal(loadSettings(ro).maxHops, 4);
  } finally {
    fault.restore();
  }
  assert.equal(fault.where, "linkSync");
  assert.equal(existsSync(join(ro, "bridge-settings.json")), false);
  assert.equal(existsSync(join(ro, "spawner.config.json")), true);
  // A broken old file is reported under its own name.
  const broken = made();
  writeFileSync(join(broken, "spawner.config.json"), "{ nope");
  assert.throws(
    () => loadSettings(broken),
    (e: unknown) => isConfigError(e) && /bridge-settings\.json is not valid JSON/.test((e as Error).message),
  );
});
