// What a hook reads and answers: Claude Code writes one JSON object on the hook's stdin, and the
// hook answers with an exit code, stdout and stderr (docs/claude-code.md "Hooks"). Part of the
// entry (src/hooks.ts reads the input before a hook's own bundle is loaded), so it stays small.
import { fstatSync, readSync } from "node:fs";
import { BridgeError, isErrno } from "../lib/errors.ts";
import { oneLine } from "../lib/text.ts";

export type HookInput = Record<string, unknown>;

export interface HookResult {
  code: number;
  stdout?: string;
  stderr?: string;
}

const MAX_INPUT_BYTES = 64 * 1024 * 1024;

/**
 * Claude Code writes one JSON object and closes stdin. A terminal or nothing at all on stdin
 * (a person trying the command) reads as {}.
 */
export function readHookInput(): HookInput {
  let kind;
  try {
    kind = fstatSync(0);
  } catch (err) {
    if (isErrno(err, "EBADF")) return {}; // started with stdin closed
    throw err;
  }
  if (!kind.isFIFO() && !kind.isFile() && !kind.isSocket()) return {};
  const text = readAll(0);
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // JSON.parse quotes the start of the input: keep that on one line and unable to drive a terminal.
    const why = oneLine((err as Error).message);
    throw new BridgeError(
      "E_USAGE",
      `the hook input on stdin is not JSON (${why}); this command is meant to be run by Claude Code, which writes the event as JSON`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new BridgeError(
      "E_USAGE",
      `the hook input on stdin is JSON but not an object (got ${Array.isArray(value) ? "an array" : typeof value})`,
    );
  return value as HookInput;
}

function readAll(fd: number): string {
  const chunks: Buffer[] = [];
  let total = 0;
  const buf = Buffer.allocUnsafe(64 * 1024);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch (err) {
      // A non-blocking pipe inherited from a parent that set O_NONBLOCK: wait for data.
      if (isErrno(err, "EAGAIN")) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
        continue;
      }
      throw err;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
    total += n;
    if (total > MAX_INPUT_BYTES) {
      throw new BridgeError("E_TOO_LARGE", `the hook input on stdin is over ${MAX_INPUT_BYTES} bytes; refusing to read more`);
    }
  }
  return Buffer.concat(chunks).toString("utf8");
}
