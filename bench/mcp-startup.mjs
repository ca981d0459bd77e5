#!/usr/bin/env node
// `session-bridge mcp` startup: spawn → the tools/list answer, against `node -e 0` (spawn → exit),
// interleaved so machine noise hits every case alike. Budget (DESIGN.md): ≤ 1.6× for the node bundle.
//   node build.mjs && node bench/mcp-startup.mjs [--runs 20] [--json]
// initialize, notifications/initialized and tools/list are written at once, as Claude Code does
// (after its server/discover probe, included here); the clock stops at the line answering id 2.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const args = process.argv.slice(2);
const runs = Number(args.includes("--runs") ? args[args.indexOf("--runs") + 1] : 20);
const asJson = args.includes("--json");
const BIN = join(root, "dist/session-bridge.mjs");
if (!existsSync(BIN)) {
  process.stderr.write(`mcp-startup: ${BIN} is missing; run \`node build.mjs\` first\n`);
  process.exit(1);
}
const bridgeRoot = mkdtempSync(join(tmpdir(), "sb-bench-mcp-"));
process.on("exit", () => rmSync(bridgeRoot, { recursive: true, force: true }));

const REQUESTS =
  [
    { jsonrpc: "2.0", id: 0, method: "server/discover", params: {} },
    { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "bench", version: "0" } } },
    { jsonrpc: "2.0", method: "notifications/initialized" },
    { jsonrpc: "2.0", id: 2, method: "tools/list" },
  ]
    .map((m) => JSON.stringify(m))
    .join("\n") + "\n";

const base = { PATH: process.env.PATH, HOME: process.env.HOME, BRIDGE_ROOT: bridgeRoot };
const cases = [
  { name: "node -e 0", args: ["-e", "0"], mcp: false },
  { name: "mcp (bridged role)", args: [BIN, "mcp"], mcp: true, budget: 1.6, env: { ...base, BRIDGE_PROJECT: "bench", BRIDGE_ROLE: "web" } },
  { name: "mcp (unbridged)", args: [BIN, "mcp"], mcp: true, budget: 1.6, env: base },
];

function measure(c) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, c.args, { stdio: ["pipe", "pipe", "ignore"], env: c.env ?? base });
    let elapsed;
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      if (c.mcp && elapsed === undefined && /"id":2[,}]/.test(out)) {
        elapsed = Number(process.hrtime.bigint() - started) / 1e6;
        const line = out.split("\n").find((l) => /"id":2[,}]/.test(l));
        if (!Array.isArray(JSON.parse(line).result?.tools)) reject(new Error(`${c.name}: tools/list answered ${line}`));
        child.stdin.end();
      }
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (!c.mcp) elapsed = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) return reject(new Error(`${c.name}: exited ${code}`));
      if (elapsed === undefined) return reject(new Error(`${c.name}: no tools/list answer\n${out}`));
      resolve(elapsed);
    });
    if (c.mcp) child.stdin.write(REQUESTS);
    else child.stdin.end();
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const WARMUP = 2;
const times = new Map(cases.map((c) => [c, []]));
for (let round = 0; round < runs + WARMUP; round++) {
  for (let i = 0; i < cases.length; i++) {
    const c = cases[(i + round) % cases.length];
    const t = await measure(c);
    if (round >= WARMUP) times.get(c).push(t);
  }
}
const baseline = median(times.get(cases[0]));
const rows = cases.map((c) => {
  const med = median(times.get(c));
  return { name: c.name, median_ms: +med.toFixed(1), min_ms: +Math.min(...times.get(c)).toFixed(1), ratio: +(med / baseline).toFixed(2), budget: c.budget ?? null };
});
if (asJson) process.stdout.write(JSON.stringify({ node: process.version, runs, rows }, null, 2) + "\n");
else {
  console.log(`case                 median    min   ratio  budget   (${runs} interleaved runs, ${process.version})`);
  for (const r of rows) {
    const verdict = r.budget === null ? "" : r.ratio <= r.budget ? `≤ ${r.budget} ok` : `> ${r.budget} OVER`;
    console.log(`${r.name.padEnd(20)} ${r.median_ms.toFixed(1).padStart(6)} ${r.min_ms.toFixed(1).padStart(6)}  ${r.ratio.toFixed(2).padStart(5)}×  ${verdict}`);
  }
}
