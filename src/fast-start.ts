// How install's launcher starts the program for a hook in a bridged session (src/install/home.ts):
// `node -e <this, as build.mjs bundles it> <the .cjs> hook <name>`. Node reads and V8 scans every
// byte of a file it runs, and on the machines measured that is most of what a bridged hook costs
// over `node -e 0` after its code caches (BENCHMARKS.md "Where start-up goes"). But a bridged hook
// that has run once needs nothing from the .cjs but its index: the entry's code and compiled code
// are in its cache under <root>/cache (src/runtime/entry-cache.ts), and so are its bundle's
// (code-cache.ts). So this reads the index from the file's last bytes, runs the entry from its
// cache, and the entry loads the hook's bundle from its own (src/runtime/embedded.ts is handed the
// index, and reads the bundles' stream only if a cache is missing).
//
// Anything short of that (not a bridged hook, no index, no sound cache of the entry the index
// names) runs the .cjs as `node <the .cjs>` would: required once, nothing run twice, and the
// entry then writes the cache this looks for. Kept small: it is compiled on every bridged hook.
import { dirname } from "node:path";
import { cacheDir, resolveRoot } from "./bus/layout.ts";
import { isBridged } from "./hooks.ts";
import { runEntryCached } from "./runtime/entry-cache.ts";
import { readIndexTail } from "./runtime/index-tail.ts";
import FORMAT from "./runtime/bundle-format.json" with { type: "json" };

/** Thrown by the entry's source() when the cache cannot be used: the .cjs runs instead. */
const NO_CACHE = Symbol("no sound cache of the entry");

export function fastStart(req: NodeJS.Require): void {
  const script = process.argv[1] ?? "";
  if (process.argv[2] === "hook" && isBridged(process.env) && script.startsWith("/")) {
    const tail = readIndexTail(script);
    const hash = tail?.index.entry;
    if (tail && typeof hash === "string") {
      const Module = req("node:module") as typeof import("node:module") & {
        new (id: string): NodeModule;
      };
      const entry = new Module(script);
      entry.filename = script;
      // The entry did not arrive through Node's loader, so it has no trailer (src/runtime/self.ts):
      // it gets the index read here instead of reading it again (src/runtime/embedded.ts).
      (globalThis as Record<symbol, unknown>)[Symbol.for(FORMAT.startedKey)] = tail;
      try {
        runEntryCached(cacheDir(resolveRoot(process.env)), hash, entry, Module.createRequire(script), script, dirname(script), () => {
          throw NO_CACHE;
        });
        return;
      } catch (err) {
        if (err !== NO_CACHE) throw err;
        (globalThis as Record<symbol, unknown>)[Symbol.for(FORMAT.startedKey)] = undefined;
      }
    }
  }
  req(script);
}
