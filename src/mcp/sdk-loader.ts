// The MCP SDK, embedded in the binary as a bundle of its own (build.mjs), evaluated only when
// `mcp` first needs it (a tool call, a prompt): never by a hook, never before the handshake.
import { Script } from "node:vm";
import { compileWithCache, wrapIn, writeCodeCache } from "../runtime/code-cache.ts";
import type { Wrapper } from "../runtime/code-cache.ts";
import { storedBundle } from "../runtime/embedded.ts";
import type { StoredBundle } from "../runtime/embedded.ts";
import { describeError } from "../lib/errors.ts";
import { nodeRequire } from "../runtime/self.ts";

export type McpSdk = typeof import("./sdk.ts");

/** The embedded bundle's name (src/runtime/bundles.json). */
export const SDK_BUNDLE = "mcp-sdk";

let source: StoredBundle | undefined;
let loaded: McpSdk | undefined;
let pendingSave: { script: Script; file: string; code: string; hash: string } | undefined;

/**
 * Reads the SDK as stored now (microseconds; inflating and evaluating it is what costs), so that a
 * server started from one build never evaluates the SDK of another that replaced the file meanwhile.
 */
export function readMcpSdk(): void {
  source ??= storedBundle(SDK_BUNDLE);
}

/**
 * Evaluates the SDK (CommonJS) once. Without a code cache V8 parses the whole bundle and compiles
 * each function on first call; with one it deserializes bytecode instead. The executable carries a
 * cache made at build time; the .cjs keeps one under <root>/cache (src/runtime/code-cache.ts), written by
 * saveMcpSdkCodeCache() once the first tool call is answered, so it holds what that compiled too.
 */
export function loadMcpSdk(log: (line: string) => void): McpSdk {
  if (loaded) return loaded;
  readMcpSdk();
  let script: Script;
  if (source!.entry.cache === true) {
    // src/runtime/bundles.json keeps its code cache: compiled once, with it (src/runtime/code-cache.ts),
    // which also holds the code: the SDK is then not inflated.
    const compiled = compileWithCache(SDK_BUNDLE, source!.entry.hash, SDK_WRAPPER, compile, source!.code);
    script = compiled.script;
    // A damaged file is replaced by the next save, since there is then no usable cache.
    if (compiled.damaged) log(`ignoring the damaged MCP SDK code cache ${compiled.damaged}; it will be rewritten`);
    if (compiled.saveTo) pendingSave = { script, file: compiled.saveTo, code: compiled.code, hash: source!.entry.hash };
  } else script = compile(wrapIn(SDK_WRAPPER, source!.code()), undefined);
  const wrapper = script.runInThisContext() as (module: { exports: unknown }, exports: unknown, require: NodeJS.Require) => void;
  const module = { exports: {} as unknown };
  wrapper(module, module.exports, nodeRequire);
  loaded = module.exports as McpSdk;
  return loaded;
}

const SDK_WRAPPER: Wrapper = { head: "(function (module, exports, require) {", tail: "\n})" };

function compile(wrapped: string, cachedData: Buffer | undefined): Script {
  return new Script(wrapped, { filename: "session-bridge/mcp-sdk.js", ...(cachedData ? { cachedData } : {}) });
}

/** Writes the code cache if loadMcpSdk() had none (or V8 rejected it). Never throws. */
export function saveMcpSdkCodeCache(log: (line: string) => void): void {
  if (!pendingSave) return;
  const { script, file, code, hash } = pendingSave;
  pendingSave = undefined;
  try {
    writeCodeCache(SDK_BUNDLE, hash, file, script, code);
  } catch (err) {
    // A read-only or full disk only costs startup time; the server must not fail over a cache.
    log(`not caching the MCP SDK's compiled code in ${file}: ${describeError(err)}`);
  }
}
