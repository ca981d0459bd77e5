// The embedded bundles are sliced out of the text Node loaded (src/runtime/embedded.ts): a hook
// never opens its own file again. This test file is an ES module with no __filename, so reading
// the file is not even possible here: only the loaded text can answer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { BIN } from "../helpers/bin.ts";
import { storedBundle } from "../../src/runtime/embedded.ts";
import FORMAT from "../../src/runtime/bundle-format.json" with { type: "json" };

test("bundles come from the text Node loaded (a function's text), not from a second read of the file", () => {
  const text = readFileSync(BIN, "latin1");
  // What the .cjs hands over: the function at its end, whose body is the trailer.
  const bundles = new Function(`return ${text.slice(text.indexOf(FORMAT.trailerHead) + 1)}`)() as () => void;
  assert.equal(bundles.name, "sessionBridgeBundles");
  const key = Symbol.for(FORMAT.bundlesKey);
  (globalThis as Record<symbol, unknown>)[key] = bundles;
  try {
    const guard = storedBundle("hook-guard");
    // Every bundle is stored compressed (a hook's code comes from its code cache once it has one).
    assert.equal(guard.entry.z, true, "the hooks are stored compressed");
    assert.match(guard.code(), /hookGuard/);
    assert.match(storedBundle("cli").code(), /runCli/);
  } finally {
    delete (globalThis as Record<symbol, unknown>)[key];
  }
});
