// Where everything lives under the bridge root, and the name rules that keep every path inside it.
//
//   <root>/                          0700, BRIDGE_ROOT or ~/.claude/bridge
//     bridge-settings.json           the settings (only what differs from the defaults); its
//                                    .lock while it is changed (src/settings/file.ts)
//     spawner/                       the daemon: pid lock, its per-role positions, log, run logs
//     cache/                         V8's compiled code of the hooks, mcp and its SDK (faster starts)
//     shim/<key>/git                 the git shim bridged sessions get first on PATH (src/shim/)
//     projects/<project>/<role>/
//       inbox.jsonl                  append-only JSON lines, one message each
//       cursor.json                  {ino, offset}: how far this role has consumed inbox.jsonl
//       receipts.jsonl               who consumed which message ids, and when
//       lock                         O_EXCL lock serialising appends, cursor moves and compaction
//       chain.json                   loop guard: the chain/hop this role's next sends carry
//       wake.json                    rails bookkeeping: recent wakes, last refusal
//       wake.lock                    O_EXCL lock every wake decision of the role is made under
//       waiter.json                  the one `hook wait` process waiting on this inbox (pid, token)
//       sessions/<claude pid>.json   live Claude Code sessions holding this role
//       history/<n>.jsonl            consumed inbox prefixes moved out by compaction
import { lstatSync, chmodSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { BridgeError, isErrno } from "../lib/errors.ts";
import { assertNotSymlink, DIR_MODE, ensureDir, readFolder } from "../lib/fs.ts";

export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const BROADCAST = "*";

export function validateName(kind: "project" | "role", value: unknown): string {
  if (typeof value !== "string" || !NAME_PATTERN.test(value)) {
    const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
    const extra = value === BROADCAST ? ` ("*" only means "every other role" as a send target)` : "";
    throw new BridgeError(
      "E_BAD_NAME",
      `invalid ${kind} name ${shown}${extra}: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
  return value;
}

export function resolveRoot(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.BRIDGE_ROOT;
  if (configured !== undefined && configured.trim() !== "") return resolve(configured);
  return join(homedir(), ".claude", "bridge");
}

/** Creates the root if needed and checks it is ours and private. */
export function ensureRoot(root: string): void {
  let st;
  try {
    st = lstatSync(root);
  } catch (err) {
    if (!isErrno(err, "ENOENT")) throw err;
    ensureDir(root);
    st = lstatSync(root);
  }
  if (!st.isDirectory()) ensureDir(root); // reports a symlink or a file in its place
  if (typeof process.getuid === "function" && st.uid !== process.getuid()) {
    throw new BridgeError(
      "E_IO",
      `bridge root "${root}" belongs to uid ${st.uid}, not to you (uid ${process.getuid()}); set BRIDGE_ROOT to a folder of your own`,
    );
  }
  if ((st.mode & 0o777) !== DIR_MODE) chmodSync(root, DIR_MODE);
}

/**
 * For paths that only read (peek, tail, roles, status, the daemon's discovery): the root, projects/,
 * the project and the role folder must each be a real folder, and the root ours — what ensureRoot
 * and ensureRoleDir insist on before writing. Otherwise a link planted there, or a root made in a
 * shared folder by another user, would feed the reader someone else's files. A missing folder is
 * fine: there is nothing to read. True when every folder of the chain is there, a real folder,
 * and the root private: what ensureRoot and ensureRoleDir would otherwise make sure of.
 */
export function assertReadable(root: string, project?: string, role?: string): boolean {
  const chain = [root, projectsDir(root)];
  if (project !== undefined) chain.push(projectDir(root, project));
  if (project !== undefined && role !== undefined) chain.push(rolePaths(root, project, role).dir);
  let complete = true;
  for (const path of chain) {
    let st;
    try {
      st = lstatSync(path);
    } catch (err) {
      if (isErrno(err, "ENOENT", "ENOTDIR")) return false;
      throw err;
    }
    if (st.isSymbolicLink()) assertNotSymlink(path);
    if (path === root && typeof process.getuid === "function" && st.uid !== process.getuid()) {
      throw new BridgeError(
        "E_IO",
        `bridge root "${root}" belongs to uid ${st.uid}, not to you (uid ${process.getuid()}); set BRIDGE_ROOT to a folder of your own`,
      );
    }
    if (!st.isDirectory() || (path === root && (st.mode & 0o777) !== DIR_MODE)) complete = false;
  }
  return complete;
}

/** The project or role folders in `dir` (valid names only, sorted); none when it is missing or a link. */
export function listNameFolders(dir: string): string[] {
  return readFolder(dir)
    .filter((e) => e.isDirectory() && NAME_PATTERN.test(e.name))
    .map((e) => e.name)
    .sort();
}

export interface RolePaths {
  root: string;
  project: string;
  role: string;
  dir: string;
  inbox: string;
  cursor: string;
  receipts: string;
  lock: string;
  chain: string;
  wake: string;
  waiter: string;
  sessions: string;
  history: string;
}

/** Compiled-code caches: safe to delete at any time. */
export function cacheDir(root: string): string {
  return join(root, "cache");
}

export function projectsDir(root: string): string {
  return join(root, "projects");
}

export function projectDir(root: string, project: string): string {
  return join(projectsDir(root), validateName("project", project));
}

export function rolePaths(root: string, project: string, role: string): RolePaths {
  const dir = join(projectDir(root, project), validateName("role", role));
  return {
    root,
    project,
    role,
    dir,
    inbox: join(dir, "inbox.jsonl"),
    cursor: join(dir, "cursor.json"),
    receipts: join(dir, "receipts.jsonl"),
    lock: join(dir, "lock"),
    chain: join(dir, "chain.json"),
    wake: join(dir, "wake.json"),
    waiter: join(dir, "waiter.json"),
    sessions: join(dir, "sessions"),
    history: join(dir, "history"),
  };
}

/** Makes the role's folder (which is what makes a role "known"), refusing symlinks on the way. */
export function ensureRoleDir(paths: RolePaths): void {
  ensureRoot(paths.root);
  ensureDir(projectsDir(paths.root));
  ensureDir(projectDir(paths.root, paths.project));
  ensureDir(paths.dir);
}

/** True when the role has joined: its folder exists. A symlink in its place is refused (E_SYMLINK). */
export function roleExists(paths: RolePaths): boolean {
  try {
    const st = lstatSync(paths.dir);
    if (st.isSymbolicLink()) assertNotSymlink(paths.dir);
    return st.isDirectory();
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR")) return false;
    throw err;
  }
}
