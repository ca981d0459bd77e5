import { test } from "node:test";
import assert from "node:assert/strict";
import { BridgeError, describeError } from "../../src/lib/errors.ts";

test("BridgeError: instanceof holds for an error made by another copy of the class (another embedded bundle)", () => {
  // What a second copy of errors.ts produces: an Error carrying the shared brand.
  const foreign = Object.assign(new Error("bad name"), { name: "BridgeError", code: "E_BAD_NAME" });
  Object.defineProperty(foreign, Symbol.for("session-bridge.BridgeError"), { value: true });
  assert.ok(foreign instanceof BridgeError);
  assert.equal(describeError(foreign), "E_BAD_NAME: bad name");
});

test("BridgeError: plain errors, lookalikes and non-objects are not BridgeErrors", () => {
  assert.ok(new BridgeError("E_USAGE", "x") instanceof BridgeError);
  assert.ok(new BridgeError("E_USAGE", "x") instanceof Error);
  assert.ok(!(Object.assign(new Error("x"), { name: "BridgeError", code: "E_USAGE" }) instanceof BridgeError));
  assert.ok(!((null as unknown) instanceof BridgeError));
  assert.ok(!(("E_USAGE" as unknown) instanceof BridgeError));
});
