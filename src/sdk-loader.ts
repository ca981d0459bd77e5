import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Script } from "node:vm";
import { storedBundle } from "./embedded.ts";
import type { StoredBundle } from "./embedded.ts";
import { isErrno } from "./errors.ts";
import { ensureDir } from "./fsutil.ts";
import { isSea, nodeRequire } from "./runtime.ts";

export type McpSdk = typeof import("./mcp-sdk.ts");

export interface LoadOptions {
  /**
   * A folder for V8's code cache of the SDK. Without a usable cache V8 parses the whole bundle and
   * compiles each function on first call (~10 ms); with one it deserializes bytecode instead. The
   * first run (or one after an upgrade) compiles as usual; call saveMcpSdkCodeCache() once the
   * server has answered its first tool call, so the functions compiled for that are in the cache too.
   * The single executable carries a cache made at build time and only writes here if V8 rejects it.
   */
  codeCacheDir?: string;
}

/** The embedded bundle's name (build.mjs). */
export const SDK_BUNDLE = "mcp-sdk";

let source: StoredBundle | undefined;

/**
 * Reads the SDK as stored now (microseconds; inflating and evaluating it is what costs), so that a
 * server started from one build never evaluates the SDK of another that replaced the file meanwhile.
 */
export function readMcpSdk(): void {
  source ??= storedBundle(SDK_BUNDLE);
}

/** Name of the SEA asset holding the build-time cache (scripts/build-sea.mjs). */
export const SEA_CODE_CACHE_ASSET = "mcp-sdk.v8cache";

// Our cache file: MAGIC, sha256 of the payload, V8's payload. V8 checks that a cache matches its
// version, flags and the source *length*, but not the payload itself (only debug builds do):
// a corrupted payload with a sound header crashes the process (SIGSEGV), on every start.
const MAGIC = Buffer.from("SBV8CC1\n");
const HEADER = MAGIC.length + 32;

let loaded: McpSdk | undefined;
let pendingSave: { script: Script; file: string } | undefined;

// Evaluates the embedded SDK bundle (CommonJS) the first time the MCP server needs it.
export function loadMcpSdk(options: LoadOptions = {}): McpSdk {
  if (loaded) return loaded;
  readMcpSdk();
  const code = source!.code();
  const { hash } = source!.entry;
  // Named by the bundle's content hash and the node it ran on, so another build never reads it.
  const cacheFile = options.codeCacheDir && join(options.codeCacheDir, `mcp-sdk-${hash}-${process.version}-${process.arch}.v8cache`);
  // The executable's own cache (made at build time) first: it needs no file. V8 rejects a cache
  // made under other flags (NODE_OPTIONS), and then the folder's, made under these, is tried.
  const seaCache = isSea() ? readSeaCache() : undefined;
  let script = compile(code, seaCache);
  if (cacheFile && (!seaCache || script.cachedDataRejected)) {
    const fileCache = readCacheFile(cacheFile);
    if (fileCache) script = compile(code, fileCache);
    if (!fileCache || script.cachedDataRejected) pendingSave = { script, file: cacheFile };
  }
  const wrapper = script.runInThisContext() as (module: { exports: unknown }, exports: unknown, require: NodeJS.Require) => void;
  const module = { exports: {} as unknown };
  wrapper(module, module.exports, nodeRequire);
  loaded = module.exports as McpSdk;
  return loaded;
}

function compile(code: string, cachedData: Buffer | undefined): Script {
  return new Script(`(function (module, exports, require) {${code}\n})`, {
    filename: "session-bridge/mcp-sdk.js",
    ...(cachedData ? { cachedData } : {}),
  });
}

/** Writes the code cache if loadMcpSdk() asked for one and had none (or V8 rejected it). Never throws. */
export function saveMcpSdkCodeCache(): void {
  if (!pendingSave) return;
  const { script, file } = pendingSave;
  pendingSave = undefined;
  const dir = join(file, "..");
  const temp = `${file}.${process.pid}.tmp`;
  try {
    const payload = script.createCachedData();
    ensureDir(dir);
    // Temp + rename: a concurrent server never reads half a cache.
    writeFileSync(temp, Buffer.concat([MAGIC, sha256(payload), payload]), { mode: 0o600 });
    renameSync(temp, file);
  } catch (err) {
    // A read-only or full disk only costs startup time; the server must not fail over a cache.
    rmSync(temp, { force: true });
    process.stderr.write(`session-bridge: not caching the MCP SDK's compiled code in ${dir}: ${(err as Error).message}\n`);
  }
}

function readCacheFile(file: string): Buffer | undefined {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    // No cache yet (first run, or a new version): compile from source and save one later.
    if (isErrno(err, "ENOENT", "ENOTDIR")) return undefined;
    process.stderr.write(`session-bridge: ignoring the MCP SDK code cache ${file}: ${(err as Error).message}\n`);
    return undefined;
  }
  const payload = verified(data);
  // A damaged file is replaced by the next save, since loadMcpSdk() then sees no cache.
  if (!payload) process.stderr.write(`session-bridge: ignoring the damaged MCP SDK code cache ${file}; it will be rewritten\n`);
  return payload;
}

function readSeaCache(): Buffer | undefined {
  let data: Buffer;
  try {
    const sea = nodeRequire("node:sea") as typeof import("node:sea");
    data = Buffer.from(sea.getAsset(SEA_CODE_CACHE_ASSET));
  } catch {
    // An executable built without the asset (build-sea --no-sdk-cache) simply compiles.
    return undefined;
  }
  // Not hashed (~2.5 ms with loading node:crypto): the asset is inside the executable, and damage
  // there is damage to the program itself, which no check made by that program can rule out.
  return verified(data, { trusted: true });
}

function verified(data: Buffer, { trusted = false } = {}): Buffer | undefined {
  if (data.length <= HEADER || !data.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const payload = data.subarray(HEADER);
  return trusted || sha256(payload).equals(data.subarray(MAGIC.length, HEADER)) ? payload : undefined;
}

// node:crypto is loaded here, not imported at the top: every command loads this module's bundle,
// and only `mcp` with a cache should pay for OpenSSL's start-up.
function sha256(data: Buffer): Buffer {
  const { createHash } = nodeRequire("node:crypto") as typeof import("node:crypto");
  return createHash("sha256").update(data).digest();
}
