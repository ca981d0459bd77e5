// V8's compiled code of the entry itself, in a bridged session. The .cjs keeps the entry as a
// comment and its first lines compile it (build.mjs "prelude"): outside a bridged session with
// Module.prototype._compile, from source; in one (every prompt and tool call runs a hook) with the
// cache under <root>/cache that the bundles keep too (code-cache.ts: the same format, rules and
// functions), which spares a bridged hook ~5.5M of its ~106M instructions (callgrind; BENCHMARKS.md
// "Where start-up goes"). build.mjs bundles `runEntryCached` into the prelude, as a function the file
// declares (V8 only pre-parses it in a run that does not call it); the entry calls
// `saveEntryCacheSoon` once it knows the cache folder.
import type { Script } from "node:vm";
import { COMMONJS_WRAPPER, compileWithFolderCache, useCodeCacheFolder, writeCodeCacheSoon } from "./code-cache.ts";

/** The entry's cache is bundle-entry-…: build.mjs refuses an embedded bundle of this name. */
const ENTRY_CACHE_NAME = "entry";

interface Handover {
  hash: string;
  file: string;
  script: Script;
  code: string;
}
// The prelude's copy of this module and the entry's are two: what one leaves the other finds here.
const HANDOVER = Symbol.for("session-bridge.entryCodeCache");
const shared = globalThis as { [HANDOVER]?: Handover };

/**
 * Compiles the entry once (code-cache.ts compileWithCache: a second compile would ignore the
 * cache) and runs it as the file's own code: the same module, require, __filename and __dirname,
 * `this` the module's exports, as Module.prototype._compile would. The wrapper opens on the code's
 * first line, so line numbers in stack traces are the same too, and they name the file.
 * `hash` names the entry's code (build.mjs); `source()` is the code as the file holds it.
 */
export function runEntryCached(
  folder: string,
  hash: string,
  mod: NodeModule,
  req: NodeJS.Require,
  filename: string,
  dirname: string,
  source: () => string,
): void {
  useCodeCacheFolder(folder);
  const { Script } = req("node:vm") as typeof import("node:vm");
  const compiled = compileWithFolderCache(
    ENTRY_CACHE_NAME,
    hash,
    COMMONJS_WRAPPER,
    (wrapped, cachedData) => new Script(wrapped, { filename, ...(cachedData && { cachedData }) }),
    source,
    // The executable has no prelude: its main script is the entry, with the executable's own cache.
    () => undefined,
  );
  if (compiled.saveTo) shared[HANDOVER] = { hash, file: compiled.saveTo, script: compiled.script, code: compiled.code };
  const wrapper = compiled.script.runInThisContext() as (...args: unknown[]) => void;
  wrapper.call(mod.exports, mod.exports, req, mod, filename, dirname);
}

/**
 * Writes the entry's cache after the run's synchronous work (so it holds what the run compiled),
 * if the prelude found none it could use; silently, as the bundles'. Called by the entry for a
 * hook in a bridged session (src/main.ts); a no-op without a handover (the executable, a run
 * compiled from source, or a cache the prelude could use).
 */
export function saveEntryCacheSoon(): void {
  const found = shared[HANDOVER];
  if (!found) return;
  shared[HANDOVER] = undefined;
  writeCodeCacheSoon(ENTRY_CACHE_NAME, found.hash, found.file, found.script, found.code);
}
