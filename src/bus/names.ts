// The rules for project and role names, which become folder names under the root.
//
// One name, one folder, on every file system. macOS (APFS, HFS+) and Windows compare names without
// regard to case, so `Frontend` there would open the `frontend` folder while on Linux it would make
// a second one. The rule is the same everywhere: a name that differs only in case from an existing
// project (or a role of the same project) is refused with E_BAD_NAME naming the existing spelling.
// A name is never folded silently: what a role is called in messages, settings and session records
// is the one spelling its folder has. Windows' device names (`con`, `nul.txt`…) and a trailing '.'
// (which Windows drops) are refused too, so a root can move to any system.
import { lstatSync } from "node:fs";
import type { Stats } from "node:fs";
import { join } from "node:path";
import { BridgeError, isErrno } from "../lib/errors.ts";
import { readFolder } from "../lib/fs.ts";

export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const BROADCAST = "*";

/** CON, PRN, AUX, NUL, COM0-9, LPT0-9, alone or before any extension, in any case. */
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)/i;

/** What is wrong with `value` as a name, or undefined when it is a valid one. */
export function nameProblem(value: string): string | undefined {
  if (!NAME_PATTERN.test(value)) return "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit";
  if (value.endsWith("."))
    return `a name may not end with '.' (Windows drops it: "${value}" and "${value.replace(/\.+$/, "")}" would be one folder)`;
  const device = WINDOWS_DEVICE.exec(value);
  if (device) {
    return `"${device[1]}" is a device name on Windows (CON, PRN, AUX, NUL, COM0-9, LPT0-9, with or without an extension), which no folder can have there; choose another name`;
  }
  return undefined;
}

export function isValidName(value: string): boolean {
  return nameProblem(value) === undefined;
}

export function validateName(kind: "project" | "role", value: unknown): string {
  const problem = typeof value === "string" ? nameProblem(value) : "a name is text";
  if (problem !== undefined) {
    const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
    const extra = value === BROADCAST ? ` ("*" only means "every other role" as a send target)` : "";
    throw new BridgeError("E_BAD_NAME", `invalid ${kind} name ${shown}${extra}: ${problem}`);
  }
  return value as string;
}

/** Names are ASCII, so folding is exact. */
export const sameNameIgnoringCase = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

const flipCase = (name: string): string => name.replace(/[A-Za-z]/g, (c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()));

/** The spelling in `dir` that differs from `name` only in case, when `name` itself is not there. */
export function caseTwinIn(dir: string, name: string): string | undefined {
  let twin: string | undefined;
  for (const entry of readFolder(dir)) {
    if (entry.name === name) return undefined;
    if (twin === undefined && sameNameIgnoringCase(entry.name, name) && isValidName(entry.name)) twin = entry.name;
  }
  return twin;
}

/**
 * True when `dir` answers a lookup of `name` with the case flipped: a case-insensitive folder (or a
 * legacy twin). On a case-sensitive disk that lookup fails on every call, so it is made without an
 * exception (throwIfNoEntry): Node's error for it, stack and message, cost a bridged `hook recv`
 * ~150 µs for its four (more for the first in a process).
 */
function answersFlipped(dir: string, name: string): boolean {
  const flipped = flipCase(name);
  if (flipped === name) return false;
  try {
    return lstatSync(join(dir, flipped), { throwIfNoEntry: false }) !== undefined;
  } catch (err) {
    if (isErrno(err, "ENOTDIR")) return false;
    throw err;
  }
}

export function caseTwinError(kind: "project" | "role", name: string, twin: string, of = ""): BridgeError {
  return new BridgeError(
    "E_BAD_NAME",
    `${kind} "${name}" differs only in case from the existing ${kind} "${twin}"${of}: names that differ only in case are one name (macOS and Windows keep them in one folder), so use "${twin}"`,
  );
}

/**
 * lstat of `dir/name` under the case rule: undefined when there is no such entry, E_BAD_NAME when
 * only a spelling differing in case is there. On a case-sensitive folder an existing name costs one
 * more lstat (of the name with its case flipped, which fails); the folder is listed only when that
 * lookup succeeds (a case-insensitive folder) or when `name` is missing (it may be about to be made).
 */
export function statName(dir: string, kind: "project" | "role", name: string, of = ""): Stats | undefined {
  let st: Stats | undefined;
  try {
    st = lstatSync(join(dir, name), { throwIfNoEntry: false });
  } catch (err) {
    if (!isErrno(err, "ENOTDIR")) throw err;
  }
  if (st === undefined || answersFlipped(dir, name)) {
    const twin = caseTwinIn(dir, name);
    if (twin !== undefined) throw caseTwinError(kind, name, twin, of);
  }
  return st;
}
