// Reading a JSON-lines file (an inbox, a history file, receipts) a window at a time, so memory
// never depends on how long a line is: any process of the user can append to these files, and a
// line of gigabytes (or a file with no newline at all) must cost a reader no more than one
// LINE_MAX_BYTES line. A line past the limit is reported by its start offset and passed over.
import { readSync } from "node:fs";

/** The longest line read as a message; sendMessage refuses a message whose line would be longer. */
export const LINE_MAX_BYTES = 32 * 1024 * 1024;
const WINDOW_BYTES = 1024 * 1024;

export interface LineSink {
  /** A complete, non-empty line of at most `maxBytes` (without its newline), as UTF-8 text, read from [start, end). */
  line(text: string, start: number, end: number): void;
  /** A complete line longer than `maxBytes`, starting at `start`: not read into memory. */
  tooLong(start: number): void;
}

/** A byte outside ASCII, as latin1 text shows it (one character per byte). */
const NOT_ASCII = /[\x80-\xff]/;

/**
 * Hands every complete line of `fd` between `from` and `to` to `sink`, in order; returns the offset
 * just past the last newline (a torn last line is left for later). Empty lines are passed over.
 *
 * Each window is decoded once, as latin1 (a character per byte, so string positions are file
 * offsets), and the newlines are found in that text: a line of ASCII is a slice of it, and only a
 * line with other bytes is decoded again, as UTF-8. A hook reads a few dozen lines once per run, in
 * V8's interpreter, where Buffer's indexOf and toString cost ~3 and ~5 µs a call: `hook recv` with
 * 100 unread spent ~0.8 ms finding and decoding its lines, ~0.1 ms this way (BENCHMARKS.md "Stop 19").
 */
export function eachLine(fd: number, from: number, to: number, sink: LineSink, maxBytes = LINE_MAX_BYTES): number {
  const window = Buffer.allocUnsafe(Math.max(1, Math.min(WINDOW_BYTES, to - from)));
  let carry: Buffer[] = [];
  let carried = 0;
  let skipping = false;
  let lineStart = from;
  for (let pos = from; pos < to; ) {
    const n = readSync(fd, window, 0, Math.min(window.length, to - pos), pos);
    if (n === 0) break;
    const view = window.subarray(0, n);
    const text = view.toString("latin1");
    const ascii = !NOT_ASCII.test(text);
    let i = 0;
    for (let nl = text.indexOf("\n", i); nl !== -1; nl = text.indexOf("\n", i)) {
      const length = carried + nl - i;
      if (skipping || length > maxBytes) sink.tooLong(lineStart);
      else if (carried > 0) sink.line(Buffer.concat([...carry, view.subarray(i, nl)]).toString("utf8"), lineStart, pos + nl + 1);
      else if (length > 0) {
        const line = text.slice(i, nl);
        sink.line(ascii || !NOT_ASCII.test(line) ? line : view.toString("utf8", i, nl), lineStart, pos + nl + 1);
      }
      carry = [];
      carried = 0;
      skipping = false;
      lineStart = pos + nl + 1;
      i = nl + 1;
    }
    if (i < n && !skipping) {
      carried += n - i;
      // Past the limit, the rest of this line is only looked through for its end.
      if (carried > maxBytes) {
        carry = [];
        carried = 0;
        skipping = true;
      } else carry.push(Buffer.from(view.subarray(i)));
    }
    pos += n;
  }
  return lineStart;
}
