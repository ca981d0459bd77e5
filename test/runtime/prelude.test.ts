// The .cjs keeps its entry as a comment and compiles it in its first lines, unless a hook has
// nothing to do (build.mjs "prelude"): then nothing is compiled at all. What the prelude answers
// alone must be what the entry answers (src/hooks.ts), and everything else must reach the entry:
// compiled by Module.prototype._compile, or in a bridged session by a vm.Script with the entry's
// code cache under <root>/cache (src/runtime/entry-cache.ts), exactly once either way; except a
// bridged guard or recv whose own bundle has a cache, which runs from it (src/fast-start.ts runHookAlone).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { BIN } from "../helpers/bin.ts";
import { cleanEnv, makeRoot } from "../helpers/cli.ts";

const push = JSON.stringify({ hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: { command: "git push" } });
const prompt = JSON.stringify({ hook_event_name: "UserPromptSubmit", session_id: "s1", prompt: "hi" });

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Whether the entry was compiled: a second Module.prototype._compile of the file, or a vm.Script named after it. */
  compiled: boolean;
  /** How the vm.Script was compiled: "source" (no cache handed to V8), "cache" (accepted), "rejected"; none: not so compiled. */
  script?: "source" | "cache" | "rejected";
  /** The stack's frames in the binary's file at its first write to stdout. */
  frames: string[];
}

function setup(): { run: (args: string[], env: Record<string, string>, input?: string) => Run; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "sb-prelude-"));
  const probe = join(dir, "probe.cjs");
  const report = join(dir, "compiles.json");
  // Counts the compiles of the binary's own file, both ways, and writes them at exit. The
  // prelude takes vm.Script from node:vm when it compiles, so a subclass put there sees it. Also
  // the stack's frames in the file when the answer is first written (src/hooks/io.ts writes with writeSync).
  writeFileSync(
    probe,
    `const M = require("node:module"); const vm = require("node:vm"); const c = M.prototype._compile; const S = vm.Script;
const seen = { compiles: 0, scripts: [], frames: [] };
const fs = require("node:fs"); const w = fs.writeSync;
fs.writeSync = function (fd) { if (fd === 1 && seen.frames.length === 0) seen.frames = new Error().stack.split("\\n").filter((l) => l.includes(${JSON.stringify(BIN)})); return w.apply(this, arguments); };
M.prototype._compile = function (content, filename) { if (filename === ${JSON.stringify(BIN)}) seen.compiles++; return c.apply(this, arguments); };
vm.Script = class extends S { constructor(code, options) { super(code, options); if (options && options.filename === ${JSON.stringify(BIN)})
  seen.scripts.push(options.cachedData === undefined ? "source" : this.cachedDataRejected ? "rejected" : "cache"); } };
process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(report)}, JSON.stringify(seen)));\n`,
  );
  const run = (args: string[], env: Record<string, string>, input = prompt): Run => {
    rmSync(report, { force: true });
    const r = spawnSync(process.execPath, ["-r", probe, BIN, ...args], { env: cleanEnv(env), input, encoding: "utf8" });
    const seen = JSON.parse(readFileSync(report, "utf8")) as { compiles: number; scripts: Run["script"][]; frames: string[] };
    // The file itself once; the entry at most once more, one way or the other (a second compile
    // of the same source would ignore a code cache: src/runtime/code-cache.ts compileWithCache).
    assert.ok(seen.compiles >= 1 && seen.compiles - 1 + seen.scripts.length <= 1, `compiles: ${JSON.stringify(seen)}`);
    return {
      status: r.status,
      stdout: r.stdout,
      stderr: r.stderr,
      compiled: seen.compiles === 2 || seen.scripts.length === 1,
      frames: seen.frames,
      ...(seen.scripts.length === 1 && { script: seen.scripts[0] }),
    };
  };
  return { run, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test("a hook outside a bridged session compiles nothing, and answers as the entry does", (t) => {
  const { run, done } = setup();
  t.after(done);
  for (const hook of ["recv", "guard", "send", "wait"]) {
    const input = hook === "guard" ? push : prompt;
    // An empty BRIDGE_* counts as unset, here as in src/lib/env.ts; BRIDGE_ROOT names no identity.
    const root = join(tmpdir(), "sb-prelude-no-root");
    for (const env of [{}, { BRIDGE_PROJECT: "" }, { CLAUDE_ENV_FILE: "" }, { BRIDGE_ROOT: root }] as Record<string, string>[]) {
      const fast = run(["hook", hook], env, input);
      assert.equal(fast.compiled, false, `hook ${hook} with ${JSON.stringify(env)} compiled the entry`);
      assert.deepEqual([fast.status, fast.stdout, fast.stderr], [0, "", ""]);
    }
    // The entry's own answer for the same session: any other BRIDGE_* variable sends it there,
    // even one that names no identity.
    const slow = run(["hook", hook], { BRIDGE_ROOT: root, BRIDGE_SEND_TO: "api" }, input);
    assert.equal(slow.compiled, true);
    assert.deepEqual([slow.status, slow.stdout, slow.stderr], [0, "", ""], `the entry's answer to hook ${hook}`);
  }
});

test("every other run reaches the entry: identities, a typo'd BRIDGE_*, the git shim's SessionStart, flags, other commands", (t) => {
  const { run, done } = setup();
  t.after(done);
  // Half an identity, or an unknown BRIDGE_* name: bridged for the guard, which denies.
  for (const env of [{ BRIDGE_PROJECT: "shop" }, { BRIDGE_PORJECT: "shop" }, { BRIDGE_BLOCK_GIT_ALL: "1" }] as Record<string, string>[]) {
    const r = run(["hook", "guard"], env, push);
    assert.equal(r.compiled, true, JSON.stringify(env));
    assert.match(r.stdout, /"permissionDecision":"deny"/, JSON.stringify(env));
  }
  // recv with half an identity tells the session what is wrong.
  const half = run(["hook", "recv"], { BRIDGE_PROJECT: "shop" });
  assert.equal(half.compiled, true);
  assert.match(half.stdout, /BRIDGE_ROLE/);
  // SessionStart with CLAUDE_ENV_FILE: the entry takes the git shim out of it.
  const dir = mkdtempSync(join(tmpdir(), "sb-prelude-env-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const envFile = join(dir, "env.sh");
  writeFileSync(envFile, "");
  const start = JSON.stringify({ hook_event_name: "SessionStart", session_id: "s1", source: "startup" });
  assert.equal(run(["hook", "recv"], { CLAUDE_ENV_FILE: envFile }, start).compiled, true);
  // Arguments after the hook's name, an unknown hook, and any other command.
  assert.equal(run(["hook", "recv", "--agent", "codex"], {}).compiled, true);
  const unknown = run(["hook", "recieve"], {});
  assert.equal(unknown.compiled, true);
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /unknown hook "recieve"/);
  const version = run(["--version"], {});
  assert.equal(version.compiled, true);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
});

const entryCaches = (root: string) =>
  existsSync(join(root, "cache")) ? readdirSync(join(root, "cache")).filter((f) => f.startsWith("bundle-entry-")) : [];

test("a bridged hook compiles the entry once with its code cache, from the second run on; a damaged or another entry's cache is never used, and is rewritten", (t) => {
  const { run, done } = setup();
  t.after(done);
  const root = makeRoot(t);
  mkdirSync(join(root, "cache"), { recursive: true, mode: 0o700 });
  // Another build's entry cache: removed once this build's is written.
  const stale = join(root, "cache", `bundle-entry-0123456789abcdef-${process.version}-${process.arch}.v8cache`);
  writeFileSync(stale, "another build's");
  const env = { BRIDGE_ROOT: root, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "web" };
  // With its own bundle's cache the guard runs without the entry (the next test): without it, the
  // entry runs, and is what this test watches.
  const dropGuardCache = () => {
    for (const f of readdirSync(join(root, "cache"))) if (f.startsWith("bundle-hook-guard-")) rmSync(join(root, "cache", f));
  };
  const guard = (how: Run["script"], why: string) => {
    dropGuardCache();
    const r = run(["hook", "guard"], env, push);
    assert.deepEqual([r.script, r.stderr], [how, ""], why);
    assert.match(r.stdout, /"permissionDecision":"deny"/, why);
    return r;
  };
  // Another command (here the CLI) writes no entry cache: a hook does, with what a hook compiles.
  const whoami = () => run(["whoami"], env);
  assert.deepEqual([whoami().script, entryCaches(root)], ["source", [basename(stale)]]);
  guard("source", "no cache yet: compiled from the file's code");
  const [name, ...more] = entryCaches(root);
  assert.match(name ?? "", /^bundle-entry-[0-9a-f]{16}-v\d+\.\d+\.\d+-\w+\.v8cache$/);
  assert.deepEqual(more, [], "the other build's cache is removed");
  const file = join(root, "cache", name!);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const written = statSync(file).ino;
  const cached = guard("cache", "the second run: compiled from the cache, which V8 accepts");
  assert.equal(whoami().script, "cache", "every command uses it");
  // The same code as Module.prototype._compile runs (unbridged, its guard denies too): stack
  // traces name the file, at the same lines and columns.
  const compiled = run(["hook", "guard"], { BRIDGE_ROOT: root, BRIDGE_BLOCK_GIT_ALL: "1" }, push);
  assert.equal(compiled.script, undefined);
  assert.ok(cached.frames.length > 0, "a frame names the file");
  assert.deepEqual(cached.frames, compiled.frames);
  assert.equal(statSync(file).ino, written, "an accepted cache is not rewritten");
  // One copy damaged deep in V8's data (V8 alone would run it): compiled from source, rewritten.
  const good = readFileSync(file);
  const bad = Buffer.from(good);
  for (let i = good.length - 3000; i < good.length - 2900; i++) bad[i] = bad[i]! ^ 0xff;
  writeFileSync(file, bad);
  const damaged = statSync(file).ino;
  guard("source", "a damaged cache is not handed to V8");
  assert.notEqual(statSync(file).ino, damaged, "rewritten (temp + rename)");
  guard("cache", "the rewritten cache is used");
  // Sound, but made for other code (its hash inside, in both copies, is not this entry's): not used.
  const other = readFileSync(file);
  const size = other.readUInt32LE(8);
  for (const at of [12, 12 + size]) other.write("fedcba9876543210", at, "latin1");
  writeFileSync(file, other);
  guard("source", "another entry's cache is not used");
  guard("cache", "and is replaced by this entry's");
});

test("a bridged guard, and recv, with their own bundle's cache run without compiling the entry, and answer as it does", (t) => {
  const { run, done } = setup();
  t.after(done);
  const root = makeRoot(t);
  mkdirSync(root, { mode: 0o700 });
  const env = { BRIDGE_ROOT: root, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "web" };
  const first = run(["hook", "guard"], env, push);
  assert.equal(first.compiled, true, "no caches yet: the entry runs, and writes them");
  assert.match(first.stdout, /"permissionDecision":"deny"/);
  const alone = run(["hook", "guard"], env, push);
  assert.equal(alone.compiled, false, "the guard's bundle ran from its cache alone");
  assert.deepEqual([alone.status, alone.stdout, alone.stderr], [first.status, first.stdout, first.stderr]);
  assert.equal(run(["hook", "recv"], env).compiled, true, "recv's first run writes its cache");
  const recv = run(["hook", "recv"], env);
  assert.deepEqual([recv.compiled, recv.status, recv.stderr], [false, 0, ""]);
  // A hook that needs the entry still gets it: send, and recv at SessionStart (the git shim's bundle).
  assert.equal(run(["hook", "send"], env).compiled, true);
  const dir = mkdtempSync(join(tmpdir(), "sb-prelude-env-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const envFile = join(dir, "env.sh");
  writeFileSync(envFile, "");
  const start = JSON.stringify({ hook_event_name: "SessionStart", session_id: "s1", source: "startup" });
  assert.equal(run(["hook", "recv"], { ...env, CLAUDE_ENV_FILE: envFile }, start).compiled, true);
});

test("no entry cache outside a bridged session, nor without a root: the root is never created for it", (t) => {
  const { run, done } = setup();
  t.after(done);
  const root = makeRoot(t);
  mkdirSync(root, { mode: 0o700 });
  // The entry compiled from source (a BRIDGE_* variable that is no identity), in an existing root.
  const unbridged = run(["hook", "guard"], { BRIDGE_ROOT: root, BRIDGE_BLOCK_GIT_ALL: "1" }, push);
  assert.deepEqual([unbridged.compiled, unbridged.script], [true, undefined]);
  assert.match(unbridged.stdout, /"permissionDecision":"deny"/);
  assert.equal(run(["--version"], { BRIDGE_ROOT: root }).compiled, true);
  assert.deepEqual(readdirSync(root), []);
  // Bridged, but the root does not exist: compiled without a cache, and nothing is written.
  const missing = join(root, "..", "no-root");
  const bridged = run(["hook", "guard"], { BRIDGE_ROOT: missing, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "web" }, push);
  assert.equal(bridged.script, "source");
  assert.match(bridged.stdout, /"permissionDecision":"deny"/);
  assert.equal(existsSync(missing), false);
});
