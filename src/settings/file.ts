// Reading and writing <root>/bridge-settings.json. The file holds only what differs from the
// defaults; every write happens under a lock on a fresh read, is validated, and replaces the
// file atomically, so concurrent writers never lose an update and a bad edit never lands.
import { join } from "node:path";
import { BridgeError, describeError, isErrno } from "../lib/errors.ts";
import { fsOps, isRecord, parseJson, readFileIfExists, removeQuietly, writeFileAtomic } from "../lib/fs.ts";
import { withLock } from "../bus/lock.ts";
import { describeJsonProblem } from "../lib/json-error.ts";
import { ensureRoot } from "../bus/layout.ts";
import { mergeSettings, validateSettings } from "./schema.ts";
import type { Settings } from "./schema.ts";

export const SETTINGS_FILE = "bridge-settings.json";
/**
 * The file's name before 0.2, though it always held the bus limits and the guard's list too. A
 * root that still has it is moved to the new name the first time anything reads the settings.
 */
export const LEGACY_SETTINGS_FILE = "spawner.config.json";

/** An empty settings file: an error like any other, but also what an editor leaves for an instant. */
export class EmptySettingsError extends BridgeError {
  constructor(message: string) {
    super("E_CONFIG", message);
  }
}
export type Overrides = Record<string, unknown>;

export function settingsPath(root: string): string {
  return join(root, SETTINGS_FILE);
}

/** Far more than any settings file needs (a thousand configured roles take ~200 KiB). */
export const SETTINGS_MAX_BYTES = 1024 * 1024;

function readSettingsFile(path: string): string | undefined {
  try {
    return readFileIfExists(path, {
      maxBytes: SETTINGS_MAX_BYTES,
      tooLarge: (size) =>
        new BridgeError(
          "E_CONFIG",
          `${path} is ${size} bytes, over the 1 MiB a settings file may hold; fix or delete it (defaults apply when it is missing)`,
        ),
    });
  } catch (err) {
    if (err instanceof BridgeError && err.code === "E_CONFIG") throw err;
    // A link (never followed), a folder or an unreadable file in its place is a broken settings file
    // like any other: messaging goes on with the defaults, the daemon keeps its last good settings.
    throw new BridgeError(
      "E_CONFIG",
      `${path} cannot be read (${describeError(err)}); replace it with a settings file, or delete it (defaults apply when it is missing)`,
    );
  }
}

/**
 * The settings text and the file it came from: bridge-settings.json, or a root's old
 * spawner.config.json, which is then moved to the new name (hard link, then unlink: an existing
 * new file is never overwritten, and the content is never lost, even if the move fails halfway).
 */
function readSettingsText(root: string): { path: string; text: string | undefined } {
  const path = settingsPath(root);
  const text = readSettingsFile(path);
  if (text !== undefined) return { path, text };
  const legacy = join(root, LEGACY_SETTINGS_FILE);
  const old = readSettingsFile(legacy);
  if (old === undefined) return { path, text: undefined };
  try {
    fsOps.linkSync(legacy, path);
    removeQuietly(legacy);
    return { path, text: old };
  } catch (err) {
    // Another process moved it first (EEXIST), or the root is read-only: read it where it is.
    if (!isErrno(err, "EEXIST", "EACCES", "EPERM", "EROFS")) throw err;
    return { path: legacy, text: old };
  }
}

/** The file's own content: {} when missing; E_CONFIG naming the path and the problem when bad. */
export function readOverrides(root: string): Overrides {
  const { path, text } = readSettingsText(root);
  if (text === undefined) return {};
  // An empty file is most often an editor caught between truncating and writing: reading it as
  // "all defaults" would switch automation off for that instant, so it is an error like any other.
  if (text.trim() === "") throw new EmptySettingsError(`${path} is empty; write {} for the defaults, or delete it`);
  const value = parseJson(text);
  if (value === undefined) {
    throw new BridgeError(
      "E_CONFIG",
      `${path} is not valid JSON: ${describeJsonProblem(text)}; fix or delete it (defaults apply when it is missing)`,
    );
  }
  const problems = validateSettings(value);
  if (problems.length > 0) {
    throw new BridgeError("E_CONFIG", `${path}: ${problems.join("; ")}; fix the file or delete it to get the defaults`);
  }
  return value as Overrides;
}

export function loadSettings(root: string): Settings {
  return mergeSettings(readOverrides(root));
}

/**
 * For paths that must keep working with a broken config (sending, receiving): the defaults,
 * plus the error so the caller can report it. Never used to write: a bad file is not replaced.
 */
export function loadSettingsLenient(root: string): { settings: Settings; error?: BridgeError } {
  try {
    return { settings: loadSettings(root) };
  } catch (err) {
    if (err instanceof BridgeError && err.code === "E_CONFIG") return { settings: mergeSettings({}), error: err };
    throw err;
  }
}

export interface SettingsUpdate {
  settings: Settings;
  /** Human-readable "key: old → new" lines; empty when nothing changed. */
  changes: string[];
}

/** Applies `mutate` to the file's overrides under the config lock; rejects invalid results. */
export function updateSettings(root: string, mutate: (overrides: Overrides) => void): SettingsUpdate {
  ensureRoot(root);
  return withLock(`${settingsPath(root)}.lock`, () => {
    const overrides = readOverrides(root);
    const before = mergeSettings(overrides);
    const next = structuredClone(overrides);
    mutate(next);
    const problems = validateSettings(next);
    if (problems.length > 0) throw new BridgeError("E_CONFIG", `not saved: ${problems.join("; ")}`);
    const after = mergeSettings(next);
    const changes = diffSettings(before, after);
    if (changes.length > 0 || JSON.stringify(next) !== JSON.stringify(overrides)) {
      writeFileAtomic(settingsPath(root), JSON.stringify(next, null, 2) + "\n");
    }
    return { settings: after, changes };
  });
}

/** Sets `value` at a dotted path inside overrides, creating objects on the way. */
export function setPath(overrides: Overrides, path: readonly string[], value: unknown): void {
  let node: Record<string, unknown> = overrides;
  for (const key of path.slice(0, -1)) {
    const child = node[key];
    if (!isRecord(child)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

export function diffSettings(before: Settings, after: Settings): string[] {
  const a = flatten(before as unknown as Record<string, unknown>);
  const b = flatten(after as unknown as Record<string, unknown>);
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  const lines: string[] = [];
  for (const key of keys) {
    const x = a.get(key);
    const y = b.get(key);
    if (x !== y) lines.push(`${key}: ${x ?? "(unset)"} → ${y ?? "(unset)"}`);
  }
  return lines;
}

function flatten(obj: Record<string, unknown>, prefix = "", out = new Map<string, string>()): Map<string, string> {
  for (const [key, value] of Object.entries(obj)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (isRecord(value)) flatten(value, name, out);
    else out.set(name, JSON.stringify(value));
  }
  return out;
}
