// The bundles embedded in the binary, evaluated on demand. build.mjs builds every command's module
// (each `import()` in src/main.ts and src/hooks.ts) and the MCP SDK as separate CommonJS bundles
// and stores them after the code of dist/session-bridge.cjs in one trailing block
// comment, with an index on the file's last line; the single executable carries them as assets.
// V8 skips a comment about twice as fast as it scans a string literal, and only the code in front
// of it is parsed: so a hook pays for the dispatcher, not for the CLI, the MCP server or the
// daemon. Each bundle has its own copy of the store modules: nothing may rely on module identity
// across bundles (BridgeError's instanceof goes by a brand for that reason).
import { closeSync, openSync } from "node:fs";
import { COMMONJS_WRAPPER, seaCodeCache, writeCodeCacheSoon } from "./code-cache.ts";
import { evaluateBundle } from "./evaluate.ts";
import { BridgeError } from "../lib/errors.ts";
import { readAt } from "../lib/fs.ts";
import { isSea, nodeRequire, scriptPath } from "./self.ts";
import FORMAT from "./bundle-format.json" with { type: "json" };
import { fillTemplate } from "./format.ts";
import { type IndexTail, indexLineIn, isIndexOfThisFormat, readTail } from "./index-tail.ts";

/** Where a bundle's code lies in the inflated stream (after its header line). */
export interface BundleEntry {
  /** Its first character; the bundles are ASCII (build.mjs), so characters are bytes. */
  at: number;
  bytes: number;
  /** The stream's first `upTo` bytes (compressed) inflate to every bundle through this one. */
  upTo: number;
  /** sha256 of the bundle's code, 16 hex digits (names its code cache). */
  hash: string;
  /** Keeps V8's compiled code (src/runtime/code-cache.ts): the hooks and mcp, whose start is waited for. */
  cache?: true;
}

export interface BundleIndex {
  format: number;
  build: string;
  /** The hash of the entry's code, which names its code cache (src/runtime/entry-cache.ts, src/fast-start.ts). */
  entry: string;
  /** The one brotli stream, as base64 after its header line: the `bytes` before the index line. */
  stream: { bytes: number };
  bundles: Record<string, BundleEntry>;
}

// The trailer's index is its last line; the file ends with "\n" + indexTail + "\n". The stream's
// first line and each bundle's (inside the inflated text) are checked on read: they catch a file
// replaced mid-run (when the file has to be read again, see loadedText) and an index that lies.
const bundleHeader = (name: string, build: string): string => fillTemplate(FORMAT.bundleHeader, { name, build });

let index: BundleIndex | undefined;
// Offset of the index line, in the file or in `loaded`: the stream is located from it.
let indexAt = 0;
// The text of the file as Node loaded it, when it could be had (loadedText).
let loaded: string | undefined;
// The stream as stored (base64), and what has been inflated of it: every bundle's code through
// the furthest one needed so far.
let packed: string | undefined;
let inflated: string | undefined;
const sources = new Map<string, string>();
const modules = new Map<string, unknown>();

export interface StoredBundle {
  entry: BundleEntry;
  /** The code, inflated from the stream on the first call. */
  code(): string;
}

/** Reads the bundles as stored (a read, microseconds) and leaves inflating them for later. */
export function storedBundle(name: string): StoredBundle {
  const idx = readIndex();
  const entry = Object.hasOwn(idx.bundles, name) ? idx.bundles[name] : undefined;
  if (!entry) throw damaged(`it has no embedded bundle "${name}" (it has: ${Object.keys(idx.bundles).join(", ")})`);
  const known = sources.get(name);
  if (known !== undefined) return { entry, code: () => known };
  if (isSea()) return { entry, code: () => remember(name, seaAsset(fillTemplate(FORMAT.seaBundleAsset, { name }))) };
  // The stream is read only when a bundle's code is wanted: with its code cache, never (the
  // launcher's fast start runs a bridged hook without reading the file past its index).
  return {
    entry,
    code: () => {
      const known = sources.get(name);
      if (known !== undefined) return known;
      readStream(idx);
      return remember(name, bundleCode(name, entry, idx));
    },
  };
}

function remember(name: string, code: string): string {
  sources.set(name, code);
  return code;
}

/** Evaluates a CommonJS bundle once and returns its exports. */
export function loadEmbedded<T>(name: string): T {
  if (modules.has(name)) return modules.get(name) as T;
  const stored = storedBundle(name);
  const { hash } = stored.entry;
  const exports = evaluateBundle(
    {
      name,
      hash,
      cache: stored.entry.cache === true,
      source: stored.code,
      buildTime: () => (isSea() ? seaCodeCache(name, hash, COMMONJS_WRAPPER) : undefined),
      // A damaged or missing one is not worth a word on a hook's stderr: it is simply rewritten.
      replaceCache: (file, script, code) => writeCodeCacheSoon(name, hash, file, script, code),
    },
    nodeRequire,
    isSea() ? process.execPath : scriptPath(),
  );
  modules.set(name, exports);
  return exports as T;
}

// A bundle's own import() (the CLI's or a hook's of the Redis store) goes through the entry's
// loader, found here, rather than a copy of this module in every such bundle (build.mjs).
(globalThis as Record<symbol, unknown>)[Symbol.for("session-bridge.loadEmbedded")] = loadEmbedded;

/**
 * The trailer's text as Node loaded it: build.mjs makes the trailer the body of a function at the
 * end of the .cjs, which the entry hands to globalThis, and a function's text is a slice of its
 * file's (no copy). That spares a hook opening and reading the file again (and compiling the fs
 * functions that takes), and no build that replaced the file since can mix in. Undefined in the
 * executable, in tests, or if a runtime kept no source: the file is read then.
 */
function loadedText(): string | undefined {
  const bundles = (globalThis as Record<symbol, unknown>)[Symbol.for(FORMAT.bundlesKey)];
  if (typeof bundles !== "function") return undefined;
  const text = Function.prototype.toString.call(bundles);
  // A function's text: never the file's first byte, which trailerHead's "\n" stands for.
  return text.startsWith(FORMAT.trailerHead.slice(1)) ? text : undefined;
}

function readIndex(): BundleIndex {
  if (index) return index;
  let text: string;
  if (isSea()) text = seaAsset(FORMAT.seaIndexAsset);
  else {
    const handed = handedIndex();
    if (handed) {
      indexAt = handed.at;
      return (index = handed.index as unknown as BundleIndex);
    }
    let tailAt = 0;
    loaded = loadedText();
    if (loaded !== undefined) text = loaded;
    else {
      let tail: { text: string; at: number };
      try {
        tail = readTail(scriptPath());
      } catch (err) {
        throw unreadable(err);
      }
      text = tail.text;
      tailAt = tail.at;
    }
    const line = indexLineIn(text);
    if (!line) throw damaged("its index of embedded bundles is missing (was it cut short, or built without build.mjs?)");
    indexAt = tailAt + line.start;
    text = text.slice(line.start, line.end);
  }
  let parsed: BundleIndex;
  try {
    parsed = JSON.parse(text) as BundleIndex;
  } catch (err) {
    throw damaged(`its index of embedded bundles is not JSON (${(err as Error).message})`);
  }
  if (!isIndexOfThisFormat(parsed)) throw damaged("its index of embedded bundles has an unknown format");
  index = parsed;
  return parsed;
}

/** The index the launcher's fast start read (src/fast-start.ts), checked there like one read here. */
function handedIndex(): IndexTail | undefined {
  const handed = (globalThis as Record<symbol, unknown>)[Symbol.for(FORMAT.startedKey)] as IndexTail | undefined;
  return handed !== undefined && isIndexOfThisFormat(handed.index) ? handed : undefined;
}

function readStream(idx: BundleIndex): void {
  if (packed !== undefined) return;
  const bytes = idx.stream?.bytes;
  if (typeof bytes !== "number" || bytes > indexAt) throw damaged("its stream of embedded bundles lies outside the file");
  const at = indexAt - bytes;
  let text: string;
  if (loaded !== undefined) text = loaded.slice(at, indexAt);
  else {
    const fd = openSelf(scriptPath());
    try {
      text = readAt(fd, at, bytes).toString("latin1");
    } finally {
      closeSync(fd);
    }
  }
  const header = fillTemplate(FORMAT.streamHeader, { build: idx.build });
  // Another build written over this file since the index was read (an upgrade mid-run) fails here.
  if (!text.startsWith(header))
    throw damaged("its stream of embedded bundles is not where the index says (was the file replaced while running?)");
  packed = text.slice(header.length);
}

/**
 * A bundle's code, inflating the stream through its end (build.mjs flushes the encoder after each
 * bundle) unless that is done: the bundles share their modules, so one stream is 318 KB of base64
 * where separate ones were 546 KB, and every hook scans the file. The price is paid by a bundle
 * without a sound code cache: loading node:zlib (~8M instructions, callgrind; ~1.2 ms) and the
 * inflate, which the table's order keeps short for the bundles run most (src/runtime/bundles.json):
 * the SessionStart hook's 19 KB ~6M instructions, the CLI's 97 KB ~8M (its own stream took ~7M),
 * all 1.5 MB ~32M (25-32 ms, median of 15 fresh `node` runs on the 2-core machine of
 * BENCHMARKS.md at load 2). A bundle past what is inflated inflates again from the start: its
 * prefix holds the earlier ones, and the table puts a bundle a command loads (the Redis store)
 * after the command's. A bundle that keeps a code cache takes its code from there instead
 * (src/runtime/code-cache.ts), so a bridged hook pays this once per build.
 */
function bundleCode(name: string, entry: BundleEntry, idx: BundleIndex): string {
  const { at, bytes, upTo } = entry;
  if (inflated === undefined || inflated.length < at + bytes) {
    const zlib = nodeRequire("node:zlib") as typeof import("node:zlib");
    // The stream's first upTo bytes, in base64 (4 characters hold 3 bytes); FLUSH: no error for
    // a stream that goes on.
    const base64 = packed!.slice(0, 4 * Math.ceil(upTo / 3));
    let text: string;
    try {
      text = zlib
        .brotliDecompressSync(Buffer.from(base64, "base64"), { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH })
        .toString("latin1");
    } catch (err) {
      throw damaged(`its stream of embedded bundles does not inflate (${(err as Error).message})`);
    }
    if (text.length < at + bytes)
      throw damaged(`its stream of embedded bundles inflates to ${text.length} bytes, short of bundle "${name}"`);
    inflated = text;
  }
  const header = bundleHeader(name, idx.build);
  if (!(at >= header.length && bytes >= 0 && inflated.startsWith(header, at - header.length)))
    throw damaged(`bundle "${name}" is not where the index says`);
  return inflated.slice(at, at + bytes);
}

function openSelf(file: string): number {
  try {
    return openSync(file, "r");
  } catch (err) {
    throw unreadable(err);
  }
}

function unreadable(err: unknown): BridgeError {
  return new BridgeError("E_IO", `cannot read the embedded code of ${scriptPath()}: ${(err as Error).message}; reinstall session-bridge`);
}

function seaAsset(key: string): string {
  const sea = nodeRequire("node:sea") as typeof import("node:sea");
  try {
    return sea.getAsset(key, "utf8");
  } catch (err) {
    throw damaged(`the executable has no asset "${key}" (${(err as Error).message})`);
  }
}

function damaged(problem: string): BridgeError {
  const what = isSea() ? process.execPath : typeof __filename === "string" ? __filename : "this session-bridge";
  return new BridgeError("E_IO", `${what} is damaged: ${problem}; rebuild it (npm run build) or reinstall it`);
}
