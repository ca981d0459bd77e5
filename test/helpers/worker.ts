// A worker fixture run as a child process that prints "ready" once set up, then one line per event
// (a message acknowledged, a message taken). Used by the crash loop and the load test.
import { spawn } from "node:child_process";

export interface Worker {
  pid: number;
  /** Complete lines printed, "ready" excepted. A line cut by a kill never counts. */
  lines: string[];
  /** Resolves on "ready", or on exit for a worker that died before it. */
  ready: Promise<void>;
  exited: Promise<number | null>;
  stderr(): string;
  kill(): void;
}

export function startWorker(script: string, args: string[]): Worker {
  const child = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let partial = "";
  let stderr = "";
  let onReady!: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    const parts = (partial + d).split("\n");
    // A line cut by the kill was never fully acknowledged or printed: it does not count.
    partial = parts.pop()!;
    for (const line of parts) {
      if (line === "ready") onReady();
      else lines.push(line);
    }
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  // A worker that dies on its own (an exception in the store) never gets ready: its caller's
  // checks then fail loudly instead of waiting forever.
  void exited.then(() => onReady());
  return { pid: child.pid!, lines, ready, exited, stderr: () => stderr, kill: () => child.kill("SIGKILL") };
}
