// Shared by the dashboard tests: the built binary's `dashboard` as a child process (its URL read
// from stdout), raw HTTP requests with any Host/Origin header (fetch cannot set Host), and an
// event-stream reader that waits for an event with a deadline.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import type { ClientRequest, IncomingHttpHeaders } from "node:http";
import type { TestContext } from "node:test";
import { BIN } from "./bin.ts";
import { baseEnv, waitFor } from "./spawner.ts";
import type { Sandbox } from "./spawner.ts";

/**
 * Cleanup in reverse order of set-up, in one hook, each step attempted even if another fails:
 * the browser closes before the server stops, and both before their folder is removed (node:test
 * runs separate `after` hooks first-registered first, and stops at the first that throws).
 */
export function deferrer(t: TestContext): (fn: () => unknown) => void {
  const steps: (() => unknown)[] = [];
  t.after(async () => {
    const errors: unknown[] = [];
    for (const step of steps.reverse()) {
      try {
        await step();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw errors[0];
  });
  return (fn) => void steps.push(fn);
}

export interface DashboardProc {
  child: ChildProcess;
  url: string;
  port: number;
  token: string;
  stderr(): string;
  exited: Promise<number | null>;
  /** SIGTERM and the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `session-bridge dashboard ARGS` and waits for the URL line. */
export async function startDashboard(box: Sandbox, args: string[] = [], extra: Record<string, string> = {}): Promise<DashboardProc> {
  const child = spawn(process.execPath, [BIN, "dashboard", ...args], { env: baseEnv(box, extra), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    return exited;
  };
  try {
    const line = await waitFor(
      "the dashboard's URL on stdout",
      () => (done ? `exited: ${err}` : /^(http:\/\/\S+)\n/.exec(out)?.[1]),
      15_000,
      () => `stdout: ${out}\nstderr: ${err}`,
    );
    if (line.startsWith("exited:")) throw new Error(`the dashboard exited before printing its URL\n${err}`);
    const url = new URL(line);
    return { child, url: line, port: Number(url.port), token: url.searchParams.get("token") ?? "", stderr: () => err, exited, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RequestOptions {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  host?: string;
}

/** One request to 127.0.0.1:port (or `host`) with exactly the headers given plus Host. */
export function request(port: number, options: RequestOptions): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: options.host ?? "127.0.0.1",
        port,
        method: options.method ?? "GET",
        path: options.path,
        headers: { Host: `127.0.0.1:${port}`, ...options.headers },
        agent: false,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

export interface EventStream {
  status: number;
  /** Everything received so far (events and comments). */
  raw(): string;
  /** The data of every `snapshot` event so far, parsed. */
  snapshots(): any[];
  close(): void;
}

/** Opens /api/events and collects what arrives. */
export function openEvents(port: number, token: string, headers: Record<string, string> = {}): Promise<EventStream> {
  return new Promise((resolve, reject) => {
    let raw = "";
    let req: ClientRequest | undefined;
    req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        path: `/api/events?token=${encodeURIComponent(token)}`,
        headers: { Host: `127.0.0.1:${port}`, ...headers },
        agent: false,
      },
      (res) => {
        res.setEncoding("utf8").on("data", (d: string) => (raw += d));
        res.on("error", () => {
          // The server ended the stream (a stop): what arrived is still readable.
        });
        resolve({
          status: res.statusCode ?? 0,
          raw: () => raw,
          snapshots: () =>
            raw
              .slice(0, raw.lastIndexOf("\n\n"))
              .split("\n\n")
              .filter((block) => block.startsWith("event: snapshot\n"))
              .map((block) => JSON.parse(block.slice(block.indexOf("data: ") + 6))),
          close: () => req?.destroy(),
        });
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** inotify watches the process holds (Linux /proc): what fs.watch costs it right now. */
export function inotifyWatches(pid: number): number {
  let count = 0;
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    let info: string;
    try {
      info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8");
    } catch {
      // The descriptor closed between listing and reading.
      continue;
    }
    count += info.split("\n").filter((l) => l.startsWith("inotify wd:")).length;
  }
  return count;
}
