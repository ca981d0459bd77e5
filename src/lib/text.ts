// Text from other processes (message bodies, header fields read back from files, a parse error
// quoting its input), made safe to show: on a terminal it must not move the cursor, recolour,
// retitle or reorder what the reader sees (docs/architecture.md "The store" 6; README "Reliability
// and security").
// C0 controls except tab and newline, DEL, C1 controls, and bidi embedding/override/isolate marks.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function neutralize(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`);
}

const UNSAFE_OR_BREAK = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * A header value (sender, recipient, time, chain, who read it) on one line, unable to drive a
 * terminal. These come from inbox and receipt files that any process of the user can write, not
 * only from session-bridge, so they are escaped for pipes as well as terminals: a newline in a
 * "from" would otherwise start a forged header line.
 */
export function oneLine(text: string): string {
  return text.replace(UNSAFE_OR_BREAK, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`);
}

const JSON_UNSAFE = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * JSON.stringify, with the characters it leaves raw that a terminal or a reader may act on (DEL,
 * C1 controls, line separators, bidi marks) written as \\u escapes: the same value once parsed.
 */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * The candidate nearest to `word` within two edits (a letter added, dropped, changed, or two
 * swapped), for "did you mean …?"; undefined when none is that close, or two are equally close.
 * Fewer edits than the shorter of the two has letters, too: "x" is two edits from "on" but
 * shares nothing with it.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  let tie = false;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d >= Math.min(word.length, candidate.length)) continue;
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
      tie = false;
    } else if (d === bestDistance) tie = true;
  }
  return tie ? undefined : best;
}

/** Optimal string alignment distance (Levenshtein plus swaps of neighbours). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
