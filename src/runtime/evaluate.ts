// Running one embedded bundle: compiled once, with its code cache when it keeps one
// (code-cache.ts), and evaluated as a CommonJS module of the program's own file. The entry's loader
// (embedded.ts) runs every bundle this way; the launcher's fast start (src/fast-start.ts) runs a
// bridged hook's bundle this way too, straight from its cache, when the entry is not needed.
import { dirname } from "node:path";
import type { Script } from "node:vm";
import { COMMONJS_WRAPPER, compileWithFolderCache, wrapIn } from "./code-cache.ts";

export interface BundleToRun {
  name: string;
  /** sha256 of its code, 16 hex digits (names its code cache). */
  hash: string;
  /** Whether it keeps a code cache under <root>/cache (src/runtime/bundles.json). */
  cache: boolean;
  /** Its code, when there is no sound cache to take it from (an inflate, for the .cjs). */
  source: () => string;
  /** The build-time cache the executable carries, if any. */
  buildTime: () => Buffer | undefined;
  /**
   * What is done about a cache that was missing or that V8 refused (made under other V8 flags),
   * once the bundle is compiled: `file` is where it belongs, `code` what `script` was compiled from.
   */
  replaceCache: (file: string, script: Script, code: string) => void;
}

/**
 * Compiles and evaluates a bundle; returns its exports. `require` is what the bundle gets (it
 * requires only Node's built-ins), `self` the program's file (the bundle's __filename).
 */
export function evaluateBundle(bundle: BundleToRun, require: NodeJS.Require, self: string): unknown {
  const { Script } = require("node:vm") as typeof import("node:vm");
  // The filename is what stack traces show, with the function names (the bundles keep them).
  const compile = (wrapped: string, cachedData: Buffer | undefined): Script =>
    new Script(wrapped, { filename: `session-bridge/${bundle.name}.js`, ...(cachedData && { cachedData }) });
  // Compiled once, with a cache when the bundle keeps one, which also holds its code: the stream
  // is then not even inflated.
  let script: Script;
  if (bundle.cache) {
    const compiled = compileWithFolderCache(bundle.name, bundle.hash, COMMONJS_WRAPPER, compile, bundle.source, bundle.buildTime);
    script = compiled.script;
    if (compiled.saveTo) bundle.replaceCache(compiled.saveTo, script, compiled.code);
  } else script = compile(wrapIn(COMMONJS_WRAPPER, bundle.source()), undefined);
  const module = { exports: {} as unknown };
  const wrapper = script.runInThisContext() as (e: unknown, r: NodeJS.Require, m: { exports: unknown }, f: string, d: string) => void;
  wrapper(module.exports, require, module, self, dirname(self));
  return module.exports;
}
