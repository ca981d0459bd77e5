import { test } from "node:test";
import assert from "node:assert/strict";
import { randomHex } from "../../src/lib/fs.ts";

test("randomHex gives the asked number of random bytes as hex, different each time", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 100; i++) {
    const hex = randomHex(6);
    assert.match(hex, /^[0-9a-f]{12}$/);
    seen.add(hex);
  }
  assert.equal(seen.size, 100);
  assert.equal(randomHex(0), "");
  assert.match(randomHex(300), /^[0-9a-f]{600}$/);
});
