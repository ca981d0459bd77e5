#!/usr/bin/env node
// What one process-fact question costs: a read of /proc/<pid>/stat, against the ps calls the code
// makes where there is no /proc (src/lib/ps.ts), against spawning `true` (the floor of any program
// run). Medians of repeated calls in this process. README "Platforms" quotes it.
//   node scripts/ps-cost.mjs [rounds]
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

const rounds = Number(process.argv[2] ?? 40);
const env = { PATH: process.env.PATH, LC_ALL: "C", TZ: "UTC0" };
const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
function time(fn, n) {
  const took = [];
  for (let i = 0; i < n; i++) {
    const start = process.hrtime.bigint();
    fn();
    took.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return median(took);
}
const facts = ["-o", "ppid=", "-o", "pgid=", "-o", "tpgid=", "-o", "stat=", "-o", "lstart=", "-p", String(process.pid)];
const rows = [];
if (existsSync("/proc/self/stat"))
  rows.push(["read /proc/<pid>/stat", time(() => readFileSync(`/proc/${process.pid}/stat`, "latin1"), rounds * 5)]);
rows.push(["ps -o ppid= -o pgid= -o tpgid= -o stat= -o lstart= -p PID", time(() => execFileSync("ps", facts, { env }), rounds)]);
rows.push(["ps -A -o pid= -o ppid=", time(() => execFileSync("ps", ["-A", "-o", "pid=", "-o", "ppid="], { env }), rounds)]);
rows.push(["spawning true", time(() => execFileSync("true"), rounds)]);
const load = existsSync("/proc/loadavg") ? ` (load average ${readFileSync("/proc/loadavg", "utf8").split(" ")[0]})` : "";
console.log(`median of ${rounds} calls${load}:`);
for (const [what, ms] of rows) console.log(`  ${ms.toFixed(ms < 1 ? 3 : 1).padStart(8)} ms  ${what}`);
