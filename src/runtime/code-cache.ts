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
// file holds the payload twice and is used only when both copies match. The second copy is read
// in pieces into one small buffer and compared: every fresh page of memory is a page fault (~13 µs
// on the machine of BENCHMARKS.md), and reading it whole cost a bridged guard ~50 of them.
import { chmodSync, closeSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readSync } from "node:fs";
import { join } from "node:path";
import type { Stats } from "node:fs";
import type { Script } from "node:vm";
import { isErrno } from "../lib/errors.ts";
import { DIR_MODE, ensureDir, ownedByOther, readAt, removeQuietly, writeFileAtomic } from "../lib/fs.ts";
import { isSea, nodeRequire } from "./self.ts";
import FORMAT from "./bundle-format.json" with { type: "json" };
import { fillTemplate } from "./format.ts";

// "4": [MAGIC][u32 payload bytes][payload][the payload again], the payload being [the bundle's hash,
// 16 hex digits][u32 code bytes][the code as V8 compiled it, wrapper and all, ASCII][0-7 zero
// bytes][V8's data]. The zeros put V8's data 8-byte aligned in a buffer holding the file from its
// start: V8 copies cached data that is not (~130 KB for the guard, its pages faulted in). The code
// is kept wrapped: wrapping it again would make V8 flatten a second copy of it. The hash inside,
// not only in the name: a cache renamed or copied over another bundle's would otherwise run that
// other bundle's code. "3" kept the code unwrapped and the data unaligned; an older file is
// replaced without a word, as a missing one.
const MAGIC = Buffer.from("SBCC4x1\n");
const FAMILY = "SBCC";
const HEAD_BYTES = MAGIC.length + 4;
const HASH_BYTES = 16;
/** Where the code starts, in the file. */
const CODE_AT = HEAD_BYTES + HASH_BYTES + 4;
const ALIGN = 8;
/** No cache comes near this (the MCP SDK's is ~2 MB): a bigger file is damaged, and never read whole. */
const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;
/** The pieces the second copy is read in. */
const PIECE_BYTES = 16 * 1024;

/** What a compiled bundle's code is wrapped in: the cache holds it wrapped, and is checked to be. */
export interface Wrapper {
  head: string;
  tail: string;
}

/** `code` in `wrapper`: what is compiled, and what a cache holds. */
export const wrapIn = (wrapper: Wrapper, code: string): string => wrapper.head + code + wrapper.tail;

/** Node's CommonJS wrapper: the entry and the embedded bundles run as modules of the file. */
export const COMMONJS_WRAPPER: Wrapper = { head: "(function (exports, require, module, __filename, __dirname) {", tail: "\n})" };

/** A sound cache: the code V8 compiled (wrapped) and V8's data for it. */
export interface CodeCache {
  code: string;
  data: Buffer;
}

/** V8's data of the build-time cache of a bundle carried by the executable, if any. Never throws. */
export function seaCodeCache(name: string, hash: string, wrapper: Wrapper): Buffer | undefined {
  let data: Buffer;
  try {
    const sea = nodeRequire("node:sea") as typeof import("node:sea");
    // The executable's asset holding the bundle's cache made at build time (scripts/build-sea.mjs).
    data = Buffer.from(sea.getAsset(fillTemplate(FORMAT.seaCacheAsset, { name })));
  } catch {
    // An executable built without it (build-sea --no-sdk-cache), or a bundle that has none.
    return undefined;
  }
  return parseCodeCache(data, hash, wrapper)?.data;
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

/**
 * The cache file for a bundle; undefined when no folder is set, or its parent (the root) is missing
 * or not this user's alone.
 */
export function bundleCacheFile(name: string, hash: string): string | undefined {
  const folder = shared[FOLDER];
  if (folder === undefined) return undefined;
  try {
    // Never create the root for a cache: a machine without a bridge stays without one. And never
    // use one in a root that another user owns or may write to: a cache is code this process
    // runs, and one planted there would run as this user before any hook checks the root (the
    // planted code would be the check). The cache folder inside needs no check of its own: only
    // who may write to the root can make it.
    const root = lstatSync(join(folder, ".."));
    if (!root.isDirectory() || !aloneIn(root)) return undefined;
  } catch {
    // No root (or unreadable): run without a cache.
    return undefined;
  }
  return join(folder, `bundle-${name}-${hash}-${process.version}-${process.arch}.v8cache`);
}

/** Owned by this user, and writable by no one else (no group or other write bit). */
function aloneIn(folder: Stats): boolean {
  return !ownedByOther(folder) && (folder.mode & 0o022) === 0;
}

/** A cache: "missing" (none yet, or of an older format), "damaged", or the code and V8's data. Never throws. */
export function readCodeCache(file: string, hash: string, wrapper: Wrapper): CodeCache | "missing" | "damaged" {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (err) {
    // No cache yet (first run, new build): compile, and write one afterwards.
    return isErrno(err, "ENOENT", "ENOTDIR") ? "missing" : "damaged";
  }
  try {
    const head = readAt(fd, 0, HEAD_BYTES);
    if (head.length < HEAD_BYTES || !head.subarray(0, MAGIC.length).equals(MAGIC))
      return head.toString("latin1", 0, FAMILY.length) === FAMILY && head.length >= MAGIC.length ? "missing" : "damaged";
    const size = head.readUInt32LE(MAGIC.length);
    if (size > MAX_PAYLOAD_BYTES || fstatSync(fd).size !== HEAD_BYTES + 2 * size) return "damaged";
    // The first copy read again with the head, from the file's start: V8's data is aligned from there.
    const first = readAt(fd, 0, HEAD_BYTES + size);
    if (first.length !== HEAD_BYTES + size || !holdsAgain(fd, first.subarray(HEAD_BYTES), HEAD_BYTES + size)) return "damaged";
    return parseFirstCopy(first, hash, wrapper) ?? "damaged";
  } catch {
    // Unreadable (EIO, EISDIR): compiled without, and replaced.
    return "damaged";
  } finally {
    closeSync(fd);
  }
}

/** Whether the file holds `copy` again from `at`, read in pieces into one small buffer. */
function holdsAgain(fd: number, copy: Buffer, at: number): boolean {
  const piece = Buffer.allocUnsafe(Math.min(copy.length, PIECE_BYTES));
  for (let done = 0; done < copy.length; ) {
    const got = readSync(fd, piece, 0, Math.min(piece.length, copy.length - done), at + done);
    if (got === 0 || !piece.subarray(0, got).equals(copy.subarray(done, done + got))) return false;
    done += got;
  }
  return true;
}

/** The code and V8's data in a whole cache file's bytes (the executable's build-time asset), if sound. */
export function parseCodeCache(data: Buffer, hash: string, wrapper: Wrapper): CodeCache | undefined {
  if (data.length < HEAD_BYTES || !data.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const size = data.readUInt32LE(MAGIC.length);
  if (data.length !== HEAD_BYTES + 2 * size) return undefined;
  if (!data.subarray(HEAD_BYTES, HEAD_BYTES + size).equals(data.subarray(HEAD_BYTES + size))) return undefined;
  return parseFirstCopy(data.subarray(0, HEAD_BYTES + size), hash, wrapper);
}

/** The head and the payload, checked against the hash and the wrapper (their copies already compared). */
function parseFirstCopy(first: Buffer, hash: string, wrapper: Wrapper): CodeCache | undefined {
  if (first.length < CODE_AT || first.toString("latin1", HEAD_BYTES, HEAD_BYTES + HASH_BYTES) !== hash) return undefined;
  const codeBytes = first.readUInt32LE(HEAD_BYTES + HASH_BYTES);
  const dataAt = alignUp(CODE_AT + codeBytes);
  // No V8 data after the code (or a length past the end): not a cache this code wrote.
  if (dataAt >= first.length) return undefined;
  // The bundles are ASCII (build.mjs), so latin1 is exact, and the cheapest decode there is.
  const code = first.toString("latin1", CODE_AT, CODE_AT + codeBytes);
  if (!code.startsWith(wrapper.head) || !code.endsWith(wrapper.tail)) return undefined;
  return { code, data: first.subarray(dataAt) };
}

const alignUp = (at: number): number => Math.ceil(at / ALIGN) * ALIGN;

export interface CachedCompile {
  script: Script;
  /** The code the script was compiled from, wrapped: the cache's when it had a sound one, else the bundle's. */
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
 *
 * `compile` gets the code wrapped in `wrapper`. `source()` decodes the bundle's own code (an
 * inflate, for a compressed one): only called when there is no sound cache. The cache's code is
 * the bundle's: its file is named by the hash of it.
 */
export function compileWithCache(
  name: string,
  hash: string,
  wrapper: Wrapper,
  compile: (code: string, cachedData: Buffer | undefined) => Script,
  source: () => string,
): CachedCompile {
  return compileWithFolderCache(name, hash, wrapper, compile, source, () => (isSea() ? seaCodeCache(name, hash, wrapper) : undefined));
}

/**
 * compileWithCache with the build-time cache (if any) handed in: the .cjs's prelude compiles the
 * entry with this (src/runtime/entry-cache.ts), and the prelude never runs in the executable, whose
 * main script is the entry itself; this way it does not carry the executable's lookup.
 */
export function compileWithFolderCache(
  name: string,
  hash: string,
  wrapper: Wrapper,
  compile: (code: string, cachedData: Buffer | undefined) => Script,
  source: () => string,
  buildTime: () => Buffer | undefined,
): CachedCompile {
  const file = bundleCacheFile(name, hash);
  const found = file ? readCodeCache(file, hash, wrapper) : "missing";
  const damaged = found === "damaged" ? { damaged: file! } : {};
  if (typeof found !== "string") {
    const script = compile(found.code, found.data);
    return script.cachedDataRejected ? { script, code: found.code, saveTo: file! } : { script, code: found.code };
  }
  const code = wrapIn(wrapper, source());
  const built = buildTime();
  const script = compile(code, built);
  // A rejected build-time cache (other V8 flags, from NODE_OPTIONS): the folder's, made under these, is used next time.
  return file && (!built || script.cachedDataRejected) ? { script, code, saveTo: file, ...damaged } : { script, code, ...damaged };
}

/**
 * Writes the script's cache now (temp + rename: a concurrent reader never sees half of one) and
 * removes the caches of this bundle's other builds. `code` is what the script was compiled from,
 * wrapped (CachedCompile.code). Throws on failure: the caller decides whether anyone needs to hear
 * about it.
 */
export function writeCodeCache(name: string, hash: string, file: string, script: Script, code: string): void {
  const data = script.createCachedData();
  const codeBytes = Buffer.byteLength(code, "latin1");
  const dataAt = alignUp(CODE_AT + codeBytes);
  const size = dataAt + data.length - HEAD_BYTES;
  // Zero-filled: the bytes between the code and V8's data stay zeros.
  const out = Buffer.alloc(HEAD_BYTES + 2 * size);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(size, MAGIC.length);
  out.write(hash, HEAD_BYTES, HASH_BYTES, "latin1");
  out.writeUInt32LE(codeBytes, HEAD_BYTES + HASH_BYTES);
  out.write(code, CODE_AT, codeBytes, "latin1");
  data.copy(out, dataAt);
  out.copy(out, HEAD_BYTES + size, HEAD_BYTES, HEAD_BYTES + size);
  const dir = join(file, "..");
  makeCacheDir(dir);
  writeFileAtomic(file, out);
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
