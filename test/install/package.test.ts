// The npm package as a user gets it: `npm pack`, then installed with the registry unreachable
// (a global install into a temp prefix, and npx), and used: --version, install, doctor, send/recv.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { TestContext } from "node:test";
import { REPO } from "../helpers/bin.ts";
import { cleanEnv, makeRoot } from "../helpers/cli.ts";

const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
  name: string;
  version: string;
  private?: boolean;
  bin: Record<string, string>;
  files: string[];
  scripts: Record<string, string>;
  dependencies?: Record<string, string>;
};
const BIN_PATH = pkg.bin["session-bridge"]!; // whatever the build names it (.mjs or .cjs)

function setup(t: TestContext) {
  const root = makeRoot(t);
  const base = dirname(root);
  const home = join(base, "home");
  mkdirSync(home);
  // Offline: npm's own cache empty and the registry a closed port on 127.0.0.1.
  const env = cleanEnv({
    HOME: home,
    BRIDGE_ROOT: root,
    XDG_DATA_HOME: "",
    npm_config_cache: join(base, "npm-cache"),
    npm_config_registry: "http://127.0.0.1:9",
    npm_config_offline: "true",
    npm_config_update_notifier: "false",
    npm_config_audit: "false",
    npm_config_fund: "false",
  });
  return { root, base, home, env };
}

function ok(r: ReturnType<typeof spawnSync>, what: string): string {
  assert.equal(r.status, 0, `${what}: ${r.stdout}${r.stderr}`);
  return String(r.stdout);
}

test("package.json: publishable, nothing but the built file, README and LICENSE, built by prepack, no runtime dependencies", () => {
  assert.equal(pkg.private, undefined);
  assert.deepEqual(pkg.files, ["LICENSE", "README.md"], "npm adds the bin file itself");
  assert.match(pkg.scripts.prepack!, /^node build\.mjs$/);
  assert.equal(pkg.dependencies, undefined);
  assert.match(readFileSync(join(REPO, "LICENSE"), "utf8"), /^MIT License/);
});

test("npm pack, then installed offline into a temp prefix and with npx: it runs, installs, doctors and carries a message", (t) => {
  const s = setup(t);
  // The tests run on a fresh build: pack it as is (prepack would rebuild under running tests).
  const packed = spawnSync("npm", ["pack", "--ignore-scripts", "--pack-destination", s.base, "--json"], {
    cwd: REPO,
    env: s.env,
    encoding: "utf8",
  });
  const [info] = JSON.parse(ok(packed, "npm pack")) as Array<{ filename: string; files: Array<{ path: string }> }>;
  assert.deepEqual(info!.files.map((f) => f.path).sort(), ["LICENSE", "README.md", BIN_PATH, "package.json"].sort());
  const tarball = join(s.base, info!.filename);
  assert.equal(info!.filename, `${pkg.name}-${pkg.version}.tgz`);

  const prefix = join(s.base, "prefix");
  ok(
    spawnSync("npm", ["install", "-g", "--prefix", prefix, tarball], { cwd: s.base, env: s.env, encoding: "utf8", timeout: 300_000 }),
    "npm install -g",
  );
  const env = { ...s.env, PATH: `${join(prefix, "bin")}:/usr/local/bin:/usr/bin:/bin` };
  const run = (args: string[], extra: Record<string, string> = {}) =>
    spawnSync("session-bridge", args, { cwd: s.base, env: { ...env, ...extra }, encoding: "utf8", timeout: 60_000 });
  assert.equal(ok(run(["--version"]), "--version").trim(), pkg.version);
  const config = join(s.base, "claude-config");
  const installed = ok(run(["install", "--config-dir", config]), "install");
  assert.match(installed, new RegExp(`launch: copied ${prefix}/lib/node_modules/${pkg.name}/${BIN_PATH} to `));
  ok(run(["recv"], { BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "web" }), "recv (registers the role)");
  ok(run(["send", "web", "from the packed tarball"], { BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "api" }), "send");
  assert.match(ok(run(["recv"], { BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "web" }), "recv"), /from the packed tarball/);
  assert.match(ok(run(["doctor", "--config-dir", config]), "doctor"), /\nall good\n$/);

  // As the README says it: a ./ path (an absolute one is run as a command by npx 11).
  const npx = spawnSync("npx", ["--yes", `./${info!.filename}`, "--version"], {
    cwd: s.base,
    env: s.env,
    encoding: "utf8",
    timeout: 300_000,
  });
  assert.equal(ok(npx, "npx").trim(), pkg.version);
});
