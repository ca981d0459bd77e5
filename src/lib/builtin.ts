// Loading a Node built-in when it is first needed instead of at start-up (node:child_process alone
// costs a process several milliseconds to load, which a hook that never runs a program must not pay).
import { BridgeError } from "./errors.ts";

/**
 * `require` for Node built-ins, the only modules this program loads at run time (build.mjs checks
 * that). process.getBuiltinModule (Node 20.16+) works the same in every artifact and costs nothing
 * for a module Node already loaded; an older Node has the CommonJS entry's own require. Never node:module's createRequire: loading node:module alone costs a hook ~0.5 ms.
 */
export const nodeRequire = ((id: string): unknown => {
  const mod = typeof process.getBuiltinModule === "function" ? process.getBuiltinModule(id) : legacyRequire(id);
  if (mod === undefined)
    throw new BridgeError("E_IO", `"${id}" is not a Node.js built-in; session-bridge only loads built-ins at run time`);
  return mod;
}) as NodeJS.Require;

function legacyRequire(id: string): unknown {
  if (typeof require !== "function")
    throw new BridgeError("E_IO", "this Node.js has neither process.getBuiltinModule nor require; use Node 20.16 or newer");
  return require(id);
}
