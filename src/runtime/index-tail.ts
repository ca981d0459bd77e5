// The index of the embedded bundles is the .cjs's last line (build.mjs makeTrailer): found in the
// file's last bytes, by the entry (src/runtime/embedded.ts) and by the launcher's fast start
// (src/fast-start.ts), which must not read the rest of the file.
import { closeSync, fstatSync, openSync } from "node:fs";
import { readAt } from "../lib/fs.ts";
import FORMAT from "./bundle-format.json" with { type: "json" };

/** Enough for the index line of every build so far (~2 KB), with room to grow. */
export const INDEX_READ_BYTES = 16 * 1024;

/** Where the index line lies in `text` (the file's end or all of it); undefined if it has none. */
export function indexLineIn(text: string): { start: number; end: number } | undefined {
  const end = text.lastIndexOf(`\n${FORMAT.indexTail}`);
  const start = end === -1 ? -1 : text.lastIndexOf("\n", end - 1);
  return start === -1 ? undefined : { start: start + 1, end };
}

/** The file's last bytes, as text, and where they start in it. Throws what openSync and readSync throw. */
export function readTail(file: string): { text: string; at: number } {
  const fd = openSync(file, "r");
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, INDEX_READ_BYTES);
    return { text: readAt(fd, size - length, length).toString("latin1"), at: size - length };
  } finally {
    closeSync(fd);
  }
}

/** Whether a parsed index line is one this build reads: its format, with a table of bundles. */
export function isIndexOfThisFormat(parsed: unknown): parsed is { format: number; bundles: object } & Record<string, unknown> {
  if (typeof parsed !== "object" || parsed === null) return false;
  const { format, bundles } = parsed as { format?: unknown; bundles?: unknown };
  return format === FORMAT.format && typeof bundles === "object" && bundles !== null;
}

/** A .cjs's index read from its last bytes, and where its line starts in the file. */
export interface IndexTail {
  index: Record<string, unknown>;
  at: number;
}

/** The index of a .cjs, of this format, from its last bytes; undefined for anything else. Never throws. */
export function readIndexTail(file: string): IndexTail | undefined {
  try {
    const tail = readTail(file);
    const line = indexLineIn(tail.text);
    if (!line) return undefined;
    const parsed = JSON.parse(tail.text.slice(line.start, line.end)) as unknown;
    return isIndexOfThisFormat(parsed) ? { index: parsed, at: tail.at + line.start } : undefined;
  } catch {
    // Unreadable, or not our index: the caller runs the file the ordinary way, which says what is wrong.
    return undefined;
  }
}
