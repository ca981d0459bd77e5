#!/usr/bin/env node
// Hook latency, spawn → exit, measured interleaved against `node -e 0` so machine noise hits
// every case alike (DESIGN.md "Performance budgets").
//   node bench/hooks.mjs                  dist/session-bridge.mjs (run `node build.mjs` first)
//   node bench/hooks.mjs --runs 30        more rounds (median of each case is reported)
//   node bench/hooks.mjs --bin dist/session-bridge   the single executable instead
//   node bench/hooks.mjs --json           machine-readable results on stdout
//   node bench/hooks.mjs --clean-env      children get only what Claude Code gives a hook, not this
//                                         shell's environment (NODE_EXTRA_CA_CERTS alone adds ~30 ms
//                                         to every node start, which flatters every ratio)
//
// The recv cases use an inbox of 100,000 already-read messages kept in the live file (compaction
// off), the worst case for "flat in history": the cursor is a byte offset, so none of it is read.
// Before each "100 unread" run the cursor is moved back to the start of the last 100 messages.
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const args = process.argv.slice(2);
const valueOf = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const runs = Number(valueOf("--runs", "15"));
const asJson = args.includes("--json");
const cleanEnv = args.includes("--clean-env");
const bin = resolve(valueOf("--bin", join(root, "dist/session-bridge.mjs")));
const isScript = bin.endsWith(".mjs") || bin.endsWith(".cjs") || bin.endsWith(".js");
if (!existsSync(bin)) fail(`${bin} is missing; run \`node build.mjs\` first`);

const bridgeRoot = mkdtempSync(join(tmpdir(), "session-bridge-bench-hooks-"));
process.on("exit", () => rmSync(bridgeRoot, { recursive: true, force: true }));

const PROJECT = "bench";
const OLD = 100_000;
const UNREAD = 100;
const roleDir = (role) => join(bridgeRoot, "projects", PROJECT, role);

function message(i, to) {
  return JSON.stringify({
    id: `mbench${String(i).padStart(8, "0")}`,
    ts: new Date(1_700_000_000_000 + i * 1000).toISOString(),
    project: PROJECT,
    from: "backend",
    to,
    body: `result ${i}: the users table was migrated, 42 rows changed, tests green`,
    chain: "cbench",
    hop: 0,
  }) + "\n";
}

/** An inbox of OLD read messages (+ `unread` unread ones); returns the byte offset where the unread begin. */
function seedRole(role, unread) {
  mkdirSync(join(roleDir(role), "sessions"), { recursive: true, mode: 0o700 });
  const inbox = join(roleDir(role), "inbox.jsonl");
  const fd = openSync(inbox, "w", 0o600);
  let chunk = "";
  for (let i = 0; i < OLD; i++) {
    chunk += message(i, role);
    if (chunk.length > 1 << 20) {
      writeSync(fd, chunk);
      chunk = "";
    }
  }
  writeSync(fd, chunk);
  const readTo = statSync(inbox).size;
  let tail = "";
  for (let i = 0; i < unread; i++) tail += message(OLD + i, role);
  writeSync(fd, tail);
  closeSync(fd);
  return { inbox, readTo };
}

function setCursor(role, seeded) {
  writeFileSync(join(roleDir(role), "cursor.json"), JSON.stringify({ ino: statSync(seeded.inbox).ino, offset: seeded.readTo }), { mode: 0o600 });
}

mkdirSync(join(bridgeRoot, "projects", PROJECT), { recursive: true, mode: 0o700 });
// Compaction off, so the 100,000 read messages stay in the live inbox file (the worst case).
writeFileSync(join(bridgeRoot, "spawner.config.json"), JSON.stringify({ compactBytes: 1024 * 1024 * 1024 }), { mode: 0o600 });
const idle = seedRole("idle", 0);
setCursor("idle", idle);
const busy = seedRole("busy", UNREAD);
mkdirSync(roleDir("backend"), { recursive: true, mode: 0o700 });
const fresh = seedRole("fresh", 0); // no history at all, for comparison
void fresh;
rmSync(join(roleDir("fresh"), "inbox.jsonl"));

const common = {
  session_id: "0d9a7c1e-5b2f-4f7e-9a61-2c3d4e5f6a7b",
  transcript_path: "/tmp/t.jsonl",
  cwd: bridgeRoot,
  permission_mode: "default",
};
const prompt = { ...common, hook_event_name: "UserPromptSubmit", prompt: "what is the status?" };
const bash = (command) => ({ ...common, hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: { command }, tool_use_id: "toolu_1" });
const stop = { ...common, hook_event_name: "Stop", stop_hook_active: false, last_assistant_message: "done" };

// Like bench/startup.mjs, children inherit this environment unless --clean-env; the bridge and
// Claude Code variables are always set here, so an outer bridged session cannot leak in.
const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !cleanEnv && !/^(BRIDGE_|CLAUDE)/.test(k)));
const claudeEnv = {
  ...inherited,
  PATH: process.env.PATH,
  HOME: bridgeRoot,
  BRIDGE_ROOT: bridgeRoot,
  CLAUDECODE: "1",
  CLAUDE_PID: String(process.pid),
  CLAUDE_CODE_SESSION_ID: common.session_id,
  CLAUDE_CODE_ENTRYPOINT: "cli",
  CLAUDE_CODE_SESSION_ATTENDED: "1",
};
const bridged = (role) => ({ ...claudeEnv, BRIDGE_PROJECT: PROJECT, BRIDGE_ROLE: role });
const hook = (name) => (isScript ? [process.execPath, [bin, "hook", name]] : [bin, ["hook", name]]);

/** @typedef {{ name: string, cmd: string, args: string[], env: object, input?: object, budget?: number, before?: () => void, expect?: (out: string) => boolean }} Case */
/** @type {Case[]} */
const cases = [
  { name: "node -e 0", cmd: process.execPath, args: ["-e", "0"], env: claudeEnv },
  { name: "recv, not bridged", ...run(hook("recv")), env: claudeEnv, input: prompt, budget: 1.1, expect: (o) => o === "" },
  { name: "guard, not bridged", ...run(hook("guard")), env: claudeEnv, input: bash("git push"), budget: 1.1, expect: (o) => o === "" },
  { name: "send, not bridged", ...run(hook("send")), env: claudeEnv, input: stop, budget: 1.1, expect: (o) => o === "" },
  { name: "wait, not bridged", ...run(hook("wait")), env: claudeEnv, input: stop, budget: 1.1, expect: (o) => o === "" },
  { name: "guard, allow (git status && npm test)", ...run(hook("guard")), env: bridged("idle"), input: bash("git status && npm test"), budget: 1.15, expect: (o) => o === "" },
  { name: "guard, deny (sh -c 'git push')", ...run(hook("guard")), env: bridged("idle"), input: bash("sh -c 'git push'"), budget: 1.15, expect: (o) => o.includes('"deny"') },
  { name: "recv, 0 unread, no history", ...run(hook("recv")), env: bridged("fresh"), input: prompt, expect: (o) => o === "" },
  { name: `recv, 0 unread, ${OLD.toLocaleString("en-US")} old`, ...run(hook("recv")), env: bridged("idle"), input: prompt, budget: 1.25, expect: (o) => o === "" },
  {
    name: `recv, ${UNREAD} unread, ${OLD.toLocaleString("en-US")} old`,
    ...run(hook("recv")),
    env: bridged("busy"),
    input: prompt,
    budget: 1.25,
    before: () => setCursor("busy", busy),
    expect: (o) => o.includes("additionalContext"),
  },
];

function run([cmd, argv]) {
  return { cmd, args: argv };
}

function fail(text) {
  process.stderr.write(`bench/hooks: ${text}\n`);
  process.exit(1);
}

/** One timed run, in milliseconds, spawn → exit. */
function measure(c) {
  c.before?.();
  return new Promise((done, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(c.cmd, c.args, { stdio: ["pipe", "pipe", "pipe"], env: c.env });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.stdin.on("error", () => {
      // A hook that exits without reading stdin (not bridged) closes the pipe first: expected.
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) return reject(new Error(`${c.name}: exited ${code}\n${err}`));
      if (c.expect && !c.expect(out)) return reject(new Error(`${c.name}: unexpected output ${JSON.stringify(out.slice(0, 300))}\n${err}`));
      done(ms);
    });
    child.stdin.end(c.input ? JSON.stringify(c.input) + "\n" : "");
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const WARMUP = 2;
const WAKE_BUDGET = { p50: 50, p95: 250 };
const times = new Map(cases.map((c) => [c, []]));
for (let round = 0; round < runs + WARMUP; round++) {
  for (let i = 0; i < cases.length; i++) {
    const c = cases[(i + round) % cases.length];
    const t = await measure(c);
    if (round >= WARMUP) times.get(c).push(t);
  }
  if (!asJson) process.stderr.write(`\rround ${round + 1}/${runs + WARMUP}`);
}
if (!asJson) process.stderr.write("\n");

const base = median(times.get(cases[0]));
const rows = cases.map((c) => {
  const t = times.get(c);
  const med = median(t);
  return { name: c.name, median_ms: +med.toFixed(1), min_ms: +Math.min(...t).toFixed(1), ratio: +(med / base).toFixed(3), budget: c.budget ?? null };
});
const over = rows.filter((r) => r.budget !== null && r.ratio > r.budget);

// Wake latency of the rewake driver: a complete line appended to the inbox → `hook wait` exited 2.
const wake = await measureWakes(runs);
const wakeOver = wake.p50 > WAKE_BUDGET.p50 || wake.p95 > WAKE_BUDGET.p95;

if (asJson) {
  process.stdout.write(JSON.stringify({ node: process.version, bin, runs, rows, wake: { ...wake, budget: WAKE_BUDGET } }, null, 2) + "\n");
} else {
  const w = Math.max(...rows.map((r) => r.name.length));
  const dilute = ["NODE_OPTIONS", "NODE_EXTRA_CA_CERTS"].filter((k) => inherited[k] !== undefined);
  console.log(`${"case".padEnd(w)}  median    min   ratio  budget   (${runs} interleaved runs, ${process.version}, ${bin})`);
  if (dilute.length > 0) console.log(`note: children inherit ${dilute.join(", ")}, which slows every node start alike; --clean-env measures without`);
  for (const r of rows) {
    const verdict = r.budget === null ? "" : r.ratio <= r.budget ? `≤ ${r.budget} ok` : `> ${r.budget} OVER`;
    console.log(`${r.name.padEnd(w)}  ${r.median_ms.toFixed(1).padStart(6)} ${r.min_ms.toFixed(1).padStart(6)}  ${r.ratio.toFixed(2).padStart(5)}×  ${verdict}`);
  }
}
if (!asJson) {
  const verdict = wakeOver ? "OVER" : "ok";
  console.log(`wait: inbox append → exit 2   p50 ${wake.p50.toFixed(1)} ms, p95 ${wake.p95.toFixed(1)} ms  (budget p50 ≤ ${WAKE_BUDGET.p50}, p95 ≤ ${WAKE_BUDGET.p95}: ${verdict}; ${wake.n} wakes)`);
}
process.exitCode = over.length > 0 || wakeOver ? 1 : 0;

async function measureWakes(n) {
  const role = "woken";
  const dir = roleDir(role);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Rails wide open for this measurement: every append may wake at once.
  writeFileSync(
    join(bridgeRoot, "spawner.config.json"),
    JSON.stringify({ compactBytes: 1024 * 1024 * 1024, enabled: true, defaultMode: "auto", cooldownSeconds: 0, rateLimitPerMinute: 600 }),
    { mode: 0o600 },
  );
  const samples = [];
  for (let i = 0; i < n; i++) {
    const [cmd, argv] = hook("wait");
    const child = spawn(cmd, argv, { stdio: ["ignore", "ignore", "pipe"], env: bridged(role) });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    const exited = new Promise((done) => child.on("close", (code) => done({ code, at: process.hrtime.bigint() })));
    // Ready once its waiter.json names it (it then watches; mail that came earlier would wake it at once too).
    for (;;) {
      let owner;
      try {
        owner = JSON.parse(readFileSync(join(dir, "waiter.json"), "utf8")).pid;
      } catch {
        // Not written yet, or mid-replace.
      }
      if (owner === child.pid) break;
      if (child.exitCode !== null) fail(`hook wait exited early (${child.exitCode}): ${err}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const line = message(10_000_000 + i, role);
    const fd = openSync(join(dir, "inbox.jsonl"), "a", 0o600);
    const sent = process.hrtime.bigint();
    writeSync(fd, line);
    closeSync(fd);
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      fail(`hook wait did not wake within 10 s of mail arriving (wake ${i + 1}): ${err}`);
    }, 10_000);
    const { code, at } = await exited;
    clearTimeout(timer);
    if (code !== 2) fail(`hook wait exited ${code}, not 2: ${err}`);
    samples.push(Number(at - sent) / 1e6);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const pick = (q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return { n, p50: +pick(0.5).toFixed(1), p95: +pick(0.95).toFixed(1) };
}
