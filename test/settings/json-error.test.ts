// Where a hand-edited JSON file goes wrong, said as line and column, with a hint for a comment or
// a trailing comma (src/lib/json-error.ts); and the scanner agrees with JSON.parse on what is valid.
import { test } from "node:test";
import assert from "node:assert/strict";
import { findJsonProblem } from "../../src/lib/json-error.ts";
import { randomJson, rng, seedFromEnv } from "../helpers/prng.ts";

test("line and column of the first problem, with a hint for the usual hand-editing mistakes", () => {
  const cases: [string, string][] = [
    ['{\n  // hooks\n  "a": 1\n}', "line 2, column 3: a comment; JSON has no comments (Claude Code refuses them too): remove it"],
    ['{\n  "a": 1 /* no */\n}', "line 2, column 10: a comment; JSON has no comments (Claude Code refuses them too): remove it"],
    [
      '{\n  "a": [1, 2,],\n  "b": 2\n}',
      'line 2, column 13: a comma before "]"; JSON allows no trailing comma (Claude Code refuses it too): remove it',
    ],
    ['{\n  "a": 1,\n}', 'line 2, column 9: a comma before "}"; JSON allows no trailing comma (Claude Code refuses it too): remove it'],
    ['{\n  "a": 1\n  "b": 2\n}', 'line 3, column 3: expected "," or "}", found "\\""'],
    ["{'a': 1}", "line 1, column 2: expected a property name in double quotes, found a single quote; JSON strings take double quotes"],
    ['{"a": 1', 'line 1, column 8: expected "," or "}", found the end of the file'],
    ['{"a": "x\ny"}', "line 1, column 9: a line break inside a string; write it as \\n"],
    ['{"a": "x}', "line 1, column 10: a string that never ends (a missing closing quote)"],
    ['{"a": tru}', 'line 1, column 7: expected a value, found "t"'],
    ['{"a": 1} x', 'line 1, column 10: expected the end of the file after the JSON value, found "x"'],
    ["\ufeff{}", "line 1, column 1: a byte order mark (U+FEFF); save the file as UTF-8 without one"],
    ['{"a": "\\q"}', "line 1, column 8: an unknown escape \\q"],
    ['{"a": "\u202e"x}', 'line 1, column 10: expected "," or "}", found "x"'],
  ];
  for (const [text, want] of cases) {
    assert.throws(() => JSON.parse(text), SyntaxError, `JSON.parse accepts ${JSON.stringify(text)}`);
    const p = findJsonProblem(text);
    assert.equal(p && `line ${p.line}, column ${p.column}: ${p.what}`, want, JSON.stringify(text));
    assert.doesNotMatch(want, /\n/, "one line");
  }
});

test("the scanner and JSON.parse agree on what is valid, over generated and mutated JSON", () => {
  const r = rng(seedFromEnv(4242));
  const pieces = [
    ",",
    "}",
    "]",
    "{",
    "[",
    ":",
    '"',
    "'",
    "//",
    "/*",
    "\\",
    " ",
    "\n",
    "1",
    "-",
    ".",
    "e",
    "tru",
    "null",
    "\u0001",
    "\ufeff",
  ];
  let invalid = 0;
  for (let n = 0; n < 3000; n++) {
    let text = JSON.stringify(randomJson(r, 3), null, r.chance(0.5) ? 2 : undefined) ?? "null";
    if (r.chance(0.7)) {
      const at = r.int(0, text.length);
      text = r.chance(0.5) ? text.slice(0, at) + r.pick(pieces) + text.slice(at) : text.slice(0, at) + text.slice(at + r.int(1, 3));
    }
    let valid = true;
    try {
      JSON.parse(text);
    } catch {
      valid = false;
      invalid++;
    }
    assert.equal(findJsonProblem(text) === undefined, valid, `seed ${r.seed}: ${JSON.stringify(text)}`);
  }
  assert.ok(invalid > 1000, `only ${invalid} invalid texts were tried`);
});
