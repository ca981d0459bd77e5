// Where Claude Code reads its configuration (docs/claude-code.md "Configuration files"), and
// safe reading/writing of its JSON files: refuse invalid JSON (naming the file and the parse
// error), keep the file's mode and indentation, back it up before changing it, write atomically.
import { copyFileSync, fstatSync, chmodSync, closeSync, constants, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { BridgeError, isErrno } from "../../lib/errors.ts";
import { openNoFollow, readFileIfExists, writeFileAtomic } from "../../lib/fs.ts";
import { isRecord } from "../../lib/fs.ts";
import { describeJsonProblem } from "../../lib/json-error.ts";
import { isoTime } from "../../lib/time.ts";

export interface ConfigDir {
  dir: string;
  source: "--config-dir" | "CLAUDE_CONFIG_DIR" | "default";
  /** One line for humans: which folder, which .claude.json, and why. */
  why: string;
  /** Hooks and permissions. */
  settingsPath: string;
  /** User-scope MCP servers (Claude Code ignores mcpServers in settings.json). */
  claudeJsonPath: string;
  /**
   * The CLAUDE_CONFIG_DIR the sessions run with, undefined when they run without it: it decides
   * which .claude.json Claude Code reads, so `claude mcp` runs with exactly this value.
   */
  claudeConfigDirVar: string | undefined;
  /** The .claude.json Claude Code would read had the variable been the other way (for doctor's mismatch check). */
  otherClaudeJsonPath: string | undefined;
}

/**
 * Which .claude.json Claude Code reads depends on whether CLAUDE_CONFIG_DIR is set, not on the
 * folder it names (docs/claude-code.md "Configuration files", seen on 2.1.328): unset,
 * ~/.claude.json; set (even to ~/.claude), $CLAUDE_CONFIG_DIR/.claude.json. A folder other than
 * ~/.claude is only ever read with the variable set. For `--config-dir ~/.claude` the sessions are
 * taken to run as this shell does: with the variable when it is exported here and names the same
 * folder, else without it (the user's own `claude` reading ~/.claude.json).
 */
export function resolveConfigDir(flag: string | undefined, env: NodeJS.ProcessEnv): ConfigDir {
  const home = homedir();
  const defaultDir = join(home, ".claude");
  const envDir = env.CLAUDE_CONFIG_DIR ? resolve(env.CLAUDE_CONFIG_DIR) : undefined;
  const [dir, source, why] =
    flag !== undefined
      ? [resolve(flag), "--config-dir" as const, "from --config-dir"]
      : envDir !== undefined
        ? [envDir, "CLAUDE_CONFIG_DIR" as const, "from $CLAUDE_CONFIG_DIR"]
        : [defaultDir, "default" as const, "the default: --config-dir and $CLAUDE_CONFIG_DIR are not set"];
  const isDefault = dir === defaultDir;
  const varSet = !isDefault || envDir === dir;
  const insideJson = join(dir, ".claude.json");
  const besideJson = join(home, ".claude.json");
  const claudeJsonPath = varSet ? insideJson : besideJson;
  const jsonWhy = !isDefault
    ? "Claude Code reads this folder only with CLAUDE_CONFIG_DIR set, and then reads the .claude.json inside it"
    : varSet
      ? "CLAUDE_CONFIG_DIR is set (to ~/.claude itself), so Claude Code reads the .claude.json inside the folder"
      : "CLAUDE_CONFIG_DIR is not set, so Claude Code reads the .claude.json beside the folder";
  return {
    dir,
    source,
    why: `Claude Code config folder: ${dir} (${why}); MCP servers in ${claudeJsonPath} (${jsonWhy})`,
    settingsPath: join(dir, "settings.json"),
    claudeJsonPath,
    claudeConfigDirVar: varSet ? dir : undefined,
    otherClaudeJsonPath: isDefault ? (varSet ? besideJson : insideJson) : undefined,
  };
}

/** The user-scope MCP server entry that runs `self` as `session-bridge mcp` (docs/claude-code.md "MCP servers"). */
export function mcpEntry(self: readonly string[]): Record<string, unknown> {
  return { type: "stdio", command: self[0], args: [...self.slice(1), "mcp"], env: {} };
}

export interface JsonFile {
  path: string;
  exists: boolean;
  value: Record<string, unknown>;
  text: string;
  mode: number;
  indent: string;
}

/** Reads a JSON object file; missing reads as {}. Anything but a JSON object is refused. */
/**
 * The most of a Claude Code file read into memory: generous, because ~/.claude.json grows with
 * the state Claude Code keeps per project; settings.json stays a few KiB.
 */
export const CLAUDE_FILE_MAX_BYTES = 64 * 1024 * 1024;

export function readJsonFile(path: string): JsonFile {
  const text = readFileIfExists(path, {
    maxBytes: CLAUDE_FILE_MAX_BYTES,
    tooLarge: (size) =>
      new BridgeError(
        "E_CONFIG",
        `${path} is ${size} bytes, over the 64 MiB session-bridge reads of a Claude Code file; nothing was changed: shrink it by hand, then run this again`,
      ),
  });
  if (text === undefined) return { path, exists: false, value: {}, text: "", mode: 0o600, indent: "  " };
  let value: unknown;
  try {
    value = text.trim() === "" ? {} : JSON.parse(text);
  } catch {
    const backup = latestBackup(path);
    throw new BridgeError(
      "E_CONFIG",
      `${path} is not valid JSON: ${describeJsonProblem(text)}; fix it by hand${backup ? `, or restore ${backup}` : ""}; nothing was changed`,
    );
  }
  if (!isRecord(value)) throw new BridgeError("E_CONFIG", `${path} does not hold a JSON object; fix it by hand — nothing was changed`);
  return { path, exists: true, value, text, mode: fileMode(path), indent: detectIndent(text) };
}

function fileMode(path: string): number {
  const fd = openNoFollow(path, constants.O_RDONLY);
  try {
    return fstatSync(fd).mode & 0o777;
  } finally {
    closeSync(fd);
  }
}

function detectIndent(text: string): string {
  const m = /\n([ \t]+)\S/.exec(text);
  return m?.[1] ?? "  ";
}

export function formatJson(value: unknown, indent = "  "): string {
  return JSON.stringify(value, null, indent) + "\n";
}

const BACKUP_INFIX = ".session-bridge-backup-";

/** The newest backup `install` made of `path`, if one is there (names sort by their time). */
export function latestBackup(path: string): string | undefined {
  const name = basename(path) + BACKUP_INFIX;
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return undefined; // no folder, no backup
  }
  const newest = names
    .filter((n) => n.startsWith(name))
    .sort()
    .at(-1);
  return newest === undefined ? undefined : join(dirname(path), newest);
}

/** A timestamped copy beside the file, same mode; undefined when there was no file. */
export function backupFile(file: JsonFile, now = new Date()): string | undefined {
  if (!file.exists) return undefined;
  const stamp = isoTime(now.getTime())
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  const backup = `${file.path}${BACKUP_INFIX}${stamp}`;
  try {
    copyFileSync(file.path, backup, constants.COPYFILE_EXCL);
  } catch (err) {
    // Two changes within the same second: the earlier backup already holds the older content.
    if (!isErrno(err, "EEXIST")) throw err;
  }
  chmodSync(backup, file.mode);
  return backup;
}

/** Writes `value` in place of `file` atomically, keeping its mode and indentation. */
export function writeJsonFile(file: JsonFile, value: Record<string, unknown>): void {
  writeFileAtomic(file.path, formatJson(value, file.indent), { mode: file.exists ? file.mode : 0o600 });
}
