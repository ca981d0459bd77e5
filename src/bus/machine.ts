// Which machine a lock, a session record or the daemon's lock was written on. A pid means
// something only where it was recorded, so a record made elsewhere is never judged by its pid
// from here. The hostname is not that identity: macOS changes it when the network changes, which
// made every live session look dead. So records carry `machine`, a hash of what stays put:
//   Linux     /etc/machine-id (written once at install), with the pid namespace when /proc shows
//             it (a container sharing the root with its host counts as another machine: its pids
//             are another set)
//   macOS     the hardware UUID (ioreg's IOPlatformUUID), asked once and kept in $TMPDIR, which
//             macOS makes per user and per machine
//   otherwise the hostname, as before
// Never a file under the bus root: a root on a shared or synced folder would make two machines
// one, and each would break the other's live locks. `host` is still written, for people and for
// records of 0.2.0 and older, which have no `machine` and are judged by hostname as they were.
import { closeSync, constants, fstatSync, readFileSync, readlinkSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { openNoFollow, readHead, writeFileAtomic } from "../lib/fs.ts";
import { nodeRequire } from "../lib/builtin.ts";
import { sha256Hex } from "../lib/sha256.ts";

export interface MachineFacts {
  platform: NodeJS.Platform;
  readText(path: string): string | undefined;
  readLink(path: string): string | undefined;
  /** The output of `ioreg -rd1 -c IOPlatformExpertDevice` (macOS). */
  ioreg(): string | undefined;
  hostname(): string;
  /** Where a computed id is kept between processes (macOS, where asking costs a program run). */
  cache?: { read(): string | undefined; write(id: string): void };
}

const MACHINE_ID = /^[0-9a-f]{32}$/;
const PLATFORM_UUID = /"IOPlatformUUID"\s*=\s*"([0-9A-Fa-f-]{36})"/;
export const MACHINE_PATTERN = /^[0-9a-f]{16}$/;

/** What identifies this machine before hashing, and which source it came from. */
export function machineBasis(facts: MachineFacts): string {
  for (const path of ["/etc/machine-id", "/var/lib/dbus/machine-id"]) {
    const id = facts.readText(path)?.trim();
    if (id && MACHINE_ID.test(id)) {
      const ns = facts.readLink("/proc/self/ns/pid");
      return `machine-id:${id}${ns ? `|${ns}` : ""}`;
    }
  }
  if (facts.platform === "darwin") {
    const uuid = PLATFORM_UUID.exec(facts.ioreg() ?? "")?.[1];
    if (uuid) return `platform-uuid:${uuid.toUpperCase()}`;
  }
  return `hostname:${facts.hostname()}`;
}

/** A keyed hash (the raw machine id is not to be written where others might read it: machine-id(5)). */
export function machineIdFrom(basis: string): string {
  return sha256Hex(`session-bridge machine\0${basis}`).slice(0, 16);
}

export function computeMachineId(facts: MachineFacts): string {
  const cached = facts.cache?.read();
  if (cached !== undefined && MACHINE_PATTERN.test(cached)) return cached;
  const basis = machineBasis(facts);
  const id = machineIdFrom(basis);
  // Only a hardware id is worth keeping: a hostname-based one must follow the hostname.
  if (basis.startsWith("platform-uuid:")) facts.cache?.write(id);
  return id;
}

/**
 * The start of a small file (the machine id, the hostname), as text; undefined when there is none
 * (macOS, a minimal container: the next source is asked). Not readFileSync: for a /proc file, whose
 * size reads as 0, it allocates 64 KiB chunks, and its first call costs a hook ~0.3-0.8 ms.
 */
function readText(path: string): string | undefined {
  return readHead(path, SMALL_FILE_BYTES)?.toString("utf8");
}

/** More than any file readText reads: HOST_NAME_MAX is 64, a machine id 33 bytes. */
const SMALL_FILE_BYTES = 1024;

function ownCacheFile(): { read(): string | undefined; write(id: string): void } {
  const uid = typeof process.getuid === "function" ? process.getuid() : 0;
  const path = join(tmpdir(), `session-bridge-machine-${uid}`);
  return {
    read() {
      try {
        const fd = openNoFollow(path, constants.O_RDONLY);
        try {
          // Only a file of our own: another user could plant one in a shared temp folder.
          if (fstatSync(fd).uid !== uid) return undefined;
          return readFileSync(fd, "utf8").trim();
        } finally {
          closeSync(fd);
        }
      } catch {
        // Missing (first run, or cleaned from $TMPDIR) or a link: ask the machine again.
        return undefined;
      }
    },
    write(id) {
      try {
        writeFileAtomic(path, `${id}\n`);
      } catch {
        // A read-only temp folder only costs asking again next time.
      }
    },
  };
}

export const realMachineFacts = (): MachineFacts => ({
  platform: process.platform,
  readText,
  readLink(path) {
    try {
      return readlinkSync(path);
    } catch {
      // No /proc: the machine id alone.
      return undefined;
    }
  },
  ioreg() {
    try {
      const { execFileSync } = nodeRequire("node:child_process") as typeof import("node:child_process");
      return execFileSync("/usr/sbin/ioreg", ["-rd1", "-c", "IOPlatformExpertDevice"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
        timeout: 5000,
      });
    } catch {
      // Not macOS, or ioreg missing: fall back to the hostname.
      return undefined;
    }
  },
  hostname: hostName,
  ...(process.platform === "darwin" && { cache: ownCacheFile() }),
});

let own: string | undefined;

/**
 * This machine's id (computed on first use: a hook that takes no lock never pays for it).
 * BRIDGE_MACHINE_ID (16 hex digits) stands in for it: two bus roots on one computer then act as
 * two machines sharing a Redis store (the multi-machine tests; a demo of it). Anything else in it
 * is ignored, never trusted as an identity.
 */
export function machineId(): string {
  const given = process.env.BRIDGE_MACHINE_ID;
  own ??= given !== undefined && MACHINE_PATTERN.test(given) ? given : computeMachineId(realMachineFacts());
  return own;
}

/** What a record writes about where it was made. */
export function machineStamp(): { host: string; machine: string } {
  return { host: hostName(), machine: machineId() };
}

/** True when the record was written on this machine, so its pid can be checked from here. */
export function madeHere(record: { host?: unknown; machine?: unknown }): boolean {
  if (typeof record.machine === "string") return record.machine === machineId();
  // Written before machine ids (0.2.0 and older): the hostname was the identity then.
  return typeof record.host === "string" && record.host === hostName();
}

/**
 * os.hostname(), on Linux read where the kernel keeps it (the same UTS name): every lock a hook
 * takes writes it, and loading node:os for it cost `hook recv` ~0.3 ms (0.38 ms against 0.07 ms in
 * a fresh `node`). Elsewhere, or without /proc, os.hostname(). A long-running process may see it
 * change, so a read is kept for a second only: enough that a process sending in a loop (the MCP
 * server, `send` in a script), which takes a lock per message, does not read it (four system calls)
 * for every one. Records are told apart by `machine`; `host` is for people and old records.
 */
export const hostName = freshFor(1000, () => {
  const kernel = process.platform === "linux" ? readText("/proc/sys/kernel/hostname")?.trim() : undefined;
  return kernel ? kernel : hostname();
});

/** `read`, asked again once `ms` have passed since its last answer (or the clock went back). */
export function freshFor<T>(ms: number, read: () => T, clock: () => number = Date.now): () => T {
  let kept: { value: T; at: number } | undefined;
  return () => {
    const now = clock();
    if (kept === undefined || now < kept.at || now - kept.at >= ms) kept = { value: read(), at: now };
    return kept.value;
  };
}
