// The README's air-gapped recipe works as written (issue 15 item 11): scripts/airgap-recipe.sh
// runs its steps (checksum from inside the folder, gzip, carry to another folder, gunzip, verify,
// install, --version), and every command of the README's recipe is one of the script's lines.
// The single executable is built only when dist has none (test/runtime/sea.test.ts rebuilds a
// stale one); the test is skipped, saying why, only where it cannot be built.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { REPO } from "../helpers/bin.ts";

const SEA = join(REPO, "dist/session-bridge");
const SCRIPT = join(REPO, "scripts/airgap-recipe.sh");
const VERSION = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string }).version;

function ensureSea(): string | undefined {
  if (process.platform !== "linux" && process.platform !== "darwin")
    return `the recipe is for Linux and macOS; this is ${process.platform}`;
  if (existsSync(SEA)) return undefined;
  const r = spawnSync(process.execPath, [join(REPO, "scripts/build-sea.mjs")], { cwd: REPO, encoding: "utf8", timeout: 180_000 });
  return r.status === 0
    ? undefined
    : `the single executable cannot be built here (scripts/build-sea.mjs exited ${r.status}): ${r.stderr.trim()}`;
}

const skip = ensureSea();

/** The commands of the README's recipe: each line's command, and the macOS one its comment names. */
function readmeCommands(): string[] {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  const start = readme.indexOf("To an air-gapped machine");
  assert.notEqual(start, -1, "the README has the air-gapped recipe");
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(start));
  assert.ok(block, "the recipe is a sh code block");
  const commands: string[] = [];
  for (const line of block[1]!.split("\n")) {
    const [command, comment] = line.includes("#") ? splitComment(line) : [line.trim(), ""];
    if (command) commands.push(command);
    const mac = /^macOS: (.+)$/.exec(comment);
    if (mac) commands.push(mac[1]!);
  }
  return commands;
}

function splitComment(line: string): [string, string] {
  const at = line.indexOf("#");
  return [line.slice(0, at).trim(), line.slice(at + 1).trim()];
}

function scratch(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "sb-airgap-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The executable copied into a build folder of its own (the recipe writes beside it), then the script. */
function runRecipe(t: TestContext, env: Record<string, string> = {}) {
  const dir = scratch(t);
  mkdirSync(join(dir, "build"));
  copyFileSync(SEA, join(dir, "build", "session-bridge"));
  const r = spawnSync("sh", [SCRIPT, join(dir, "build"), join(dir, "target")], {
    encoding: "utf8",
    timeout: 300_000,
    env: { ...process.env, ...env },
  });
  return { dir, ...r };
}

test("every command of the README's air-gapped recipe is a line of scripts/airgap-recipe.sh", () => {
  const script = new Set(
    readFileSync(SCRIPT, "utf8")
      .split("\n")
      .map((l) => l.trim()),
  );
  // Building, and installing into the user's own PATH and Claude Code, are not the recipe's to
  // rehearse: the script installs into a folder of its own and runs --version from there; its
  // `cd "$build"` is the README's `cd dist`.
  const own = [/^npm ci /, /^cd dist$/, /^install -m 0755 session-bridge ~\/\.local\/bin\/$/, /^session-bridge --version && /];
  const commands = readmeCommands().filter((c) => !own.some((re) => re.test(c)));
  assert.ok(commands.length >= 6, commands.join("\n"));
  for (const command of commands) assert.ok(script.has(command), `the script does not run the README's \`${command}\``);
  assert.ok(commands.includes("shasum -a 256 -c session-bridge.sha256"), "the README says the macOS command");
  assert.ok(!commands.some((c) => /\bdist\/session-bridge\b/.test(c) && /sha256/.test(c)), "no checksum of dist/…");
});

test("the recipe carries the executable to another folder, verifies it and runs it", { skip }, (t) => {
  const r = runRecipe(t);
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.equal(r.stdout, `session-bridge: OK\n${VERSION}\n`);
  // The bare name: `sha256sum -c` looks for the file where it runs, not in dist/.
  assert.match(readFileSync(join(r.dir, "build", "session-bridge.sha256"), "utf8"), /^[0-9a-f]{64} {2}session-bridge\n$/);
  // What the old recipe recorded fails there, which is why the checksum is made from inside dist.
  const hash = readFileSync(join(r.dir, "build", "session-bridge.sha256"), "utf8").slice(0, 64);
  writeFileSync(join(r.dir, "target", "old.sha256"), `${hash}  dist/session-bridge\n`);
  const old = spawnSync("sha256sum", ["-c", "old.sha256"], { cwd: join(r.dir, "target"), encoding: "utf8" });
  if (!old.error) assert.notEqual(old.status, 0, "a checksum naming dist/session-bridge fails in the target folder");
});

const noShasum = spawnSync("sh", ["-c", "command -v shasum"]).status !== 0 ? "no shasum (macOS's command) on this machine" : false;

test("the recipe with macOS's commands (shasum -a 256)", { skip: skip ?? noShasum }, (t) => {
  const r = runRecipe(t, { AIRGAP_SHASUM: "1" });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.equal(r.stdout, `session-bridge: OK\n${VERSION}\n`);
});

test("the script says what it needs when the folder has no executable", (t) => {
  const dir = scratch(t);
  const r = spawnSync("sh", [SCRIPT, dir, join(dir, "target")], { encoding: "utf8" });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no session-bridge in .*; build it with `npm run build:sea`/);
  assert.equal(spawnSync("sh", [SCRIPT], { encoding: "utf8" }).status, 2);
});
