// Inbox append → wake driver invoked, for bench/run.mjs (budget: p50 ≤ 50 ms, p95 ≤ 250 ms).
//
// Daemon drivers (spawn, tmux) go through the real `spawner run`: the clock starts right after the
// message line is appended to the role's inbox (in this process) and stops at the daemon's "wake"
// log entry, written just before it calls the driver: the time to notice the append, re-read the
// settings, read the batch, check the target (tmux: one display-message), and decide and record
// the wake under the role's lock. One wake at a time: the next message is appended once the
// previous wake was delivered (run ended / nudge submitted).
//
// The rewake driver is `hook wait` itself: append → the hook exits 2 (which wakes the session).
import { spawn, spawnSync } from "node:child_process";
import {
  appendFileSync,
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { BIN, REPO, envFor, percentile, runner, scratch, until } from "./lib.mjs";

const summary = (samples) => ({ n: samples.length, p50: percentile(samples, 50), p95: percentile(samples, 95), max: Math.max(...samples) });

/** The daemon's log entries so far (none before it writes its first). */
function logEntries(logPath) {
  return existsSync(logPath)
    ? readFileSync(logPath, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : [];
}

/** The message line a wake case appends straight to backend's inbox (web → backend, hop 0). */
function benchMessage(id, i, chain) {
  return { id, ts: new Date().toISOString(), project: "shop", from: "web", to: "backend", body: `bench ${i}`, chain, hop: 0 };
}

export function hasTmux() {
  return spawnSync("tmux", ["-V"], { encoding: "utf8" }).status === 0;
}

/**
 * Wake latency through `spawner run` with the spawn or tmux driver; with `redis` (spawn only), the
 * daemon runs on that store and each message is sent by `redis.send()` (→ {id, t}: acknowledged at
 * epoch ms t), the clock starting at the acknowledgement instead of the append.
 */
export async function daemonWakes(driver, wakes, warmup = 5, redis) {
  const dir = scratch(`wake-${driver}`);
  const root = join(dir, "root");
  const bin = join(dir, "bin");
  mkdirSync(bin);
  mkdirSync(join(dir, "work"));
  const socket = join(dir, "tmux.sock");
  const env = envFor("inherited", {
    BRIDGE_ROOT: root,
    PATH: `${bin}:${process.env.PATH}`,
    BRIDGE_SPAWNER_RESCAN_MS: "60000",
    ...(redis && { BRIDGE_URL: redis.url }),
  });
  const cli = (...args) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { env, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`session-bridge ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  let daemon;
  try {
    cli("spawner", "on");
    cli("spawner", "config", "cooldownSeconds=0", "rateLimitPerMinute=600", `driver=${driver}`);
    // --force: the role joins only when its session starts, below.
    cli("spawner", "set", "shop", "backend", `cwd=${join(dir, "work")}`, "--force");
    const nudge = JSON.parse(cli("spawner", "config", "--json")).settings.nudgePrompt;
    if (driver === "spawn") {
      // The cheapest possible `claude`: the bench measures the daemon, not the run.
      writeFileSync(join(bin, "claude"), "#!/bin/sh\nexec cat >/dev/null\n");
      chmodSync(join(bin, "claude"), 0o755);
    } else {
      symlinkSync(join(REPO, "test/fixtures/fake-claude-tui.mjs"), join(bin, "claude"));
      const vars = {
        BRIDGE_ROOT: root,
        BRIDGE_PROJECT: "shop",
        BRIDGE_ROLE: "backend",
        FIXTURE_BIN: BIN,
        FIXTURE_LOG: join(dir, "tui.jsonl"),
        FIXTURE_NUDGE: nudge,
        PATH: env.PATH,
      };
      const e = Object.entries(vars).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
      const r = spawnSync(
        "tmux",
        ["-S", socket, "-f", "/dev/null", "new-session", "-d", "-x", "200", "-y", "50", ...e, "--", join(bin, "claude")],
        { env, encoding: "utf8" },
      );
      if (r.status !== 0) throw new Error(`tmux: ${r.stderr}`);
      await until("the fake session to register", () => existsSync(join(dir, "tui.jsonl")));
    }
    const logPath = join(root, "spawner", "log.jsonl");
    const entries = () => logEntries(logPath);
    daemon = spawn(process.execPath, [BIN, "spawner", "run", ...(redis ? ["--project", "shop"] : [])], { env, stdio: "ignore" });
    await until("the daemon to start", () => entries().some((e) => e.event === "start"));
    const inbox = join(root, "projects", "shop", "backend", "inbox.jsonl");
    mkdirSync(join(root, "projects", "shop", "backend"), { recursive: true, mode: 0o700 });
    const tui = join(dir, "tui.jsonl");
    // Delivered: the run ended; or the fake TUI took the mail with the nudged prompt (appending the
    // next message before that would let it take both, and the second would never need a wake).
    const delivered = (id, runsBefore) =>
      driver === "spawn"
        ? entries().filter((e) => e.event === "run-end").length > runsBefore
        : readFileSync(tui, "utf8")
            .split("\n")
            .some((l) => l.includes('"event":"wake"') && l.includes(id));
    const samples = [];
    for (let i = 0; i < wakes + warmup; i++) {
      const runsBefore = entries().filter((e) => e.event === "run-end").length;
      let id = `mbench${i}${randomBytes(4).toString("hex")}`;
      let t0;
      if (redis) ({ id, t: t0 } = await redis.send());
      else {
        appendFileSync(inbox, JSON.stringify(benchMessage(id, i, `cbench${i}`)) + "\n", { mode: 0o600 });
        t0 = performance.timeOrigin + performance.now();
      }
      const wake = await until(`wake ${i}`, () => entries().find((e) => e.event === "wake" && e.ids?.includes(id)));
      if (i >= warmup) samples.push(wake.t - t0);
      await until(`wake ${i} to be delivered`, () => delivered(id, runsBefore));
    }
    return summary(samples);
  } finally {
    daemon?.kill("SIGTERM");
    if (driver === "tmux") spawnSync("tmux", ["-S", socket, "kill-server"]);
  }
}

/** Wake latency of the rewake driver: a complete line appended to the inbox → `hook wait` exited 2. */
export async function rewakes(artifact, wakes) {
  const root = scratch("rewake");
  const dir = join(root, "projects", "bench", "woken");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Rails wide open: every append may wake at once.
  writeFileSync(
    join(root, "bridge-settings.json"),
    JSON.stringify({ enabled: true, defaultMode: "auto", cooldownSeconds: 0, rateLimitPerMinute: 600 }),
    { mode: 0o600 },
  );
  const env = envFor("inherited", {
    BRIDGE_ROOT: root,
    BRIDGE_PROJECT: "bench",
    BRIDGE_ROLE: "woken",
    CLAUDECODE: "1",
    CLAUDE_PID: String(process.pid),
    CLAUDE_CODE_ENTRYPOINT: "cli",
    CLAUDE_CODE_SESSION_ATTENDED: "1",
  });
  const samples = [];
  const [cmd, ...prefix] = runner(artifact);
  for (let i = 0; i < wakes; i++) {
    const child = spawn(cmd, [...prefix, "hook", "wait"], { stdio: ["ignore", "ignore", "pipe"], env });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    const exited = new Promise((done) => child.on("close", (code) => done({ code, at: process.hrtime.bigint() })));
    // Ready once its waiter.json names it (it then watches the inbox).
    await until(`hook wait ${i} to wait`, () => {
      if (child.exitCode !== null) throw new Error(`hook wait exited early (${child.exitCode}): ${err}`);
      try {
        return JSON.parse(readFileSync(join(dir, "waiter.json"), "utf8")).pid === child.pid;
      } catch {
        return false; // not written yet, or mid-replace
      }
    });
    const line =
      JSON.stringify({
        id: `mwake${i}${randomBytes(4).toString("hex")}`,
        ts: new Date().toISOString(),
        project: "bench",
        from: "backend",
        to: "woken",
        body: `wake ${i}`,
        chain: `cw${i}`,
        hop: 0,
      }) + "\n";
    const fd = openSync(join(dir, "inbox.jsonl"), "a", 0o600);
    const sent = process.hrtime.bigint();
    writeSync(fd, line);
    closeSync(fd);
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    const { code, at } = await exited;
    clearTimeout(timer);
    if (code !== 2) throw new Error(`hook wait exited ${code}, not 2 (woken within 10 s?): ${err}`);
    samples.push(Number(at - sent) / 1e6);
  }
  return summary(samples);
}

/**
 * Wake latency of the socket driver through the real `spawner run`: the clock starts right after
 * the message line is appended and stops when the nudge line arrives on the role's messaging
 * socket. The "session" is this process: a Unix socket listener standing in for Claude Code's,
 * recorded in a session record as our hooks record it; on each nudge it reads its mail with
 * `session-bridge recv` (what `hook recv` does in the woken turn), so the daemon sees it taken.
 */
export async function socketWakes(wakes, warmup = 5) {
  const { createServer } = await import("node:net");
  const dir = scratch("wake-socket");
  const root = join(dir, "root");
  const env = envFor("inherited", { BRIDGE_ROOT: root, BRIDGE_SPAWNER_RESCAN_MS: "60000" });
  const cli = (args, extra = {}) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { env: { ...env, ...extra }, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`session-bridge ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const roleDir = join(root, "projects", "shop", "backend");
  mkdirSync(join(roleDir, "sessions"), { recursive: true, mode: 0o700 });
  const socketPath = join(dir, "s.sock");
  let arrived;
  const server = createServer((c) => {
    c.on("data", () => arrived?.(performance.timeOrigin + performance.now()));
    c.on("error", () => {});
  });
  await new Promise((resolve) => server.listen(socketPath, resolve));
  // The start time where /proc has it; without it the record is judged by kill(0), as the fixtures' are.
  let pidStart;
  try {
    const stat = readFileSync("/proc/self/stat", "latin1");
    pidStart = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
  } catch {
    pidStart = undefined;
  }
  const now = new Date().toISOString();
  writeFileSync(
    join(roleDir, "sessions", `${process.pid}.json`),
    JSON.stringify({
      pid: process.pid,
      pidStart,
      host: (await import("node:os")).hostname(),
      attended: true,
      entrypoint: "cli",
      messagingSocket: socketPath,
      startedAt: now,
      lastSeen: now,
    }) + "\n",
    { mode: 0o600 },
  );
  let daemon;
  try {
    cli(["spawner", "on"]);
    cli(["spawner", "config", "cooldownSeconds=0", "rateLimitPerMinute=600", "driver=socket"]);
    const logPath = join(root, "spawner", "log.jsonl");
    const entries = () => logEntries(logPath);
    daemon = spawn(process.execPath, [BIN, "spawner", "run"], { env, stdio: "ignore" });
    await until("the daemon to start", () => entries().some((e) => e.event === "start"));
    const inbox = join(roleDir, "inbox.jsonl");
    const samples = [];
    for (let i = 0; i < wakes + warmup; i++) {
      const id = `mbench${i}${randomBytes(4).toString("hex")}`;
      const message = benchMessage(id, i, `cs${i}`);
      const got = new Promise((resolve) => (arrived = resolve));
      const nudgedBefore = entries().filter((e) => e.event === "nudged").length;
      appendFileSync(inbox, JSON.stringify(message) + "\n", { mode: 0o600 });
      const t0 = performance.timeOrigin + performance.now();
      const at = await Promise.race([
        got,
        new Promise((_, reject) => setTimeout(() => reject(new Error(`no nudge on the socket for wake ${i}`)), 10_000)),
      ]);
      if (i >= warmup) samples.push(at - t0);
      await new Promise((resolve, reject) => {
        const r = spawn(process.execPath, [BIN, "recv", "--json"], {
          env: { ...env, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "backend" },
          stdio: "ignore",
        });
        r.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`recv exited ${code}`))));
      });
      await until(`wake ${i} to be confirmed`, () => entries().filter((e) => e.event === "nudged").length > nudgedBefore);
    }
    return summary(samples);
  } finally {
    daemon?.kill("SIGTERM");
    server.close();
  }
}
