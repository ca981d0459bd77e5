// A real redis-server for a test: on 127.0.0.1, a free port, its own folder (append-only file on
// and fsynced before each answer, as README "Across machines" recommends: with Redis's default
// `everysec` a kill -9 can lose acknowledged writes, which REDIS_APPENDFSYNC=everysec shows; no RDB
// snapshots), stopped by its pid when the test ends, even when it failed. `kill9` and
// `restart` let fault tests crash it and bring it back on the same port and data.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";

export interface RedisServer {
  port: number;
  dir: string;
  url: string;
  /** redis-cli-free one-shot command over RESP2 (for setup: ACL, CONFIG). */
  command(...args: string[]): Promise<string>;
  kill9(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export const REDIS_SERVER = "/usr/bin/redis-server";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Sends one command and returns the raw first reply line(s) (enough for +OK, -ERR, :1, $n). */
export function rawCommand(port: number, args: string[], password?: Auth): Promise<string> {
  const encode = (a: string[]): string => `*${a.length}\r\n${a.map((x) => `$${Buffer.byteLength(x)}\r\n${x}\r\n`).join("")}`;
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let data = "";
    const expected = password ? 2 : 1;
    socket.on("data", (chunk) => {
      data += chunk.toString();
      const replies = data.split("\r\n").filter((l) => /^[+\-:$*]/.test(l));
      if (replies.length >= expected && data.endsWith("\r\n")) {
        socket.end();
        resolve(password ? data.slice(data.indexOf("\r\n") + 2) : data);
      }
    });
    socket.on("error", reject);
    socket.write((password ? encode(["AUTH", ...(typeof password === "string" ? [password] : password)]) : "") + encode(args));
  });
}

/** A password for `default`, or [user, password]. */
export type Auth = string | [string, string];

export async function startRedis(t: TestContext, extraArgs: string[] = [], adminPassword?: Auth): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), "sb-redis-"));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    "yes",
    "--appendfsync",
    process.env.REDIS_APPENDFSYNC ?? "always",
    "--daemonize",
    "no",
    "--logfile",
    join(dir, "log"),
    ...extraArgs,
  ];
  const launch = async (): Promise<void> => {
    child = spawn(REDIS_SERVER, args, { stdio: "ignore" });
    const deadline = Date.now() + 20_000;
    for (;;) {
      const reply = await rawCommand(port, ["PING"], adminPassword).catch(() => "");
      if (reply.startsWith("+PONG")) return;
      if (reply.startsWith("-LOADING") || reply === "") {
        if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING (log: ${join(dir, "log")})`);
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      throw new Error(`redis-server on port ${port} (${extraArgs.join(" ")}) answered PING with ${JSON.stringify(reply)}`);
    }
  };
  const kill = async (signal: NodeJS.Signals): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once("exit", r));
    c.kill(signal);
    await exited;
  };
  t.after(async () => {
    await kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });
  await launch();
  return {
    port,
    dir,
    url: `redis://127.0.0.1:${port}`,
    command: (...a) => rawCommand(port, a, adminPassword),
    kill9: () => kill("SIGKILL"),
    restart: async () => {
      await kill("SIGKILL");
      await launch();
    },
    stop: () => kill("SIGTERM"),
  };
}
