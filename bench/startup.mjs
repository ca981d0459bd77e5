#!/usr/bin/env node
// Startup times, measured interleaved against `node -e 0` so machine noise hits every case alike.
//   node bench/startup.mjs                 built artifacts (run `npm run build:sea` first for the SEA rows)
//   node bench/startup.mjs --variants      also the MCP startup experiments (bench/mcp-variants.mjs builds them)
//   node bench/startup.mjs --runs 30 --only node,mcp   more rounds; only cases whose name contains a word
//   node bench/startup.mjs --json          machine-readable results on stdout
//
// "exit" cases time spawn → exit. "mcp" cases time spawn → the tools/list answer: initialize,
// notifications/initialized and tools/list are written at once, as Claude Code does, and the clock
// stops at the line answering id 2. Each round runs every case once, in a rotated order.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const args = process.argv.slice(2);
const valueOf = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const runs = Number(valueOf("--runs", "15"));
const only = valueOf("--only", "")?.split(",").filter(Boolean) ?? [];
const asJson = args.includes("--json");
const withVariants = args.includes("--variants");

const MJS = join(root, "dist/session-bridge.mjs");
const CJS = join(root, "dist/session-bridge.cjs");
const SEA = join(root, "dist/session-bridge");
// Code-cache cases share one folder made fresh per bench run; the warm-up rounds fill it.
const CACHE = mkdtempSync(join(tmpdir(), "session-bridge-bench-cache-"));
process.on("exit", () => rmSync(CACHE, { recursive: true, force: true }));
const MCP_REQUESTS =
  [
    { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench", version: "0" } } },
    { jsonrpc: "2.0", method: "notifications/initialized" },
    { jsonrpc: "2.0", id: 2, method: "tools/list" },
  ]
    .map((m) => JSON.stringify(m))
    .join("\n") + "\n";

/** @typedef {{ name: string, cmd: string, args: string[], until: "exit" | "mcp", budget?: number, env?: Record<string,string>, before?: () => void, note?: string }} Case */

/** @type {Case[]} */
const cases = [
  { name: "node -e 0", cmd: process.execPath, args: ["-e", "0"], until: "exit" },
  { name: "mjs --version", cmd: process.execPath, args: [MJS, "--version"], until: "exit", budget: 1.1 },
  { name: "cjs --version", cmd: process.execPath, args: [CJS, "--version"], until: "exit", note: "the SEA input, run by node" },
  { name: "sea --version", cmd: SEA, args: ["--version"], until: "exit", budget: 1.1 },
  { name: "mjs mcp probe", cmd: process.execPath, args: [MJS, "__mcp-probe"], until: "mcp", budget: 1.6, note: "no code cache (a first run)" },
  { name: "mjs mcp probe, code cache", cmd: process.execPath, args: [MJS, "__mcp-probe", "--code-cache", CACHE], until: "mcp", budget: 1.6, note: "warm V8 code cache of the SDK in a folder" },
  { name: "sea mcp probe", cmd: SEA, args: ["__mcp-probe"], until: "mcp", budget: 1.35, note: "code cache embedded at build time" },
];

if (withVariants) {
  const manifest = join(root, "dist/bench/variants.json");
  if (!existsSync(manifest)) fail("dist/bench/variants.json is missing; run `node bench/mcp-variants.mjs` first");
  for (const v of JSON.parse(readFileSync(manifest, "utf8"))) {
    /** @type {Case} */
    const c = {
      name: v.name,
      cmd: v.sea ? v.file : process.execPath,
      args: v.sea ? v.args : [v.file, ...v.args],
      until: v.until ?? "mcp",
      budget: v.budget ?? (v.sea ? 1.35 : 1.6),
      note: v.note,
    };
    // A cold code-cache case deletes the cache before every run, so each run pays for producing it.
    if (v.coldCacheDir) c.before = () => rmSync(v.coldCacheDir, { recursive: true, force: true });
    cases.push(c);
  }
}

function fail(message) {
  process.stderr.write(`startup: ${message}\n`);
  process.exit(1);
}

/** One timed run of a case, in milliseconds. */
function measure(c) {
  c.before?.();
  return new Promise((resolvePromise, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(c.cmd, c.args, { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, ...c.env } });
    let elapsed;
    let out = "";
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.stdout.on("data", (d) => {
      out += d;
      if (c.until === "mcp" && elapsed === undefined && /"id":2[,}]/.test(out)) {
        elapsed = Number(process.hrtime.bigint() - started) / 1e6;
        // The answer must be the real list, not an error that happens to carry id 2.
        const line = out.split("\n").find((l) => /"id":2[,}]/.test(l));
        const tools = JSON.parse(line).result?.tools;
        if (!Array.isArray(tools) || tools.length === 0) reject(new Error(`${c.name}: tools/list answered ${line}`));
        child.stdin.end();
      }
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (c.until === "exit") elapsed = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) return reject(new Error(`${c.name}: exited ${code ?? signal}\n${err}`));
      if (elapsed === undefined) return reject(new Error(`${c.name}: exited without answering tools/list\n${out}\n${err}`));
      resolvePromise(elapsed);
    });
    if (c.until === "mcp") child.stdin.write(MCP_REQUESTS);
    else child.stdin.end();
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const selected = cases.filter((c) => {
  if (c.cmd === SEA && !existsSync(SEA)) {
    process.stderr.write(`startup: skipping "${c.name}": ${SEA} is missing (npm run build:sea)\n`);
    return false;
  }
  return c.name === "node -e 0" || only.length === 0 || only.some((w) => c.name.includes(w));
});
if (!existsSync(MJS)) fail(`${MJS} is missing; run \`node build.mjs\` first`);

const WARMUP = 2;
const times = new Map(selected.map((c) => [c, []]));
for (let round = 0; round < runs + WARMUP; round++) {
  for (let i = 0; i < selected.length; i++) {
    const c = selected[(i + round) % selected.length];
    const t = await measure(c);
    if (round >= WARMUP) times.get(c).push(t);
  }
  if (!asJson) process.stderr.write(`\rround ${round + 1}/${runs + WARMUP}`);
}
if (!asJson) process.stderr.write("\n");

const baseTimes = times.get(selected[0]);
const base = median(baseTimes);
const rows = selected.map((c) => {
  const t = times.get(c);
  const med = median(t);
  // Also each run against the `node -e 0` of its own round: a burst of load from elsewhere that
  // slows one round then cancels out instead of landing on whichever case ran during it.
  const paired = median(t.map((x, round) => x / baseTimes[round]));
  return {
    name: c.name,
    median_ms: +med.toFixed(1),
    min_ms: +Math.min(...t).toFixed(1),
    ratio: +(med / base).toFixed(2),
    paired_ratio: +paired.toFixed(2),
    budget: c.budget ?? null,
    note: c.note ?? "",
  };
});

if (asJson) {
  process.stdout.write(JSON.stringify({ node: process.version, runs, rows }, null, 2) + "\n");
} else {
  const w = Math.max(...rows.map((r) => r.name.length));
  console.log(`${"case".padEnd(w)}  median    min   ratio  paired  budget   (${runs} interleaved runs, ${process.version})`);
  for (const r of rows) {
    const verdict = r.budget === null ? "" : r.ratio <= r.budget ? `≤ ${r.budget} ok` : `> ${r.budget} OVER`;
    console.log(
      `${r.name.padEnd(w)}  ${r.median_ms.toFixed(1).padStart(6)} ${r.min_ms.toFixed(1).padStart(6)}  ` +
        `${r.ratio.toFixed(2).padStart(5)}×  ${r.paired_ratio.toFixed(2).padStart(5)}×  ${verdict.padEnd(10)} ${r.note}`,
    );
  }
  console.log("ratio = median / median of node -e 0; paired = median of each run / the node -e 0 of its round");
}
