// The line reader every inbox, history and receipts read goes through (src/bus/lines.ts): each
// line as UTF-8 text with its byte offsets, whatever mix of ASCII, other UTF-8, invalid bytes,
// window boundaries, empty, torn and overlong lines the file holds.
import { test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eachLine } from "../../src/bus/lines.ts";

interface Seen {
  lines: [string, number, number][];
  tooLong: number[];
  end: number;
}

function read(bytes: Buffer, maxBytes?: number, from = 0): Seen {
  const dir = mkdtempSync(join(tmpdir(), "sb-lines-"));
  try {
    const file = join(dir, "f.jsonl");
    writeFileSync(file, bytes);
    const fd = openSync(file, "r");
    try {
      const seen: Seen = { lines: [], tooLong: [], end: 0 };
      seen.end = eachLine(
        fd,
        from,
        bytes.length,
        { line: (text, start, end) => seen.lines.push([text, start, end]), tooLong: (start) => seen.tooLong.push(start) },
        maxBytes,
      );
      return seen;
    } finally {
      closeSync(fd);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What the reader must report: every complete non-empty line, decoded as UTF-8, with its byte range. */
function expected(bytes: Buffer, maxBytes = Number.POSITIVE_INFINITY, from = 0): Seen {
  const seen: Seen = { lines: [], tooLong: [], end: from };
  let start = from;
  for (let nl = bytes.indexOf(0x0a, from); nl !== -1; nl = bytes.indexOf(0x0a, start)) {
    if (nl - start > maxBytes) seen.tooLong.push(start);
    else if (nl > start) seen.lines.push([bytes.toString("utf8", start, nl), start, nl + 1]);
    start = nl + 1;
    seen.end = start;
  }
  return seen;
}

test("ASCII, other UTF-8, invalid bytes and empty lines come as the UTF-8 text of their bytes, at their byte offsets", () => {
  const bytes = Buffer.concat([
    Buffer.from('{"body":"plain"}\n\n{"body":"caf\u00e9 \u2014 \u{1f600}"}\n'),
    Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]), // invalid UTF-8: each byte one U+FFFD
    Buffer.from([0xe2, 0x82, 0x0a]), // a sequence cut short
    Buffer.from('{"body":"ascii again"}\n{"torn":'),
  ]);
  const seen = read(bytes);
  assert.deepEqual(seen, expected(bytes));
  assert.equal(seen.lines.length, 5);
  assert.equal(seen.lines[1]![0], '{"body":"caf\u00e9 \u2014 \u{1f600}"}');
  assert.equal(seen.end, bytes.lastIndexOf(0x0a) + 1, "the torn tail is left for later");
  // From an offset inside the file, as a cursor reads.
  const from = seen.lines[1]![1];
  assert.deepEqual(read(bytes, undefined, from), expected(bytes, undefined, from));
});

test("lines across the 1 MiB windows, with characters cut by a window's edge, and overlong lines passed over", () => {
  const parts: Buffer[] = [];
  let size = 0;
  for (let i = 0; size < 3.5 * 1024 * 1024; i++) {
    // Lines of varying length, some with 2-, 3- and 4-byte characters, so that window edges fall
    // inside lines and inside characters.
    const body = i % 3 === 0 ? "x".repeat(i % 997) : `${"\u00e9\u2014\u{1f600}".repeat(i % 211)}y`;
    const line = Buffer.from(`{"i":${i},"body":"${body}"}\n`);
    parts.push(line);
    size += line.length;
    if (i === 500) parts.push(Buffer.from(`${"z".repeat(5000)}\n`)); // over the limit below
  }
  const bytes = Buffer.concat(parts);
  const seen = read(bytes, 4096);
  const want = expected(bytes, 4096);
  assert.equal(seen.lines.length, want.lines.length);
  assert.deepEqual(seen, want);
  assert.equal(seen.tooLong.length, 1);
});
