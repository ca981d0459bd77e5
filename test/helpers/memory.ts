// Peak memory of the built binary on an input someone else controls: the child's VmHWM (Linux's
// high-water mark of resident memory, from /proc/<pid>/status), read by the child itself as it
// exits and, while it runs, by polling, so a child that never stops (it reads an endless stdin)
// is killed as soon as it passes the bound instead of eating the machine. Assertions compare the
// peak with a generous bound, never a time.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN } from "./bin.ts";

const MiB = 1024 * 1024;

let preload: string | undefined;
function preloadFile(): string {
  if (preload) return preload;
  const dir = mkdtempSync(join(tmpdir(), "sb-hwm-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  preload = join(dir, "hwm.cjs");
  // process.exit() and a normal end both run "exit" listeners; the file is named by the parent.
  writeFileSync(
    preload,
    `process.on("exit", () => { const fs = require("fs"); const m = /VmHWM:\\s+(\\d+)/.exec(fs.readFileSync("/proc/self/status", "utf8")); if (m && process.env.SB_HWM_FILE) fs.writeFileSync(process.env.SB_HWM_FILE, m[1]); });\n`,
  );
  return preload;
}

export function vmHwmKiB(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined; // gone, or a zombie without memory
  }
}

export interface Measured {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Peak resident memory of the child, in MiB. */
  peakMiB: number;
  /** True when the child passed `killAboveMiB` and was killed for it. */
  killed: boolean;
  /** Bytes of stdin the child accepted before it closed its end (or exited). */
  fed: number;
}

export interface MeasureOptions {
  env: NodeJS.ProcessEnv;
  /** "endless": as much as the child will read; a Buffer: exactly that; undefined: nothing. */
  input?: "endless" | Buffer;
  /** The byte written over and over for "endless" input (default "y\n"). */
  fill?: string;
  /** Kill the child once its peak passes this (the test then fails on the bound). */
  killAboveMiB: number;
  /** Kill the child after writing this much endless input (a reader that never stops). */
  stopAfterBytes?: number;
  /** Called with the child's stdin after the input, for protocols that talk on (MCP). */
  after?: (stdin: NodeJS.WritableStream) => void;
  /** Resolves early once stdout matches (the child is then killed), for servers that never exit. */
  until?: RegExp;
}

export function runMeasured(args: string[], options: MeasureOptions): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), "sb-hwm-run-"));
  const hwmFile = join(dir, "hwm");
  const child = spawn(process.execPath, ["--require", preloadFile(), BIN, ...args], {
    env: { ...options.env, SB_HWM_FILE: hwmFile },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let peakKiB = 0;
  let killed = false;
  let fed = 0;
  let exited = false;
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
    if (options.until?.test(stdout)) child.kill("SIGKILL");
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  child.stdin.on("error", () => {
    // EPIPE: the child stopped reading, which is what a bounded reader does.
  });
  const watch = setInterval(() => {
    const now = vmHwmKiB(child.pid!);
    if (now !== undefined) peakKiB = Math.max(peakKiB, now);
    if (peakKiB > options.killAboveMiB * 1024 && !exited) {
      killed = true;
      child.kill("SIGKILL");
    }
  }, 20);

  const input = options.input;
  if (input === "endless") {
    const chunk = Buffer.from((options.fill ?? "y\n").repeat(Math.ceil((64 * 1024) / (options.fill ?? "y\n").length)));
    const pump = (): void => {
      while (!exited && !child.stdin.destroyed) {
        if (options.stopAfterBytes !== undefined && fed >= options.stopAfterBytes) {
          // Let the child take what is in the pipe, then look at its peak.
          setTimeout(() => child.kill("SIGKILL"), 500);
          return;
        }
        fed += chunk.length;
        if (!child.stdin.write(chunk)) {
          child.stdin.once("drain", pump);
          return;
        }
      }
    };
    pump();
  } else if (input) {
    child.stdin.write(input, () => {
      fed = input.length;
    });
    if (options.after) options.after(child.stdin);
    else child.stdin.end();
  } else if (options.after) options.after(child.stdin);
  else child.stdin.end();

  return new Promise((resolve) => {
    child.on("exit", () => {
      exited = true;
    });
    child.on("close", (status, signal) => {
      clearInterval(watch);
      try {
        peakKiB = Math.max(peakKiB, Number(readFileSync(hwmFile, "utf8")));
      } catch {
        // Killed: the poll's figure is all there is.
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({ status, signal, stdout, stderr, peakMiB: Math.round((peakKiB / 1024) * 10) / 10, killed, fed });
    });
  });
}

export { MiB };
