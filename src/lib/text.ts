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
