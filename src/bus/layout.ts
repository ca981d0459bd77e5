// Where everything lives under the bridge root, and the name rules that keep every path inside it.
//
//   <root>/                          0700, BRIDGE_ROOT or ~/.claude/bridge
//     bridge-settings.json           the settings (only what differs from the defaults); its
//                                    .lock while it is changed (src/settings/file.ts)
//     spawner/                       the daemon: pid lock, its per-role positions, log, run logs
//     cache/                         V8's compiled code of the entry, the hooks, mcp and its SDK (faster starts)
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
//       history/<n>.receipts.jsonl   the receipts naming them, moved out with them
import { lstatSync, chmodSync } from "node:fs";
import type { Stats } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { BridgeError, isErrno } from "../lib/errors.ts";
import { assertNotSymlink, DIR_MODE, ensureDir, ownedByOther, readFolder } from "../lib/fs.ts";
import { isValidName, statName, validateName } from "./names.ts";

export { BROADCAST, NAME_PATTERN, isValidName, validateName } from "./names.ts";

export function resolveRoot(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.BRIDGE_ROOT;
  if (configured !== undefined && configured.trim() !== "") return resolve(configured);
  return join(homeDirectory(), ".claude", "bridge");
}

/**
 * os.homedir() as it answers on Linux and macOS ($HOME whenever it is set, even empty), without
 * loading node:os for it: a bridged guard then never loads that module (with the hook bundles'
 * built-ins loaded on first use, build.mjs, 0.3-0.6M instructions fewer; callgrind).
 */
function homeDirectory(): string {
  const home = process.platform === "win32" ? undefined : process.env.HOME;
  return home !== undefined ? home : homedir();
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
  if (ownedByOther(st)) throw foreignRoot(root, st);
  if ((st.mode & 0o777) !== DIR_MODE) chmodSync(root, DIR_MODE);
}

function foreignRoot(root: string, st: Stats): BridgeError {
  return new BridgeError(
    "E_IO",
    `bridge root "${root}" belongs to uid ${st.uid}, not to you (uid ${process.getuid?.()}); set BRIDGE_ROOT to a folder of your own`,
  );
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
  let complete = true;
  const check = (path: string, st: Stats | undefined): boolean => {
    if (st === undefined) return false;
    if (st.isSymbolicLink()) assertNotSymlink(path);
    if (path === root && ownedByOther(st)) throw foreignRoot(root, st);
    if (!st.isDirectory() || (path === root && (st.mode & 0o777) !== DIR_MODE)) complete = false;
    return true;
  };
  if (!check(root, lstatIfThere(root))) return false;
  const projects = projectsDir(root);
  if (!check(projects, lstatIfThere(projects))) return false;
  if (project === undefined) return complete;
  // The names are looked up under the case rule (names.ts): a case twin is E_BAD_NAME, not a miss.
  if (!check(projectDir(root, project), statName(projects, "project", project))) return false;
  if (role === undefined) return complete;
  const paths = rolePaths(root, project, role);
  if (!check(paths.dir, statName(projectDir(root, project), "role", role, ` of project "${project}"`))) return false;
  return complete;
}

function lstatIfThere(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR")) return undefined;
    throw err;
  }
}

/** The project or role folders in `dir` (valid names only, sorted); none when it is missing or a link. */
export function listNameFolders(dir: string): string[] {
  return readFolder(dir)
    .filter((e) => e.isDirectory() && isValidName(e.name))
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

/**
 * Makes the role's folder (which is what makes a role "known"), refusing symlinks on the way, and
 * a project or role whose name differs only in case from an existing one (names.ts).
 */
export function ensureRoleDir(paths: RolePaths): void {
  ensureRoot(paths.root);
  const projects = projectsDir(paths.root);
  ensureDir(projects);
  statName(projects, "project", paths.project);
  const project = projectDir(paths.root, paths.project);
  ensureDir(project);
  statName(project, "role", paths.role, ` of project "${paths.project}"`);
  ensureDir(paths.dir);
}

/**
 * True when the role has joined: its folder exists. A symlink in its place is refused (E_SYMLINK),
 * a name differing only in case from a role of the project too (E_BAD_NAME, names.ts).
 */
export function roleExists(paths: RolePaths): boolean {
  const st = statName(projectDir(paths.root, paths.project), "role", paths.role, ` of project "${paths.project}"`);
  if (st?.isSymbolicLink()) assertNotSymlink(paths.dir);
  return st?.isDirectory() === true;
}
