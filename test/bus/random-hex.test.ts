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

test("randomHex hands each byte of its read-ahead out once: draws across many refills never repeat, whatever their sizes", () => {
  // 6 and 8 bytes are a send's id and its lock's token; 250 leaves a pool too short for the next draw.
  const sizes = [6, 8, 250, 7, 1, 256, 6, 8];
  const seen = new Set<string>();
  let bytes = 0;
  for (let i = 0; i < 400; i++) {
    const size = sizes[i % sizes.length]!;
    const hex = randomHex(size);
    assert.equal(hex.length, size * 2);
    assert.match(hex, /^[0-9a-f]*$/);
    // 8 bytes and up: a repeat would be a byte range handed out twice, not chance.
    if (size >= 8) {
      assert.ok(!seen.has(hex), `draw ${i} (${size} bytes) repeated`);
      seen.add(hex);
    }
    bytes += size;
  }
  assert.ok(bytes > 100 * 256, "the draws went through many refills of the pool");
});
