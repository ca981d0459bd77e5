// V8's compiled code of the embedded bundles, kept under <root>/cache: a bridged hook then
// deserializes bytecode instead of compiling its bundle on every prompt (guard: ~1.3 ms → ~0.3 ms,
// before the functions it runs), and `mcp` its SDK on the first tool call (~4 ms → ~0.8 ms). Named
// by bundle hash, Node version and arch, so another build or Node never reads it; written once,
// after the run, so it also holds what the run compiled.
//
// V8 checks a cache's version, flags and source length, not its payload: a damaged payload with a
// sound header crashes the process, and a guard that crashes lets the command through. Hashing
// costs more than the cache saves (node:crypto takes ~2 ms to load, a JS loop ~0.2 ms), so the
// file holds the payload twice and is used only when both copies match: one memcmp.
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Script } from "node:vm";
import { isErrno } from "./errors.ts";
import { ensureDir, removeQuietly, writeFileAtomic } from "./fsutil.ts";
import { cacheDir, resolveRoot } from "./layout.ts";

const MAGIC = Buffer.from("SBCC2x1\n");

/** The cache file for a bundle, or undefined when there is no bridge root to keep it in. */
export function bundleCacheFile(name: string, hash: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const root = resolveRoot(env);
  try {
    // Never create the root for a cache: a machine without a bridge stays without one.
    if (!lstatSync(root).isDirectory()) return undefined;
  } catch {
    // No root (or unreadable): run without a cache.
    return undefined;
  }
  return join(cacheDir(root), `bundle-${name}-${hash}-${process.version}-${process.arch}.v8cache`);
}

/** A cache's payload: "missing" (none yet), "damaged", or the bytes to hand to V8. Never throws. */
export function readCodeCache(file: string): Buffer | "missing" | "damaged" {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    // No cache yet (first run, new build): compile, and write one afterwards.
    return isErrno(err, "ENOENT", "ENOTDIR") ? "missing" : "damaged";
  }
  return parseCodeCache(data) ?? "damaged";
}

/** The payload of a cache file's bytes (also the executable's build-time asset), if sound. */
export function parseCodeCache(data: Buffer): Buffer | undefined {
  if (data.length <= MAGIC.length + 4 || !data.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const size = data.readUInt32LE(MAGIC.length);
  const first = MAGIC.length + 4;
  if (data.length !== first + 2 * size) return undefined;
  const payload = data.subarray(first, first + size);
  return payload.equals(data.subarray(first + size)) ? payload : undefined;
}

/**
 * Writes the script's cache now (temp + rename: a concurrent reader never sees half of one) and
 * removes the caches of this bundle's other builds. Throws on failure: the caller decides whether
 * anyone needs to hear about it.
 */
export function writeCodeCache(name: string, file: string, script: Script): void {
  const payload = script.createCachedData();
  const size = Buffer.alloc(4);
  size.writeUInt32LE(payload.length);
  const dir = join(file, "..");
  ensureDir(dir);
  writeFileAtomic(file, Buffer.concat([MAGIC, size, payload, payload]));
  const stale = new RegExp(`^bundle-${name}-[0-9a-f]{16}-.*\\.v8cache$`);
  for (const other of readdirSync(dir)) if (stale.test(other) && join(dir, other) !== file) removeQuietly(join(dir, other));
}

/** writeCodeCache at exit, silently: for hooks, whose stderr Claude Code shows. */
export function writeCodeCacheAtExit(name: string, file: string, script: Script): void {
  process.once("exit", () => {
    try {
      writeCodeCache(name, file, script);
    } catch {
      // A cache only saves time: a full disk or a read-only root must not fail a hook or print.
    }
  });
}
