// How this very process was started: `node dist/session-bridge.cjs …` (also through the .mjs that
// forwards to it, for old installs) or the single executable `dist/session-bridge …`. Hooks and the
// MCP config must call back into the same artifact, so everything that needs argv or "how do I
// invoke myself" asks here.
import { realpathSync } from "node:fs";
import { BridgeError } from "../lib/errors.ts";
import FORMAT from "./bundle-format.json" with { type: "json" };

/**
 * The user's arguments. Both layouts keep two leading entries: under node they are
 * [node, script]; in a Node 20 single executable they are [executable, argv0 as typed], and Node
 * does not parse any of the rest as its own options (`--version` reaches us).
 */
export function cliArgs(): string[] {
  return process.argv.slice(2);
}

/** `require` for Node built-ins: lives in lib/builtin.ts so that lib/ can load built-ins lazily too. */
export { nodeRequire } from "../lib/builtin.ts";
import { nodeRequire } from "../lib/builtin.ts";

let sea: boolean | undefined;

/** True inside the single executable (dist/session-bridge). */
export function isSea(): boolean {
  if (sea === undefined) {
    // The .cjs has handed over its trailer (build.mjs), which the executable's main script lacks:
    // then the answer is known without loading node:sea, a module and a binding more on every
    // bridged hook.
    // So has the launcher's fast start (src/fast-start.ts), which ran the entry without the file.
    const handed = globalThis as Record<symbol, unknown>;
    if (typeof handed[Symbol.for(FORMAT.bundlesKey)] === "function" || handed[Symbol.for(FORMAT.startedKey)] !== undefined)
      return (sea = false);
    try {
      // Loaded on demand rather than imported: `node:sea` only exists since Node 20.12, and a static
      // import would make every command (every hook) fail to load on an older Node.
      const mod = nodeRequire("node:sea") as typeof import("node:sea");
      sea = mod.isSea();
    } catch {
      // No node:sea means an old Node, which cannot be running our executable: we are a script.
      sea = false;
    }
  }
  return sea;
}

/**
 * The argv prefix that runs this very artifact again, for hook commands and the MCP server entry:
 * the executable alone, or node plus the real path of the .cjs. Its own path, not process.argv[1]:
 * npm installs a symlink on PATH, and a hook registered through it would break if the link moved;
 * and an old install's session-bridge.mjs only forwards here, so `install` run through it moves
 * Claude Code to the .cjs.
 */
export function selfCommand(): string[] {
  if (isSea()) return [process.execPath];
  return [process.execPath, realpathSync(scriptPath())];
}

/**
 * The .cjs this code runs from. In the entry, CommonJS's own __filename; in an embedded bundle,
 * the same path, handed in by src/runtime/embedded.ts.
 */
export function scriptPath(): string {
  if (typeof __filename !== "string" || __filename === "")
    throw new BridgeError("E_IO", "cannot tell which file is running (no __filename); run session-bridge as built by build.mjs");
  return __filename;
}
