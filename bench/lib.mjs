// Timing helpers for `npm run bench`. Every startup figure is a ratio to `node -e 0` measured
// in the same run, interleaved round by round, so machine noise hits both sides alike.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const REPO = new URL("..", import.meta.url).pathname;
export const BIN = join(REPO, "dist/session-bridge.mjs");
export const SEA = join(REPO, "dist/session-bridge");

export function scratch(name) {
  return mkdtempSync(join(tmpdir(), `sb-bench-${name}-`));
}

/** The environment a bench process gets: nothing of the developer's own bridge or Claude session. */
export function benchEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("BRIDGE_") && !k.startsWith("CLAUDE") && k !== "TMUX" && k !== "TMUX_PANE") env[k] = v;
  }
  return { ...env, ...extra };
}

export function timeOnce({ cmd, args, env, input }) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, input: input ?? "", stdio: ["pipe", "ignore", "pipe"] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0 && r.status !== 2) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return ms;
}

/**
 * Runs every case once per round, in order, for `rounds` rounds (after one warm-up round);
 * `before` (untimed) prepares a case's state before each of its runs. Returns ms samples per case.
 */
export function interleaved(cases, rounds) {
  const samples = Object.fromEntries(cases.map((c) => [c.name, []]));
  for (let round = -1; round < rounds; round++) {
    for (const c of cases) {
      c.before?.();
      const ms = c.time ? c.time() : timeOnce(c);
      if (round >= 0) samples[c.name].push(ms);
    }
  }
  return samples;
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

export const NODE_BASELINE = { name: "node -e 0", cmd: process.execPath, args: ["-e", "0"] };
