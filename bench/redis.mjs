// The Redis column of bench/run.mjs: a redis-server started here on 127.0.0.1 (a free port, its
// own folder, append-only file on with the default fsync every second), then the store driven
// by bench/fixtures/redis-worker.ts: send throughput (1 and 4 writers, every send awaited, so
// acknowledged), the consume round trip, append → wake notification on a subscribed connection,
// and append → wake through a real `spawner run` on the store (bench/wake.mjs daemonWakes); last,
// one writer again with `appendfsync always`, the setting README "Across machines" recommends
// (an fsync before each answer).
import { spawn, spawnSync } from "node:child_process";
import { createServer, createConnection } from "node:net";
import { join } from "node:path";
import { REPO, envFor, percentile, scratch } from "./lib.mjs";
import { daemonWakes } from "./wake.mjs";

const WORKER = join(REPO, "dist/bench/redis-worker.mjs");
export const REDIS_SERVER = "/usr/bin/redis-server";

export function hasRedis() {
  return spawnSync(REDIS_SERVER, ["--version"]).status === 0;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** One command on a fresh connection; its first reply chunk as text, "" when the server is away. */
function command(port, ...args) {
  return new Promise((resolve) => {
    const c = createConnection({ host: "127.0.0.1", port });
    c.on("data", (d) => {
      c.end();
      resolve(d.toString());
    });
    c.on("error", () => resolve(""));
    c.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`);
  });
}

function worker(args) {
  return new Promise((resolve, reject) => {
    // The inbox holds every message of the run unread: above the default cap of 10,000.
    const env = envFor("inherited", { BRIDGE_REDIS_MAX_UNREAD: "1000000" });
    const child = spawn(process.execPath, [WORKER, ...args], { stdio: ["ignore", "pipe", "inherit"], env });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`redis worker ${args[0]} exited ${code}`))));
  });
}

/** Every figure of the Redis column, with redis-server stopped (by its pid) at the end. */
export async function redisFigures() {
  const dir = scratch("redis");
  const port = await freePort();
  const server = spawn(
    REDIS_SERVER,
    ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "yes", "--maxmemory-policy", "noeviction"],
    { stdio: "ignore" },
  );
  try {
    const deadline = Date.now() + 20_000;
    while (!(await command(port, "PING")).startsWith("+PONG")) {
      if (Date.now() > deadline) throw new Error("redis-server did not start");
      await new Promise((r) => setTimeout(r, 50));
    }
    const url = `redis://127.0.0.1:${port}`;
    const version = /v=([\d.]+)/.exec(spawnSync(REDIS_SERVER, ["--version"], { encoding: "utf8" }).stdout)?.[1] ?? "?";
    const one = await worker(["send", url, "w1", "20000"]);
    const started = performance.now();
    const four = await Promise.all([1, 2, 3, 4].map((n) => worker(["send", url, `w${n}x`, "10000"])));
    const wallMs = performance.now() - started;
    const rtt = (await worker(["rtt", url, "500"])).samples;
    const wake = (await worker(["wake", url, "500"])).samples;
    // Through a real `spawner run` on this store (the spawn driver, a `claude` that exits at once).
    const daemon = await daemonWakes("spawn", 50, 5, { url, send: () => worker(["sendone", url, "shop"]) });
    const set = await command(port, "CONFIG", "SET", "appendfsync", "always");
    if (!set.startsWith("+OK")) throw new Error(`redis-server refused CONFIG SET appendfsync always: ${JSON.stringify(set)}`);
    const always = await worker(["send", url, "w1a", "10000"]);
    return {
      version,
      one: { perSecond: (one.sent / one.ms) * 1000, sent: one.sent },
      always: { perSecond: (always.sent / always.ms) * 1000, sent: always.sent },
      four: { perSecond: (four.reduce((n, r) => n + r.sent, 0) / wallMs) * 1000, sent: four.reduce((n, r) => n + r.sent, 0) },
      rtt: { p50: percentile(rtt, 50), p95: percentile(rtt, 95), n: rtt.length },
      wake: { p50: percentile(wake, 50), p95: percentile(wake, 95), n: wake.length },
      daemon,
    };
  } finally {
    server.kill("SIGKILL");
  }
}
