// V8's compiled code of the embedded bundles, kept under <root>/cache: a bridged hook then
// deserializes bytecode instead of compiling its bundle on every prompt (guard: ~1.3 ms → ~0.3 ms,
// before the functions it runs), `mcp` its own bundle (~2 ms → ~0.5 ms) and its SDK on the first
// tool call (~4 ms → ~0.8 ms). The executable also carries caches made at build time. Named
// by bundle hash, Node version and arch, so another build or Node never reads it; written once,
// after the hook's work, so it also holds what the run compiled. The .cjs's entry keeps one too,
// by the same rules and with these functions, read by its prelude (entry-cache.ts).
//
// The file also holds the bundle's code, as the entry handed it to V8: the bundles are stored
// compressed in the .cjs (build.mjs: every byte of it costs every start, bridged or not), and a
// bridged hook with its cache then needs neither node:zlib (~1.2 ms to load) nor the inflate.
//
// V8 checks a cache's version, flags and source length, not its payload: a damaged payload with a
// sound header crashes the process, and a guard that crashes lets the command through. Hashing
// costs more than the cache saves (node:crypto takes ~2 ms to load, a JS loop ~0.2 ms), so the
// file holds the payload twice and is used only when both copies match: one memcmp.
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Script } from "node:vm";
import { isErrno } from "../lib/errors.ts";
import { DIR_MODE, ensureDir, removeQuietly, writeFileAtomic } from "../lib/fs.ts";
import { isSea, nodeRequire } from "./self.ts";
import FORMAT from "./bundle-format.json" with { type: "json" };
import { fillTemplate } from "./format.ts";

// "3": the payload is [the bundle's hash, 16 hex digits][u32 code bytes][its code, ASCII][V8's data];
// "2" held V8's data alone. The hash inside, not only in the name: a cache renamed or copied over
// another bundle's would otherwise run that other bundle's code.
const MAGIC = Buffer.from("SBCC3x1\n");
const HASH_BYTES = 16;

/** A sound cache: the bundle's code and V8's data for it. */
export interface CodeCache {
  code: string;
  data: Buffer;
}

/** V8's data of the build-time cache of a bundle carried by the executable, if any. Never throws. */
export function seaCodeCache(name: string, hash: string): Buffer | undefined {
  let data: Buffer;
  try {
    const sea = nodeRequire("node:sea") as typeof import("node:sea");
    // The executable's asset holding the bundle's cache made at build time (scripts/build-sea.mjs).
    data = Buffer.from(sea.getAsset(fillTemplate(FORMAT.seaCacheAsset, { name })));
  } catch {
    // An executable built without it (build-sea --no-sdk-cache), or a bundle that has none.
    return undefined;
  }
  return parseCodeCache(data, hash)?.data;
}

// Every embedded bundle carries its own copy of this module (src/runtime/embedded.ts), so the
// folder the entry chose is kept where all copies see it, not in a module variable.
const FOLDER = Symbol.for("session-bridge.codeCacheFolder");
const shared = globalThis as { [FOLDER]?: string };

/**
 * Where caches go for this process: the entry sets it (src/main.ts) to <root>/cache in a bridged
 * session, and leaves it unset elsewhere, so a globally registered `mcp` or a hook outside a
 * bridged session writes nothing.
 */
export function useCodeCacheFolder(dir: string | undefined): void {
  shared[FOLDER] = dir;
}

/** The cache file for a bundle; undefined when no folder is set or its parent (the root) is missing. */
export function bundleCacheFile(name: string, hash: string): string | undefined {
  const folder = shared[FOLDER];
  if (folder === undefined) return undefined;
  try {
    // Never create the root for a cache: a machine without a bridge stays without one.
    if (!lstatSync(join(folder, "..")).isDirectory()) return undefined;
  } catch {
    // No root (or unreadable): run without a cache.
    return undefined;
  }
  return join(folder, `bundle-${name}-${hash}-${process.version}-${process.arch}.v8cache`);
}

/** A cache: "missing" (none yet), "damaged", or the code and the bytes to hand to V8. Never throws. */
export function readCodeCache(file: string, hash: string): CodeCache | "missing" | "damaged" {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    // No cache yet (first run, new build): compile, and write one afterwards.
    return isErrno(err, "ENOENT", "ENOTDIR") ? "missing" : "damaged";
  }
  return parseCodeCache(data, hash) ?? "damaged";
}

/** The code and V8's data in a cache file's bytes (also the executable's build-time asset), if sound. */
export function parseCodeCache(data: Buffer, hash: string): CodeCache | undefined {
  if (data.length <= MAGIC.length + 4 || !data.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const size = data.readUInt32LE(MAGIC.length);
  const first = MAGIC.length + 4;
  const codeAt = HASH_BYTES + 4;
  if (data.length !== first + 2 * size || size < codeAt) return undefined;
  const payload = data.subarray(first, first + size);
  if (!payload.equals(data.subarray(first + size))) return undefined;
  if (payload.toString("latin1", 0, HASH_BYTES) !== hash) return undefined;
  const codeBytes = payload.readUInt32LE(HASH_BYTES);
  // No V8 data after the code (or a length past the end): not a cache this code wrote.
  if (codeAt + codeBytes >= size) return undefined;
  // The bundles are ASCII (build.mjs), so latin1 is exact, and the cheapest decode there is.
  return { code: payload.toString("latin1", codeAt, codeAt + codeBytes), data: payload.subarray(codeAt + codeBytes) };
}

export interface CachedCompile {
  script: Script;
  /** The code the script was compiled from: the cache's when it had a sound one, else the bundle's. */
  code: string;
  /** Where the cache should be written after the run: none was found, or V8 rejected it. */
  saveTo?: string;
  /** The cache file under <root>/cache was damaged (it is then compiled without, and rewritten). */
  damaged?: string;
}

/**
 * Compiles a bundle exactly once, with the best cache there is: the one under <root>/cache (it
 * exists only if it was needed), else the executable's build-time one. Once, because V8 keeps
 * every compiled script in the isolate by source: a second compile of the same source returns the
 * first, ignores its cachedData and still reports it not rejected, and every function is then
 * compiled lazily as if there were no cache (a bridged guard used to compile its bundle from
 * source, then "with" its cache: 52 million instructions of main-thread work against 40 with the
 * cache alone, node -e 0 being 16; callgrind).
 */
/**
 * `source()` decodes the bundle's own code (an inflate, for a compressed one): only called when
 * there is no sound cache. The cache's code is the bundle's: its file is named by the hash of it.
 */
export function compileWithCache(
  name: string,
  hash: string,
  compile: (code: string, cachedData: Buffer | undefined) => Script,
  source: () => string,
): CachedCompile {
  return compileWithFolderCache(name, hash, compile, source, () => (isSea() ? seaCodeCache(name, hash) : undefined));
}

/**
 * compileWithCache with the build-time cache (if any) handed in: the .cjs's prelude compiles the
 * entry with this (src/runtime/entry-cache.ts), and the prelude never runs in the executable, whose
 * main script is the entry itself; this way it does not carry the executable's lookup.
 */
export function compileWithFolderCache(
  name: string,
  hash: string,
  compile: (code: string, cachedData: Buffer | undefined) => Script,
  source: () => string,
  buildTime: () => Buffer | undefined,
): CachedCompile {
  const file = bundleCacheFile(name, hash);
  const found = file ? readCodeCache(file, hash) : "missing";
  const damaged = found === "damaged" ? { damaged: file! } : {};
  if (typeof found !== "string") {
    const script = compile(found.code, found.data);
    return script.cachedDataRejected ? { script, code: found.code, saveTo: file! } : { script, code: found.code };
  }
  const code = source();
  const built = buildTime();
  const script = compile(code, built);
  // A rejected build-time cache (other V8 flags, from NODE_OPTIONS): the folder's, made under these, is used next time.
  return file && (!built || script.cachedDataRejected) ? { script, code, saveTo: file, ...damaged } : { script, code, ...damaged };
}

/**
 * Writes the script's cache now (temp + rename: a concurrent reader never sees half of one) and
 * removes the caches of this bundle's other builds. Throws on failure: the caller decides whether
 * anyone needs to hear about it.
 */
export function writeCodeCache(name: string, hash: string, file: string, script: Script, code: string): void {
  const data = script.createCachedData();
  const codeBytes = Buffer.from(code, "latin1");
  const head = Buffer.alloc(HASH_BYTES + 4);
  head.write(hash, 0, HASH_BYTES, "latin1");
  head.writeUInt32LE(codeBytes.length, HASH_BYTES);
  const payload = Buffer.concat([head, codeBytes, data]);
  const size = Buffer.alloc(4);
  size.writeUInt32LE(payload.length);
  const dir = join(file, "..");
  makeCacheDir(dir);
  writeFileAtomic(file, Buffer.concat([MAGIC, size, payload, payload]));
  const stale = new RegExp(`^bundle-${name}-[0-9a-f]{16}-.*\\.v8cache$`);
  for (const other of readdirSync(dir)) if (stale.test(other) && join(dir, other) !== file) removeQuietly(join(dir, other));
}

// Only the cache folder itself is made, never its parents: the root may have been removed while
// this process ran (a hook outliving its session), and must then stay removed.
function makeCacheDir(dir: string): void {
  try {
    mkdirSync(dir, { mode: DIR_MODE });
    chmodSync(dir, DIR_MODE); // whatever the umask
  } catch (err) {
    if (!isErrno(err, "EEXIST")) throw err;
  }
  ensureDir(dir); // refuses a symlink or a file in its place
}

/**
 * writeCodeCache once the synchronous work under way is done, silently: for hooks, whose stderr
 * Claude Code shows. A hook's work is synchronous, so the cache then holds what its run compiled;
 * a long-running process (hook wait, mcp) writes it early, while its root surely exists, rather
 * than at an exit that may come after the root was removed (which the write would then revive).
 */
export function writeCodeCacheSoon(name: string, hash: string, file: string, script: Script, code: string): void {
  setImmediate(() => {
    try {
      writeCodeCache(name, hash, file, script, code);
    } catch {
      // A cache only saves time: a full disk or a read-only root must not fail a hook or print.
    }
  });
}
