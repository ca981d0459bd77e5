// doctor and the Claude Code plugin route: Claude Code's plugin files written as 2.1.328 writes them
// after `claude plugin marketplace add <dir>` + `claude plugin install session-bridge@session-bridge`
// (test/e2e/plugin.test.ts does it with the real CLI): the plugin alone is healthy, a plugin beside a
// direct install is a duplicate, a gone or unbuilt folder fails.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { TestContext } from "node:test";
import { BIN, REPO } from "../helpers/bin.ts";
import { cleanEnv, makeRoot } from "../helpers/cli.ts";

const ID = "session-bridge@session-bridge";

interface Box {
  home: string;
  config: string;
  root: string;
  market: string;
}

function box(t: TestContext): Box {
  const root = makeRoot(t);
  const base = dirname(root);
  const b = { home: join(base, "home"), config: join(base, "claude-config"), root, market: join(base, "clone") };
  mkdirSync(b.home);
  mkdirSync(join(b.config, "plugins"), { recursive: true });
  cpSync(join(REPO, ".claude-plugin"), join(b.market, ".claude-plugin"), { recursive: true });
  cpSync(join(REPO, "plugin"), join(b.market, "plugin"), { recursive: true });
  return b;
}

const json = (path: string, value: unknown) => writeFileSync(path, JSON.stringify(value, null, 2));

/** The files `claude plugin marketplace add DIR` and `claude plugin install ID --scope user` leave (seen on 2.1.328). */
function installPlugin(b: Box, enabled = true, settings: Record<string, unknown> = {}): void {
  const source = { source: "directory", path: b.market };
  json(join(b.config, "settings.json"), {
    ...settings,
    extraKnownMarketplaces: { "session-bridge": { source } },
    enabledPlugins: { [ID]: enabled },
  });
  json(join(b.config, "plugins/known_marketplaces.json"), { "session-bridge": { source, installLocation: b.market } });
  json(join(b.config, "plugins/installed_plugins.json"), {
    version: 2,
    plugins: {
      [ID]: [{ scope: "user", installPath: join(b.config, "plugins/cache/session-bridge/session-bridge/0.2.0"), version: "0.2.0" }],
    },
  });
}

function run(b: Box, args: string[]) {
  const env = cleanEnv({ HOME: b.home, BRIDGE_ROOT: b.root, PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, XDG_DATA_HOME: "" });
  return spawnSync(process.execPath, [BIN, ...args], { env, encoding: "utf8", timeout: 60_000 });
}

function doctor(b: Box) {
  const r = run(b, ["doctor", "--config-dir", b.config, "--json"]);
  const report = JSON.parse(r.stdout) as { ok: boolean; checks: Array<{ name: string; level: string; detail: string; fix?: string }> };
  return { status: r.status, report, check: (name: string) => report.checks.find((c) => c.name === name) };
}

test("the plugin alone: doctor reports it and does not ask for a direct install", (t) => {
  const b = box(t);
  installPlugin(b);
  const d = doctor(b);
  assert.equal(d.status, 0, JSON.stringify(d.report, null, 2));
  const plugin = d.check("plugin")!;
  assert.equal(plugin.level, "ok");
  assert.match(plugin.detail, new RegExp(`^${ID} \\(user scope\\) runs ${b.market}/plugin \\(version \\d+\\.\\d+\\.\\d+\\)`));
  for (const gone of ["MCP server", "hook recv (SessionStart)", "hook guard (PreToolUse)", "plugin and install"])
    assert.equal(d.check(gone), undefined, gone);
  // The plugin cannot add permission rules: named, as information, with the plugin's tool names.
  const perms = d.check("tool permissions")!;
  assert.equal(perms.level, "info");
  assert.match(perms.detail, /mcp__plugin_session-bridge_session-bridge__bridge_send/);
  json(join(b.config, "settings.json"), {
    enabledPlugins: { [ID]: true },
    permissions: {
      allow: ["send", "recv", "peek", "tail", "wait", "status", "roles", "whoami", "config"].map(
        (n) => `mcp__plugin_session-bridge_session-bridge__bridge_${n}`,
      ),
    },
  });
  assert.equal(doctor(b).check("tool permissions")!.level, "ok");
});

test("install with the plugin active says that hooks would run twice", (t) => {
  const b = box(t);
  installPlugin(b);
  const r = run(b, ["install", "--config-dir", b.config, "--dry-run"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    /^note: the Claude Code plugin session-bridge@session-bridge is active in .* too: with both, every hook runs twice; keep one/m,
  );
  installPlugin(b, false);
  assert.doesNotMatch(run(b, ["install", "--config-dir", b.config, "--dry-run"]).stdout, /every hook runs twice/);
});

test("the plugin beside a direct install: a duplicate warning naming both ways out", (t) => {
  const b = box(t);
  assert.equal(run(b, ["install", "--config-dir", b.config]).status, 0);
  const settings = JSON.parse(spawnSync("cat", [join(b.config, "settings.json")], { encoding: "utf8" }).stdout);
  installPlugin(b, true, settings);
  const d = doctor(b);
  assert.equal(d.status, 0, JSON.stringify(d.report, null, 2));
  assert.equal(d.check("plugin")!.level, "ok");
  const dup = d.check("plugin and install")!;
  assert.equal(dup.level, "warn");
  assert.match(dup.detail, /every hook runs twice/);
  assert.equal(
    dup.fix,
    `keep one: \`session-bridge uninstall --config-dir ${b.config}\` (keeps the plugin) or \`claude plugin uninstall ${ID}\` (keeps the direct install)`,
  );
  // The direct install is still checked in full.
  assert.equal(d.check("MCP server")!.level, "ok");
  assert.equal(d.check("hook guard (PreToolUse)")!.level, "ok");
});

test("the clone the marketplace was added from is gone: fail, nothing of the plugin loads", (t) => {
  const b = box(t);
  installPlugin(b);
  rmSync(b.market, { recursive: true });
  const d = doctor(b);
  assert.equal(d.status, 1);
  const plugin = d.check("plugin")!;
  assert.equal(plugin.level, "fail");
  assert.match(plugin.detail, new RegExp(`${b.market} is gone, so Claude Code loads nothing of it .*no git guard`));
  assert.match(plugin.fix!, /npm run build.*claude plugin marketplace remove session-bridge/);
});

test("an unbuilt clone: fail with `npm run build` in it", (t) => {
  const b = box(t);
  installPlugin(b);
  rmSync(join(b.market, "plugin/lib"), { recursive: true });
  const d = doctor(b);
  assert.equal(d.status, 1);
  assert.equal(d.check("plugin")!.level, "fail");
  assert.match(d.check("plugin")!.detail, /lib\/session-bridge\.cjs is missing/);
  assert.equal(d.check("plugin")!.fix, `\`npm run build\` in ${b.market}`);
});

test("a disabled plugin is information, and the direct wiring is checked as without it", (t) => {
  const b = box(t);
  installPlugin(b, false);
  const d = doctor(b);
  assert.equal(d.status, 1);
  assert.equal(d.check("plugin")!.level, "info");
  assert.match(d.check("plugin")!.detail, /installed but disabled/);
  assert.equal(d.check("MCP server")!.level, "fail");
});
