// How install's launcher starts the program for a hook in a bridged session (src/install/home.ts):
// `node -e <this, as build.mjs bundles it> <the .cjs> hook <name>`. Node reads and V8 scans every
// byte of a file it runs, and on the machines measured that is most of what a bridged hook costs
// over `node -e 0` after its code caches (BENCHMARKS.md "Where start-up goes"). But a bridged hook
// that has run once needs nothing from the .cjs but its index: its code and compiled code are in
// caches under <root>/cache (src/runtime/code-cache.ts). So this reads the index from the file's
// last bytes and then:
// - for the guard, and recv when it needs no other bundle (src/hooks.ts bundleRunAlone), runs the
//   hook's bundle from its cache and calls its `run`, the function src/hooks.ts would call: the
//   entry, its cache and its dispatcher are skipped (a bridged guard ~2.5% faster and ~50 page
//   faults fewer, recv with mail ~2%: BENCHMARKS.md "Stop 19");
// - for any other bridged hook, runs the entry from its cache (src/runtime/entry-cache.ts), and the
//   entry loads the hook's bundle from its own (src/runtime/embedded.ts is handed the index, and
//   reads the bundles' stream only if a cache is missing).
//
// Anything short of that (not a bridged hook, no index, no sound cache) runs the .cjs as `node <the
// .cjs>` would: required once, nothing run twice, and the entry then writes the caches this looks
// for. Kept small: it is compiled on every bridged hook.
import { unlinkSync } from "node:fs";
import { dirname } from "node:path";
import { cacheDir, resolveRoot } from "./bus/layout.ts";
import { bundleRunAlone, isBridged } from "./hooks.ts";
import { answerHook, endHook } from "./hooks/io.ts";
import type { HookResult } from "./hooks/io.ts";
import { reportFatal } from "./lib/errors.ts";
import { useCodeCacheFolder } from "./runtime/code-cache.ts";
import { runEntryCached } from "./runtime/entry-cache.ts";
import { evaluateBundle } from "./runtime/evaluate.ts";
import { readIndexTail } from "./runtime/index-tail.ts";
import type { IndexTail } from "./runtime/index-tail.ts";
import FORMAT from "./runtime/bundle-format.json" with { type: "json" };

/** Thrown by a source() when the cache cannot be used: the entry, or the .cjs, runs instead. */
const NO_CACHE = Symbol("no sound cache");
const noCache = (): never => {
  throw NO_CACHE;
};

/**
 * A cache V8 refused (made under other V8 flags, from NODE_OPTIONS) goes, and the next run takes
 * the entry's way, which writes one made under these: writing it here would make this code, which
 * every bridged hook compiles, twice as long.
 */
function dropCache(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Gone already, or not ours to remove: the cache is only refused again.
  }
}

type HookModule = { run(env: NodeJS.ProcessEnv, args: string[]): HookResult | Promise<HookResult> };

export function fastStart(req: NodeJS.Require): void {
  const script = process.argv[1] ?? "";
  if (process.argv[2] === "hook" && isBridged(process.env) && script.startsWith("/")) {
    const tail = readIndexTail(script);
    if (tail) {
      const folder = cacheDir(resolveRoot(process.env));
      useCodeCacheFolder(folder);
      if (runHookAlone(tail.index.bundles as CachedBundles, req, script) || runEntry(tail, folder, req, script)) return;
    }
  }
  req(script);
}

/** What runHookAlone needs of the index's table of bundles: each one's hash, and whether it keeps a cache. */
export type CachedBundles = Record<string, { hash?: unknown; cache?: unknown } | undefined>;

/**
 * The hook's own bundle, from its cache, when it runs without the entry; false when it cannot.
 * The .cjs's prelude tries this first too in a bridged session (build.mjs entryStarter, with the
 * table written in at build time), `script` then being the file Node runs.
 */
export function runHookAlone(bundles: CachedBundles, req: NodeJS.Require, script: string): boolean {
  if (process.argv[2] !== "hook") return false;
  const name = bundleRunAlone(process.argv[3], process.env);
  const stored = name === undefined ? undefined : bundles[name];
  if (name === undefined || typeof stored?.hash !== "string" || stored.cache !== true) return false;
  let hook: HookModule;
  try {
    hook = evaluateBundle(
      { name, hash: stored.hash, cache: true, source: noCache, buildTime: () => undefined, replaceCache: dropCache },
      // The bundles require only Node's built-ins: this script's require serves them as the entry's loader does.
      req,
      script,
    ) as HookModule;
  } catch (err) {
    if (err === NO_CACHE) return false;
    throw err;
  }
  // As src/main.ts ends a hook the entry ran.
  Promise.resolve()
    .then(() => hook.run(process.env, process.argv.slice(4)))
    .then(
      (result) => endHook(answerHook(result)),
      (err: unknown) => {
        process.exitCode = reportFatal(err);
      },
    );
  return true;
}

/** The entry, from its cache; false when there is none to use. */
function runEntry(tail: IndexTail, folder: string, req: NodeJS.Require, script: string): boolean {
  const hash = tail.index.entry;
  if (typeof hash !== "string") return false;
  const Module = req("node:module") as typeof import("node:module") & { new (id: string): NodeModule };
  const entry = new Module(script);
  entry.filename = script;
  // The entry did not arrive through Node's loader, so it has no trailer (src/runtime/self.ts):
  // it gets the index read here instead of reading it again (src/runtime/embedded.ts).
  (globalThis as Record<symbol, unknown>)[Symbol.for(FORMAT.startedKey)] = tail;
  try {
    runEntryCached(folder, hash, entry, Module.createRequire(script), script, dirname(script), noCache);
    return true;
  } catch (err) {
    if (err !== NO_CACHE) throw err;
    (globalThis as Record<symbol, unknown>)[Symbol.for(FORMAT.startedKey)] = undefined;
    return false;
  }
}
