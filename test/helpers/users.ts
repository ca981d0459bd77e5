// Acting as another local user. Tests run as root in CI: the `nobody` account (uid 65534) is then
// "someone else" without creating any user; as an ordinary user, file modes apply to us directly.
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, lstatSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { BIN } from "./bin.ts";
import { cleanEnv } from "./cli.ts";

export const NOBODY = { uid: 65534, gid: 65534 };

export function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/** Gives a whole tree to `owner` (lchown: links are not followed). */
export function chownTree(path: string, owner: { uid: number; gid: number }): void {
  chownSync(path, owner.uid, owner.gid);
  if (lstatSync(path).isDirectory()) for (const name of readdirSync(path)) chownTree(join(path, name), owner);
}

/** Lets other users walk through `dir` (not read it), as a home folder usually does. */
export function traversable(dir: string): void {
  chmodSync(dir, 0o711);
}

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

let sharedBin: string | undefined;

/**
 * The built binary where another user can read it: the checkout may sit in a folder only we can
 * enter (a clone in `mktemp -d` is 0700), and the binary is one self-contained file.
 */
function binFor(user: { uid: number; gid: number } | undefined): string {
  if (!user) return BIN;
  if (sharedBin === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "sb-bin-"));
    chmodSync(dir, 0o755);
    sharedBin = join(dir, basename(BIN));
    copyFileSync(BIN, sharedBin);
    chmodSync(sharedBin, 0o644);
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  }
  return sharedBin;
}

/** Runs the built binary as `user` (or as ourselves when undefined). */
export function bridgeAs(
  user: { uid: number; gid: number } | undefined,
  args: string[],
  env: Record<string, string | undefined>,
  input = "",
): Ran {
  const r = spawnSync(process.execPath, [binFor(user), ...args], {
    env: cleanEnv({ HOME: "/nonexistent", ...env }),
    encoding: "utf8",
    input,
    timeout: 60_000,
    ...(user && { uid: user.uid, gid: user.gid }),
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** What another user gets trying to read each path: "ok" or the errno code. */
export function probeReadsAs(user: { uid: number; gid: number }, paths: string[]): Record<string, string> {
  const script = `const fs=require("fs");const out={};for(const p of JSON.parse(process.argv[1])){try{fs.statSync(p).isDirectory()?fs.readdirSync(p):fs.readFileSync(p);out[p]="ok"}catch(e){out[p]=e.code}}process.stdout.write(JSON.stringify(out))`;
  const r = spawnSync(process.execPath, ["-e", script, JSON.stringify(paths)], {
    uid: user.uid,
    gid: user.gid,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "" },
  });
  if (r.status !== 0) throw new Error(`probe as uid ${user.uid} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, string>;
}
