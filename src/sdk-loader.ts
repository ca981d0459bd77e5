import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Script } from "node:vm";
import sdkSource, { sdkHash } from "embedded:mcp-sdk";
import { isErrno } from "./errors.ts";

export type McpSdk = typeof import("./mcp-sdk.ts");

export interface LoadOptions {
  /**
   * A folder for V8's code cache of the SDK. Without a usable cache V8 parses the whole bundle and
   * compiles each function on first call; with one it deserializes bytecode instead. The first run
   * (or one after an upgrade) compiles as usual; call saveMcpSdkCodeCache() once the server has
   * answered tools/list so the functions compiled for that are in the cache too.
   */
  codeCacheDir?: string;
}

let loaded: McpSdk | undefined;
let pendingSave: { script: Script; file: string } | undefined;

// Evaluates the embedded SDK bundle (CommonJS) the first time the MCP server needs it.
export function loadMcpSdk(options: LoadOptions = {}): McpSdk {
  if (loaded) return loaded;
  // The name carries the bundle's content hash and the V8 it was made by, so a stale cache is never
  // even read. V8 checks version and flags itself too (cachedDataRejected), but only the source
  // *length*, so a same-length rebuild must not share a file.
  const cacheFile = options.codeCacheDir && join(options.codeCacheDir, `mcp-sdk-${sdkHash}-${process.version}-${process.arch}.v8cache`);
  const cachedData = cacheFile ? readCache(cacheFile) : undefined;
  const script = new Script(`(function (module, exports, require) {${sdkSource}\n})`, {
    filename: "session-bridge-embedded-mcp-sdk.cjs",
    ...(cachedData ? { cachedData } : {}),
  });
  if (cacheFile && (!cachedData || script.cachedDataRejected)) pendingSave = { script, file: cacheFile };
  const wrapper = script.runInThisContext() as (module: { exports: unknown }, exports: unknown, require: NodeJS.Require) => void;
  const module = { exports: {} as unknown };
  // Built-ins only: createRequire needs a path, and the executable's own is always valid.
  wrapper(module, module.exports, createRequire(process.execPath));
  loaded = module.exports as McpSdk;
  return loaded;
}

/** Writes the code cache if loadMcpSdk() asked for one and had none (or V8 rejected it). Never throws. */
export function saveMcpSdkCodeCache(): void {
  if (!pendingSave) return;
  const { script, file } = pendingSave;
  pendingSave = undefined;
  const dir = join(file, "..");
  const temp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Temp + rename: a concurrent server never reads half a cache (V8 would reject it, but still).
    writeFileSync(temp, script.createCachedData(), { mode: 0o600 });
    renameSync(temp, file);
  } catch (err) {
    // A read-only or full disk only costs startup time; the server must not fail over a cache.
    rmSync(temp, { force: true });
    process.stderr.write(`session-bridge: not caching the MCP SDK's compiled code in ${dir}: ${(err as Error).message}\n`);
  }
}

function readCache(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (err) {
    // No cache yet (first run, or a new version): compile from source and save one later.
    if (isErrno(err, "ENOENT", "ENOTDIR")) return undefined;
    process.stderr.write(`session-bridge: ignoring the MCP SDK code cache ${file}: ${(err as Error).message}\n`);
    return undefined;
  }
}
