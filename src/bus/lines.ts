// Reading a JSON-lines file (an inbox, a history file, receipts) a window at a time, so memory
// never depends on how long a line is: any process of the user can append to these files, and a
// line of gigabytes (or a file with no newline at all) must cost a reader no more than one
// LINE_MAX_BYTES line. A line past the limit is reported by its start offset and passed over.
import { readSync } from "node:fs";

/** The longest line read as a message; sendMessage refuses a message whose line would be longer. */
export const LINE_MAX_BYTES = 32 * 1024 * 1024;
const WINDOW_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;

export interface LineSink {
  /** A complete, non-empty line of at most `maxBytes` (without its newline), read from [start, end). */
  line(bytes: Buffer, start: number, end: number): void;
  /** A complete line longer than `maxBytes`, starting at `start`: not read into memory. */
  tooLong(start: number): void;
}

/**
 * Hands every complete line of `fd` between `from` and `to` to `sink`, in order; returns the offset
 * just past the last newline (a torn last line is left for later). Empty lines are passed over.
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
    let i = 0;
    for (let nl = view.indexOf(NEWLINE, i); nl !== -1; nl = view.indexOf(NEWLINE, i)) {
      const length = carried + nl - i;
      if (skipping || length > maxBytes) sink.tooLong(lineStart);
      else if (length > 0)
        sink.line(carried > 0 ? Buffer.concat([...carry, view.subarray(i, nl)]) : view.subarray(i, nl), lineStart, pos + nl + 1);
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
