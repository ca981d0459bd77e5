// Timing helpers for `npm run bench` (bench/run.mjs). Every startup figure is a ratio to a
// `node -e 0` run right beside it (besideBaseline), so machine noise hits a case and its baseline alike.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, release, tmpdir, totalmem } from "node:os";
import { extname, join } from "node:path";

export const REPO = new URL("..", import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));
/** The single-file entry package.json's `bin` names: what `install` points at when run with node. */
export const BIN = join(REPO, pkg.bin["session-bridge"]);
/** The single executable: what `install` points at when run from it. */
export const SEA = join(REPO, "dist/session-bridge");

/** How the tables name an artifact: ".cjs", ".mjs" (node + the file), "launcher" or "SEA". */
export function labelOf(artifact) {
  return artifact === SEA ? "SEA" : extname(artifact) || "launcher";
}

const scratches = [];
process.on("exit", () => {
  if (!process.env.BENCH_KEEP) for (const dir of scratches) rmSync(dir, { recursive: true, force: true });
});

/** A temp folder removed when the bench exits. */
export function scratch(name) {
  const dir = mkdtempSync(join(tmpdir(), `sb-bench-${name}-`));
  scratches.push(dir);
  return dir;
}

/**
 * The environment a child gets. "clean" (the judged one): only PATH and HOME, as a user's shell
 * hands Claude Code and Claude Code its hooks. "inherited": this shell's, minus anything of a
 * bridge or Claude session the bench runs in; on the machines this was built on it sets
 * NODE_EXTRA_CA_CERTS, which makes every node start ~2.5× slower and so flatters every ratio.
 * Either way `extra` (what the case needs: Claude Code's hook variables, BRIDGE_*) is added last.
 */
export function envFor(mode, extra = {}) {
  const env = {};
  if (mode === "clean") Object.assign(env, { PATH: process.env.PATH, HOME: process.env.HOME });
  else for (const [k, v] of Object.entries(process.env)) if (!/^(BRIDGE_|CLAUDE)/.test(k) && k !== "TMUX" && k !== "TMUX_PANE") env[k] = v;
  return { ...env, ...extra };
}

/** argv that runs an artifact: node + script, or the executable itself. */
export function runner(artifact) {
  return /\.[cm]?js$/.test(artifact) ? [process.execPath, artifact] : [artifact];
}

const RUN_TIMEOUT_MS = 30_000;

/**
 * One timed run: spawn → exit, or with `until(out)` spawn → the first stdout for which it is true
 * (then stdin is closed and the exit awaited). `check(out)` must hold or the bench fails: a figure
 * for a run that did the wrong thing is worthless.
 */
export function timeRun(c) {
  c.before?.();
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(c.argv[0], c.argv.slice(1), { env: c.env, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let elapsed;
    child.stdout.on("data", (d) => {
      out += d;
      if (c.until && elapsed === undefined && c.until(out)) {
        elapsed = Number(process.hrtime.bigint() - started) / 1e6;
        child.stdin.end();
      }
    });
    child.stderr.on("data", (d) => (err += d));
    // A run that hangs (under --realtime it would also hold a CPU) fails the bench instead.
    const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_MS);
    // A hook that exits without reading its input closes the pipe first: expected.
    child.stdin.on("error", () => {});
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (signal === "SIGKILL") return reject(new Error(`${c.name}: still running after ${RUN_TIMEOUT_MS / 1000} s, killed\n${err}`));
      if (!c.until) elapsed = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== (c.exitCode ?? 0)) return reject(new Error(`${c.name}: exited ${code}\n${err}`));
      if (elapsed === undefined) return reject(new Error(`${c.name}: never produced the expected output\n${out}\n${err}`));
      if (c.check && !c.check(out)) return reject(new Error(`${c.name}: unexpected output ${JSON.stringify(out.slice(0, 400))}\n${err}`));
      resolve(elapsed);
    });
    if (c.until) child.stdin.write(c.input ?? "");
    else child.stdin.end(c.input ?? "");
  });
}

/**
 * Runs each case `rounds` times (after `warmup` untimed rounds), each run beside one of
 * `baseline`: in every round the cases go in a new random order, and a coin toss puts each one's
 * baseline run right before or right after it. A case is then compared with the baseline run
 * beside it, and every case, the baseline included, follows the same mix of runs. On these VMs a
 * process is slower right after certain others (a node start after a few short `sh` runs), and
 * the fixed rotation this replaces put that cost on whichever case came next: the guard's `allow`
 * read 1.15-1.21x and `deny` 1.06-1.13x in stops 19 and 20 where, side by side, they read 1.16x
 * and 1.17x (BENCHMARKS.md "What is missed, and why"). Returns, per case name, its runs in ms and
 * the baseline run beside each, and every baseline run.
 */
export async function besideBaseline(baseline, cases, rounds, { warmup = 2, progress } = {}) {
  const runs = new Map(cases.map((c) => [c.name, { ms: [], base: [] }]));
  const baselineRuns = [];
  for (let round = -warmup; round < rounds; round++) {
    for (const c of shuffled(cases)) {
      const baselineFirst = Math.random() < 0.5;
      const first = await timeRun(baselineFirst ? baseline : c);
      const second = await timeRun(baselineFirst ? c : baseline);
      if (round < 0) continue;
      const [base, ms] = baselineFirst ? [first, second] : [second, first];
      runs.get(c.name).ms.push(ms);
      runs.get(c.name).base.push(base);
      baselineRuns.push(base);
    }
    progress?.(round + warmup + 1, rounds + warmup);
  }
  return { runs, baselineRuns };
}

/** A copy in a random order (Fisher-Yates). */
function shuffled(items) {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export function median(values) {
  return percentile(values, 50);
}

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

/** Peak and current resident memory of a live process, from /proc (Linux), in MiB. */
export function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key) => Number(status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, "m"))?.[1]);
  return { peakMiB: kb("VmHWM") / 1024, rssMiB: kb("VmRSS") / 1024 };
}

export function machine() {
  const cpu = cpus();
  let os = `${process.platform} ${release()}`;
  if (existsSync("/etc/os-release"))
    os = (readFileSync("/etc/os-release", "utf8").match(/^PRETTY_NAME="?([^"\n]*)/m)?.[1] ?? "Linux") + `, kernel ${release()}`;
  return { cpus: cpu.length, cpu: cpu[0]?.model.trim() ?? "?", memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, os };
}

/** Polls `check` every few ms until it returns something truthy; fails after the deadline. */
export async function until(what, check, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export const NODE_BASELINE = "node -e 0";

/**
 * Puts this process (every thread) and so every child it starts from now on under SCHED_FIFO, or
 * back under the normal policy. On a machine other jobs keep busy, a child otherwise waits for a
 * CPU at random points of its start (node -e 0 took 270 ms instead of 19 ms at a load of 12 on 2
 * CPUs); under SCHED_FIFO it runs when ready, as on an idle machine. Needs root (or CAP_SYS_NICE)
 * and chrt (util-linux); the kernel still keeps 5% of each second for other work
 * (sched_rt_runtime_us). Returns whether the policy was set.
 */
export function realtime(on) {
  const r = spawnSync("chrt", on ? ["-a", "-f", "-p", "10", String(process.pid)] : ["-a", "-o", "-p", "0", String(process.pid)], {
    encoding: "utf8",
  });
  return r.status === 0;
}

/**
 * The hook commands `install` wrote beside a launcher installedLauncher made, by hook name: what
 * Claude Code runs, as `sh -c "<command>"` (docs/claude-code.md "Process").
 */
export function installedHookCommands(launcher) {
  const home = launcher.slice(0, -join(".local", "share", "session-bridge", "bin", "session-bridge").length);
  const settings = JSON.parse(readFileSync(join(home, "claude", "settings.json"), "utf8"));
  const commands = {};
  for (const groups of Object.values(settings.hooks))
    for (const group of groups)
      for (const hook of group.hooks) {
        const name = / hook (\w+)$/.exec(hook.command)?.[1];
        if (name) commands[name] = hook.command;
      }
  return commands;
}

/**
 * What `install` run with node really points Claude Code at: the sh launcher it writes beside its
 * stable copy of the script (src/install/home.ts). Made by a real install into a scratch HOME.
 */
export function installedLauncher() {
  const home = scratch("launcher");
  const env = { PATH: process.env.PATH, HOME: home };
  const r = spawnSync(process.execPath, [BIN, "install", "--config-dir", join(home, "claude")], { env, encoding: "utf8" });
  const launcher = join(home, ".local", "share", "session-bridge", "bin", "session-bridge");
  if (r.status !== 0 || !existsSync(launcher)) throw new Error(`bench: install wrote no launcher (exit ${r.status}): ${r.stderr}`);
  return launcher;
}
