// What a hook reads and answers: Claude Code writes one JSON object on the hook's stdin, and the
// hook answers with an exit code, stdout and stderr (docs/claude-code.md "Hooks"). Part of the
// entry (src/hooks.ts reads the input before a hook's own bundle is loaded), so it stays small.
import { fstatSync } from "node:fs";
import { BridgeError, isErrno } from "../lib/errors.ts";
import { formatBytes, readUpTo } from "../lib/fs.ts";
import { oneLine } from "../lib/text.ts";

export type HookInput = Record<string, unknown>;

export interface HookResult {
  code: number;
  stdout?: string;
  stderr?: string;
}

/**
 * Claude Code's hook events are JSON of a few KiB; the largest parts (a prompt, a Bash command, the
 * last reply) are bounded by what a model takes or writes, far below this.
 */
export const MAX_INPUT_BYTES = 8 * 1024 * 1024;

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
  const { bytes, over } = readUpTo(fd, MAX_INPUT_BYTES);
  if (over)
    throw new BridgeError(
      "E_TOO_LARGE",
      `the hook input on stdin is over ${formatBytes(MAX_INPUT_BYTES)} (${MAX_INPUT_BYTES} bytes); stopped reading there. Claude Code's hook events are far smaller: this command is meant to be run by Claude Code`,
    );
  return bytes.toString("utf8");
}
