#!/usr/bin/env node
// `npm run bench`: every budget from DESIGN.md, measured in one run, printed beside its budget,
// written to bench/results.json and summarised in BENCHMARKS.md.
//   BENCH_ROUNDS=N   rounds of interleaved startup runs (default 15; medians reported)
import { writeFileSync } from "node:fs";
import { cpus, totalmem, release } from "node:os";
import { join } from "node:path";
import { REPO, median, scratch } from "./lib.mjs";
import { recvCases, throughput } from "./bus.mjs";

const rounds = Number(process.env.BENCH_ROUNDS ?? 15);
const rows = [];

function ratioRow(section, name, samples, baseline, budget) {
  const value = median(samples) / median(baseline);
  rows.push({ section, name, value, unit: "×", budget, ok: value <= budget, detail: `${median(samples).toFixed(1)} ms vs ${median(baseline).toFixed(1)} ms` });
}

function minRow(section, name, value, unit, budget, detail) {
  rows.push({ section, name, value, unit, budget, atLeast: true, ok: value >= budget, detail });
}

process.stderr.write(`bench: ${rounds} interleaved rounds per startup figure\n`);

const recv = recvCases(scratch("recv"), rounds);
const base = recv["node -e 0"];
for (const name of ["recv, 0 unread, empty inbox", "recv, 0 unread, 100,000 old", "recv, 100 unread, 100,000 old"]) ratioRow("bus", `CLI ${name}`, recv[name], base, 1.25);

const tp = await throughput(20_000, 10_000);
minRow("bus", "send throughput, 1 writer", tp.one.perSecond, "msg/s", 5000, `${tp.one.sent} messages, exactly once: ${tp.one.exactlyOnce}`);
minRow("bus", "send throughput, 4 writers (total)", tp.four.perSecond, "msg/s", 0, `${tp.four.sent} messages, exactly once: ${tp.four.exactlyOnce}`);
rows.push({ section: "bus", name: "exactly once after the throughput runs", value: tp.one.exactlyOnce && tp.four.exactlyOnce ? 1 : 0, unit: "", budget: 1, atLeast: true, ok: tp.one.exactlyOnce && tp.four.exactlyOnce, detail: "every sent id received once, none extra" });

// ---- report ----
const fmt = (r) => (r.unit === "×" ? `${r.value.toFixed(2)}×` : r.unit === "msg/s" ? `${Math.round(r.value)} msg/s` : `${r.value.toFixed(1)} ${r.unit}`.trim());
const budgetText = (r) => (r.unit === "" ? "yes" : `${r.atLeast ? "≥" : "≤"} ${r.unit === "×" ? `${r.budget}×` : `${r.budget} ${r.unit}`}`);
const width = Math.max(...rows.map((r) => r.name.length));
for (const r of rows) {
  process.stdout.write(`${r.ok ? "ok  " : "MISS"}  ${r.name.padEnd(width)}  ${fmt(r).padStart(12)}  budget ${budgetText(r).padEnd(12)}  ${r.detail}\n`);
}
const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? "?", memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, kernel: release() };
const date = new Date().toISOString();
writeFileSync(join(REPO, "bench/results.json"), JSON.stringify({ date, machine, rounds, rows }, null, 2) + "\n");
const md = [
  "# Benchmarks",
  "",
  `Measured by \`npm run bench\` on ${date.slice(0, 10)}: ${machine.cpus} × ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}, Linux ${machine.kernel}.`,
  `Startup figures are medians of ${rounds} interleaved rounds, as a ratio to \`node -e 0\` measured in the same run. Raw numbers: \`bench/results.json\`.`,
  "",
  "| | figure | value | budget | detail |",
  "| --- | --- | --- | --- | --- |",
  ...rows.map((r) => `| ${r.ok ? "ok" : "**miss**"} | ${r.name} | ${fmt(r)} | ${budgetText(r)} | ${r.detail} |`),
  "",
];
writeFileSync(join(REPO, "BENCHMARKS.md"), md.join("\n"));
process.stderr.write(`wrote bench/results.json and BENCHMARKS.md\n`);
process.exitCode = rows.every((r) => r.ok) ? 0 : 1;
