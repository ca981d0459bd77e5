// The hooks keep V8's compiled code of their bundles under <root>/cache (src/runtime/code-cache.ts):
// written once, private, never trusted when damaged, never a reason to create a root, and used:
// a bundle is compiled once, with it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { BIN } from "../helpers/bin.ts";
import { cleanEnv, makeRoot } from "../helpers/cli.ts";
import { Script } from "node:vm";
import { COMMONJS_WRAPPER, compileWithCache, useCodeCacheFolder, wrapIn, writeCodeCache } from "../../src/runtime/code-cache.ts";

const push = JSON.stringify({ hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: { command: "git push" } });

function guard(root: string, bridged = true) {
  const env = cleanEnv({ BRIDGE_ROOT: root, ...(bridged && { BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "web" }) });
  const r = spawnSync(process.execPath, [BIN, "hook", "guard"], { env, input: push, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r;
}

// The bundles' caches; the entry's own (bundle-entry-…, src/runtime/entry-cache.ts) is test/runtime/prelude.test.ts's.
const caches = (root: string) =>
  existsSync(join(root, "cache")) ? readdirSync(join(root, "cache")).filter((f) => !f.startsWith("bundle-entry-")) : [];

test("a bridged hook writes its bundle's code cache once, privately, and keeps using it", (t) => {
  const root = makeRoot(t);
  mkdirSync(root, { mode: 0o700 });
  assert.match(guard(root).stdout, /"permissionDecision":"deny"/);
  const [file, ...more] = caches(root);
  assert.match(file ?? "", /^bundle-hook-guard-[0-9a-f]{16}-v\d+\.\d+\.\d+-\w+\.v8cache$/);
  assert.deepEqual(more, []);
  assert.equal(statSync(join(root, "cache")).mode & 0o777, 0o700);
  assert.equal(statSync(join(root, "cache", file!)).mode & 0o777, 0o600);
  // The cache is written by temp + rename, so a rewrite always gives the file a new inode (the temp
  // file exists beside the old one): an equal inode proves no rewrite, where an equal mtime would
  // not (a rewrite within the clock's granularity keeps it).
  const written = statSync(join(root, "cache", file!)).ino;
  const bytes = readFileSync(join(root, "cache", file!));
  assert.match(guard(root).stdout, /"permissionDecision":"deny"/);
  assert.equal(statSync(join(root, "cache", file!)).ino, written, "an accepted cache is not rewritten");
  assert.deepEqual(readFileSync(join(root, "cache", file!)), bytes);
});

test("a damaged code cache is never run: the guard still denies, and the cache is rewritten", (t) => {
  const root = makeRoot(t);
  mkdirSync(root, { mode: 0o700 });
  guard(root);
  const file = join(root, "cache", caches(root)[0]!);
  const good = readFileSync(file);
  // One copy damaged, in the code or deep in V8's data past the headers V8 checks (V8 alone would
  // run it): the first copy, or the second, which is read in pieces.
  for (const from of [4000, good.length - 300]) {
    const bad = Buffer.from(good);
    for (let i = from; i < from + 100; i++) bad[i] = bad[i]! ^ 0xff;
    writeFileSync(file, bad);
    const damaged = statSync(file).ino;
    const r = guard(root);
    assert.match(r.stdout, /"permissionDecision":"deny"/);
    assert.equal(r.stderr, "");
    assert.notEqual(statSync(file).ino, damaged, "rewritten (temp + rename)");
    assert.notDeepEqual(readFileSync(file), bad, "rewritten from a fresh compile");
  }
  // Cut short: the same.
  writeFileSync(file, good.subarray(0, 1000));
  assert.match(guard(root).stdout, /"permissionDecision":"deny"/);
  assert.ok(readFileSync(file).length > 1000, "rewritten whole");
  // And the rewritten one is accepted, so left alone.
  const written = statSync(file).ino;
  const bytes = readFileSync(file);
  guard(root);
  assert.equal(statSync(file).ino, written, "an accepted cache is not rewritten");
  assert.deepEqual(readFileSync(file), bytes);
});

test("no bridge root, no cache: a hook never creates the root for it; an unbridged hook touches nothing", (t) => {
  const root = makeRoot(t);
  guard(root);
  assert.equal(existsSync(root), false);
  mkdirSync(root, { mode: 0o700 });
  guard(root, false);
  assert.deepEqual(readdirSync(root), []);
});

test("a bundle is compiled once, with its cache: a second compile of the same source would ignore the cache", (t) => {
  const root = makeRoot(t);
  mkdirSync(root, { mode: 0o700 });
  useCodeCacheFolder(join(root, "cache"));
  t.after(() => useCodeCacheFolder(undefined));
  const source = "function twice(x) { return 2 * x; }";
  const wrapper = { head: "(function () { return ", tail: "; })" };
  const wrapped = wrapper.head + source + wrapper.tail;
  const hash = "0123456789abcdef";
  const calls: (Buffer | undefined)[] = [];
  let decoded = 0;
  // What the bundle's own code costs to get (an inflate): counted, to show a cache spares it.
  const decode = () => {
    decoded++;
    return source;
  };
  const compile = (code: string, cachedData: Buffer | undefined) => {
    calls.push(cachedData);
    return new Script(code, { filename: "cache-test.js", ...(cachedData && { cachedData }) });
  };
  // No cache yet: compiled without, and the caller is told where to write one.
  const first = compileWithCache("cache-test", hash, wrapper, compile, decode);
  assert.deepEqual(calls, [undefined]);
  assert.equal(decoded, 1);
  assert.match(first.saveTo ?? "", /\/cache\/bundle-cache-test-0123456789abcdef-v[\d.]+-\w+\.v8cache$/);
  assert.equal(first.damaged, undefined);
  writeCodeCache("cache-test", hash, first.saveTo!, first.script, first.code);
  // A cache: one compile, handed the cache and the code it holds, nothing to decode or write.
  calls.length = 0;
  const second = compileWithCache("cache-test", hash, wrapper, compile, decode);
  assert.equal(calls.length, 1, "compiled exactly once");
  assert.ok(Buffer.isBuffer(calls[0]), "with the cache");
  assert.equal(decoded, 1, "the bundle's code is not decoded: the cache holds it");
  assert.equal(second.code, wrapped, "the cache holds the code as compiled, wrapped");
  // V8's data lies at a multiple of 8 bytes from the file's start: V8 would copy it otherwise.
  const file = readFileSync(first.saveTo!);
  const codeBytes = file.readUInt32LE(28);
  assert.equal(file.toString("latin1", 32, 32 + codeBytes), wrapped);
  const dataAt = Math.ceil((32 + codeBytes) / 8) * 8;
  assert.deepEqual([...file.subarray(32 + codeBytes, dataAt)], new Array(dataAt - 32 - codeBytes).fill(0));
  assert.equal(second.saveTo, undefined);
  assert.equal(second.script.cachedDataRejected, false);
  // The same bytes under another bundle's name (renamed, or copied over it): not its code, not used.
  const good = readFileSync(first.saveTo!);
  calls.length = 0;
  const other = compileWithCache("cache-test", "fedcba9876543210", wrapper, compile, decode);
  writeFileSync(other.saveTo!, good);
  calls.length = 0;
  const renamed = compileWithCache("cache-test", "fedcba9876543210", wrapper, compile, decode);
  assert.deepEqual(calls, [undefined], "compiled from the bundle's own code, without the other's cache");
  assert.equal(renamed.damaged, other.saveTo);
  // A damaged one: compiled without, reported, and to be rewritten. Damaged: cut short, one byte
  // of either copy changed (the second is read in pieces), or a cache of the same code wrapped
  // otherwise (its caller would call it with other arguments).
  const flipped = (at: number) => {
    const bad = Buffer.from(good);
    bad[at] = bad[at]! ^ 0xff;
    return bad;
  };
  const otherWrapper = Buffer.from(good.toString("latin1").replaceAll("(function () { return ", "(function (){  return "), "latin1");
  assert.equal(otherWrapper.length, good.length);
  const size = good.readUInt32LE(8);
  for (const bad of [
    Buffer.from("SBCC4x1\nnot a cache"),
    good.subarray(0, good.length - 1),
    flipped(40),
    flipped(good.length - 3),
    flipped(12 + size),
    otherWrapper,
  ]) {
    writeFileSync(first.saveTo!, bad);
    calls.length = 0;
    const third = compileWithCache("cache-test", hash, wrapper, compile, decode);
    assert.deepEqual(calls, [undefined]);
    assert.equal(third.damaged, first.saveTo);
    assert.equal(third.saveTo, first.saveTo);
  }
  // One of an older format (the code unwrapped, the data unaligned): replaced without a word.
  writeFileSync(first.saveTo!, Buffer.concat([Buffer.from("SBCC3x1\n"), good.subarray(8)]));
  calls.length = 0;
  const older = compileWithCache("cache-test", hash, wrapper, compile, decode);
  assert.deepEqual(calls, [undefined]);
  assert.equal(older.damaged, undefined);
  assert.equal(older.saveTo, first.saveTo);
});

test("a bridged hook with its cache takes its code from there: node:zlib is never loaded", (t) => {
  const root = makeRoot(t);
  mkdirSync(root, { mode: 0o700 });
  // A preload that reports, at exit, whether the process loaded node:zlib.
  const probe = join(root, "..", `${basename(root)}-probe.cjs`);
  const report = join(root, "..", `${basename(root)}-probe.json`);
  writeFileSync(
    probe,
    `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(report)}, JSON.stringify(process.moduleLoadList.includes("NativeModule zlib"))));\n`,
  );
  t.after(() => {
    rmSync(probe, { force: true });
    rmSync(report, { force: true });
  });
  const env = cleanEnv({ BRIDGE_ROOT: root, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "web" });
  const run = () => {
    const r = spawnSync(process.execPath, ["-r", probe, BIN, "hook", "guard"], { env, input: push, encoding: "utf8" });
    assert.match(r.stdout, /"permissionDecision":"deny"/, r.stderr);
    return JSON.parse(readFileSync(report, "utf8")) as boolean;
  };
  assert.equal(run(), true, "the first run decompresses the bundle (and writes the cache)");
  assert.equal(caches(root).length, 1);
  assert.equal(run(), false, "with the cache, the bundle is not decompressed");
});

test("a code cache is never used in a root another user owns or may write to: one planted there does not run", (t) => {
  const root = makeRoot(t);
  mkdirSync(root, { mode: 0o700 });
  const denied = guard(root).stdout;
  assert.match(denied, /"permissionDecision":"deny"/);
  const file = join(root, "cache", caches(root)[0]!);
  const hash = /^bundle-hook-guard-([0-9a-f]{16})-/.exec(basename(file))![1]!;
  // A cache as sound as any (the right hash, both copies, V8's data for its code), whose code
  // allows everything: what someone who can write to the root could leave there.
  const planted = wrapIn(COMMONJS_WRAPPER, `exports.run = () => ({ code: 0, stdout: "planted\\n" });`);
  writeCodeCache("hook-guard", hash, file, new Script(planted, { filename: "session-bridge/hook-guard.js" }), planted);
  const bytes = readFileSync(file);
  // In a root of one's own it is trusted like any cache there (which is why the rule matters).
  assert.equal(guard(root).stdout, "planted\n");
  // Writable by the group: not read (the guard decides), not rewritten.
  chmodSync(root, 0o770);
  assert.equal(guard(root).stdout, denied);
  assert.deepEqual(readFileSync(file), bytes);
  chmodSync(root, 0o700);
  // Another user's root (giving it away needs root): the same.
  if (process.getuid?.() === 0) {
    chownSync(root, 1, 1);
    try {
      assert.equal(guard(root).stdout, denied);
      assert.deepEqual(readFileSync(file), bytes);
    } finally {
      chownSync(root, 0, 0);
    }
  }
});
