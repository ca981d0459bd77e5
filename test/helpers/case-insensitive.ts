// A real case-insensitive, case-preserving folder on Linux, as macOS's default file system is: a
// FAT image (mkfs.vfat, dosfstools) mounted through FUSE (fusefat: this kernel may have no vfat
// driver), with fuse-posixovl on top for what FAT lacks and the store needs (modes, hard links), so
// only the name lookup differs from an ordinary Linux folder. Needs root and /dev/fuse; `.ci/run`
// installs the packages. `mountCaseInsensitive` returns the folder, or the reason it cannot be had.
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, ftruncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { findOnPath } from "../../src/lib/proc.ts";

export const CASE_INSENSITIVE_PACKAGES = "dosfstools fusefat fuse-posixovl";

function run(command: string, args: string[]): string | undefined {
  const r = spawnSync(command, args, { encoding: "utf8", timeout: 30_000 });
  return r.status === 0 ? undefined : `${command} ${args.join(" ")} failed (${r.status ?? r.error?.message}): ${r.stderr.trim()}`;
}

const sbin = { ...process.env, PATH: `${process.env.PATH ?? ""}:/usr/sbin:/sbin` };

/** A case-insensitive folder removed (unmounted) after the test, or a reason why there is none. */
export function mountCaseInsensitive(t: TestContext): { dir: string } | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: "needs root to mount a case-insensitive folder (FUSE)" };
  const missing = ["mkfs.vfat", "fusefat", "mount.posixovl"].filter((p) => findOnPath(p, sbin) === undefined);
  if (missing.length > 0) return { skip: `${missing.join(", ")} not installed (apt-get install ${CASE_INSENSITIVE_PACKAGES})` };
  if (!existsSync("/dev/fuse")) return { skip: "no /dev/fuse here" };
  const base = mkdtempSync(join(tmpdir(), "sb-ci-"));
  const image = join(base, "fat.img");
  const lower = join(base, "fat");
  const dir = join(base, "ci");
  mkdirSync(lower);
  mkdirSync(dir);
  const mounted: string[] = [];
  const cleanup = (): void => {
    for (const m of mounted.reverse()) spawnSync("umount", [m], { stdio: "ignore" });
    mounted.length = 0;
    rmSync(base, { recursive: true, force: true });
  };
  t.after(cleanup);
  process.once("exit", cleanup);
  const fd = openSync(image, "w");
  ftruncateSync(fd, 64 * 1024 * 1024);
  closeSync(fd);
  const steps: Array<[string, string[], string?]> = [
    [findOnPath("mkfs.vfat", sbin)!, ["-n", "SBCI", image]],
    ["fusefat", ["-o", "rw+", image, lower], lower],
    [findOnPath("mount.posixovl", sbin)!, ["-S", lower, dir], dir],
  ];
  for (const [command, args, mountPoint] of steps) {
    const failed = run(command, args);
    if (failed) return { skip: `cannot mount a case-insensitive folder here: ${failed}` };
    if (mountPoint) mounted.push(mountPoint);
  }
  mkdirSync(join(dir, "Probe"));
  if (!existsSync(join(dir, "probe"))) return { skip: `the folder mounted at ${dir} is not case-insensitive` };
  rmSync(join(dir, "Probe"), { recursive: true });
  return { dir };
}
