#!/usr/bin/env node
// `npm run bench`: every performance budget measured in one run, each printed beside its budget,
// written to bench/results.json and summarised in BENCHMARKS.md (between its bench markers).
// `npm run bench` builds first (node build.mjs --bench, scripts/build-sea.mjs); alone:
//   node bench/run.mjs [--rounds N] [--only startup,bus,wake,memory,shim,redis] [--no-inherited] [--realtime] [--cases WORD,…] [--also LABEL=FILE,…]
// (--cases keeps only the startup cases whose name contains one of the words: for quick looks;
// --also adds the startup cases of another build, a script or an executable, under LABEL, shown
// but not judged: e.g. a copy of the previous build, for a before/after in one run; --realtime
// runs the startup cases under SCHED_FIFO, for a machine other jobs keep busy: see lib.mjs.)
//
// Startup figures: each run divided by the `node -e 0` run right beside it, median over N rounds
// (default 21, after 2 warm-up rounds; lib.mjs besideBaseline: a random order of cases each
// round, and a coin toss for which of the two goes first). Budgets are judged in a clean
// environment, only PATH and HOME plus what the case needs (Claude Code's hook variables,
// BRIDGE_*), as a user's hooks get it; the same cases then run again in the environment the bench
// inherits (here with NODE_EXTRA_CA_CERTS, which slows every node start and so flatters every
// ratio), shown beside.
// Judged: what `install` points at (the sh launcher of its stable copy, or with --in-place of the
// file itself; the executable's copy is the executable). The `bin` file run by node is shown, not
// judged: no hook runs it so (the plugin's launcher too runs it through the fast start).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import {
  BIN,
  NODE_BASELINE,
  REPO,
  SEA,
  envFor,
  installedHookCommands,
  installedLauncher,
  besideBaseline,
  labelOf,
  machine,
  median,
  realtime,
} from "./lib.mjs";
import { hookCases, listingSizes, mcpCases, seedHookRoot } from "./startup.mjs";
import { throughput } from "./bus.mjs";
import { daemonWakes, hasTmux, rewakes, socketWakes } from "./wake.mjs";
import { daemonMemory, mcpMemory } from "./memory.mjs";
import { shimCases } from "./shim.mjs";
import { hasRedis, redisFigures } from "./redis.mjs";

const say = (line) => process.stderr.write(line + "\n");
const args = process.argv.slice(2);
const optionValue = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const rounds = Number(optionValue("--rounds", process.env.BENCH_ROUNDS ?? "21"));
const only = optionValue("--only", "startup,bus,wake,memory,shim,redis").split(",");
const withInherited = !args.includes("--no-inherited");
const wantRealtime = args.includes("--realtime");
const caseWords = optionValue("--cases", "").split(",").filter(Boolean);
const also = optionValue("--also", "")
  .split(",")
  .filter(Boolean)
  .map((spec) => {
    const at = spec.indexOf("=");
    if (at < 1) {
      say(`bench: --also takes LABEL=FILE (e.g. "before .mjs=/tmp/old/session-bridge.mjs"), not ${JSON.stringify(spec)}`);
      process.exit(2);
    }
    return { label: spec.slice(0, at), file: resolve(spec.slice(at + 1)), judged: false };
  });
const BUDGET = { unbridged: 1.1, guard: 1.15, recv: 1.25, mcp: 1.35 };
// Other jobs on the machine slow every start alike (the pairing cancels most of it), but not
// exactly alike: the table says how busy the machine was.
const loadAtStart = loadavg()[0];
let ranRealtime = false;
const LISTING_BUDGET = { listBytes: 6000, instructionsBytes: 1000 };

for (const [file, how] of [
  [BIN, "node build.mjs"],
  ...also.map((a) => [a.file, `a build to compare (or drop it from --also)`]),
  [SEA, "node scripts/build-sea.mjs"],
  [join(REPO, "dist/bench/send-worker.mjs"), "node build.mjs --bench"],
  [join(REPO, "dist/bench/redis-worker.mjs"), "node build.mjs --bench"],
]) {
  if (!existsSync(file)) {
    say(`bench: ${file} is missing; run \`${how}\` (npm run bench builds everything)`);
    process.exit(2);
  }
}

/** @type {{section: string, name: string, value: number, unit: string, inherited?: number, budget?: number, atLeast?: boolean, ok?: boolean, detail: string}[]} */
const rows = [];
// Judged as printed: a ratio to two decimals, like the budgets (1.104× is "1.10×", within ≤ 1.10×).
const shown = (r) => (r.unit === "×" ? Math.round(r.value * 100) / 100 : r.value);
const row = (r) => rows.push({ ...r, ok: r.budget === undefined ? undefined : r.atLeast ? shown(r) >= r.budget : shown(r) <= r.budget });

if (only.includes("startup")) {
  // What install points at is judged; --also builds are shown beside it. Each artifact has a
  // bridge root of its own: a build's hook removes the code caches of every other build of its bundle.
  // The launcher adds an sh start in front of the .cjs: judged too, since it is what hooks run.
  const launcher = installedLauncher();
  const artifacts = [
    // Shown: what `session-bridge` on PATH runs for the CLI; hooks get one of the two below.
    { label: labelOf(BIN), file: BIN, judged: false },
    { label: labelOf(launcher), file: launcher, judged: true },
    { label: labelOf(SEA), file: SEA, judged: true },
    ...also,
  ].map((a) => ({ ...a, seeded: seedHookRoot() }));
  const baselineCase = (mode) => ({ name: NODE_BASELINE, argv: [process.execPath, "-e", "0"], env: envFor(mode) });
  const build = (mode) => [
    ...artifacts
      .flatMap(({ file, label, judged, seeded }) =>
        [...hookCases(file, label, mode, seeded, file === launcher && installedHookCommands(launcher)), ...mcpCases(file, label, mode)].map(
          (c) => ({ ...c, judged }),
        ),
      )
      .filter((c) => caseWords.length === 0 || caseWords.some((w) => c.name.includes(w))),
  ];
  const modes = withInherited ? ["clean", "inherited"] : ["clean"];
  const results = {};
  if (wantRealtime) {
    ranRealtime = realtime(true);
    if (!ranRealtime) say("bench: could not switch to SCHED_FIFO (needs root or CAP_SYS_NICE, and chrt): timing under the normal policy");
  } else if (loadavg()[0] > cpus().length) {
    say(
      `bench: load average ${loadavg()[0].toFixed(1)} on ${cpus().length} CPUs: other jobs will blur the startup ratios (--realtime helps)`,
    );
  }
  for (const mode of modes) {
    const cases = build(mode);
    say(`bench: startup, ${mode} environment: ${cases.length} cases × ${rounds} rounds, each beside a run of ${NODE_BASELINE}`);
    const { runs, baselineRuns } = await besideBaseline(baselineCase(mode), cases, rounds, {
      progress: (i, n) => process.stderr.write(`\r  round ${i}/${n}`),
    });
    process.stderr.write("\n");
    results[mode] = { cases, runs, base: median(baselineRuns) };
  }
  if (ranRealtime) realtime(false);
  const { cases, runs, base } = results.clean;
  const samples = new Map([...runs].map(([name, { ms }]) => [name, ms]));
  // Each run divided by the `node -e 0` run beside it, then the median: a burst of load from
  // elsewhere slows both alike instead of landing on whichever case ran then.
  const ratio = (mode, name) => {
    const { ms, base: beside } = results[mode].runs.get(name);
    return median(ms.map((one, i) => one / beside[i]));
  };
  row({
    section: "startup",
    name: NODE_BASELINE,
    value: base,
    unit: "ms",
    ...(withInherited && { inherited: results.inherited.base }),
    detail: "the baseline every ratio divides by",
  });
  for (const c of cases) {
    const budget = c.judged ? BUDGET[c.group] : undefined;
    row({
      section: "startup",
      name: c.name,
      value: ratio("clean", c.name),
      unit: "×",
      ...(withInherited && { inherited: ratio("inherited", c.name) }),
      budget,
      detail: `${median(samples.get(c.name)).toFixed(1)} ms vs ${base.toFixed(1)} ms${c.judged || c.group === "info" ? "" : " (not what install points at: not judged)"}`,
    });
  }
  for (const { label, judged } of artifacts) {
    const old = samples.get(`${label} hook recv, 0 unread, 100,000 old`);
    const none = samples.get(`${label} hook recv, 0 unread, no history`);
    if (!old || !none) continue;
    // Paired by round (each case runs once a round): a ratio of two medians let one slow stretch of
    // the machine land on either side (the .cjs once read 1.07x, its launcher 1.02x, in one run).
    const flat = median(old.map((ms, round) => ms / none[round]));
    row({
      section: "startup",
      name: `${label} hook recv: 100,000 old ÷ no history (flat)`,
      value: flat,
      unit: "×",
      ...(judged && { budget: 1.05 }),
      detail: "the cursor is a byte offset: history is never read",
    });
  }
  say("bench: what the MCP server lists");
  const sizes = await listingSizes(BIN);
  row({
    section: "startup",
    name: "non-admin tools/list, JSON",
    value: sizes.nonAdmin.listBytes,
    unit: "bytes",
    budget: LISTING_BUDGET.listBytes,
    detail: `${sizes.nonAdmin.tools} tools, ≈ ${Math.round(sizes.nonAdmin.listBytes / 3.7)} tokens`,
  });
  row({
    section: "startup",
    name: "admin tools/list (BRIDGE_ADMIN=1), JSON",
    value: sizes.admin.listBytes,
    unit: "bytes",
    detail: `${sizes.admin.tools} tools`,
  });
  row({
    section: "startup",
    name: "server instructions (initialize)",
    value: sizes.nonAdmin.instructionsBytes,
    unit: "bytes",
    budget: LISTING_BUDGET.instructionsBytes,
    detail: "a bridged session's; shown to the model in every session",
  });
}

if (only.includes("bus")) {
  say("bench: send throughput");
  const tp = await throughput(20_000, 10_000);
  row({
    section: "bus",
    name: "send throughput, 1 writer",
    value: tp.one.perSecond,
    unit: "msg/s",
    budget: 5000,
    atLeast: true,
    detail: `${tp.one.sent} messages`,
  });
  row({
    section: "bus",
    name: "send throughput, 4 writers (total)",
    value: tp.four.perSecond,
    unit: "msg/s",
    detail: `${tp.four.sent} messages into one inbox`,
  });
  const once = tp.one.exactlyOnce && tp.four.exactlyOnce;
  row({
    section: "bus",
    name: "every message received exactly once (1 and 4 writers)",
    value: once ? 1 : 0,
    unit: "",
    budget: 1,
    atLeast: true,
    detail: "every sent id received once, none extra, none lost",
  });
}

if (only.includes("redis") && !hasRedis()) say("bench: no redis-server here, so no Redis figures");
else if (only.includes("redis")) {
  say("bench: the Redis store (redis-server on 127.0.0.1)");
  const r = await redisFigures();
  const server = `redis-server ${r.version} on loopback, appendonly yes, appendfsync everysec (Redis's default)`;
  row({
    section: "redis",
    name: "Redis: send throughput, 1 writer (each acknowledged)",
    value: r.one.perSecond,
    unit: "msg/s",
    budget: 3000,
    atLeast: true,
    detail: `${r.one.sent} messages, ${server}`,
  });
  row({
    section: "redis",
    name: "Redis: send throughput, 1 writer, appendfsync always",
    value: r.always.perSecond,
    unit: "msg/s",
    detail: `${r.always.sent} messages, an fsync before each answer (README "Across machines")`,
  });
  row({
    section: "redis",
    name: "Redis: send throughput, 4 writers (total)",
    value: r.four.perSecond,
    unit: "msg/s",
    detail: `${r.four.sent} messages into one inbox`,
  });
  row({
    section: "redis",
    name: "Redis: consume round trip (claim → commit), p50",
    value: r.rtt.p50,
    unit: "ms",
    detail: `${r.rtt.n} reads of one message, p95 ${r.rtt.p95.toFixed(2)} ms`,
  });
  row({
    section: "redis",
    name: "Redis: append → wake notification, p50",
    value: r.wake.p50,
    unit: "ms",
    budget: 10,
    detail: `${r.wake.n} sends, PUBLISH in the send script to a subscribed connection`,
  });
  row({ section: "redis", name: "Redis: append → wake notification, p95", value: r.wake.p95, unit: "ms", detail: `${r.wake.n} sends` });
  row({
    section: "redis",
    name: "Redis: append → wake through spawner run, p50",
    value: r.daemon.p50,
    unit: "ms",
    budget: 10,
    detail: `${r.daemon.n} wakes, spawn driver: send acknowledged → the daemon's "wake" log entry (heard, batch read, owner checked, claimed under the Redis wake lock)`,
  });
  row({
    section: "redis",
    name: "Redis: append → wake through spawner run, p95",
    value: r.daemon.p95,
    unit: "ms",
    detail: `${r.daemon.n} wakes, max ${r.daemon.max.toFixed(1)} ms`,
  });
}

if (only.includes("wake")) {
  const drivers = hasTmux() ? ["spawn", "tmux"] : ["spawn"];
  if (drivers.length === 1) say("bench: no tmux here, so no tmux driver figures");
  for (const driver of drivers) {
    say(`bench: wake latency, ${driver} driver through spawner run`);
    const w = await daemonWakes(driver, 40);
    row({
      section: "wake",
      name: `append → ${driver} driver invoked, p50`,
      value: w.p50,
      unit: "ms",
      budget: 50,
      detail: `${w.n} wakes through the daemon, max ${w.max.toFixed(1)} ms`,
    });
    row({
      section: "wake",
      name: `append → ${driver} driver invoked, p95`,
      value: w.p95,
      unit: "ms",
      budget: 250,
      detail: `${w.n} wakes through the daemon`,
    });
  }
  {
    say("bench: wake latency, socket driver through spawner run");
    const s = await socketWakes(40);
    row({
      section: "wake",
      name: "append → nudge on the messaging socket (socket driver), p50",
      value: s.p50,
      unit: "ms",
      budget: 50,
      detail: `${s.n} wakes through the daemon, max ${s.max.toFixed(1)} ms`,
    });
    row({
      section: "wake",
      name: "append → nudge on the messaging socket (socket driver), p95",
      value: s.p95,
      unit: "ms",
      budget: 250,
      detail: `${s.n} wakes through the daemon`,
    });
  }
  say("bench: wake latency, rewake (hook wait)");
  const r = await rewakes(BIN, 30);
  row({
    section: "wake",
    name: "append → hook wait exits 2 (rewake), p50",
    value: r.p50,
    unit: "ms",
    budget: 50,
    detail: `${r.n} wakes, ${labelOf(BIN)}, max ${r.max.toFixed(1)} ms`,
  });
  row({
    section: "wake",
    name: "append → hook wait exits 2 (rewake), p95",
    value: r.p95,
    unit: "ms",
    budget: 250,
    detail: `${r.n} wakes, ${labelOf(BIN)}`,
  });
}

if (only.includes("memory")) {
  say("bench: peak memory");
  for (const artifact of [BIN, SEA]) {
    const label = labelOf(artifact);
    const m = await mcpMemory(artifact);
    row({
      section: "memory",
      name: `${label} mcp peak RSS after tools/list`,
      value: m.listed.peakMiB,
      unit: "MiB",
      detail: "VmHWM; the SDK not loaded yet",
    });
    row({
      section: "memory",
      name: `${label} mcp peak RSS after 5 tool calls`,
      value: m.called.peakMiB,
      unit: "MiB",
      detail: `VmHWM; RSS now ${m.called.rssMiB.toFixed(1)} MiB`,
    });
  }
  const d = await daemonMemory(50);
  row({
    section: "memory",
    name: "spawner run, idle, watching 50 roles: peak RSS",
    value: d.peakMiB,
    unit: "MiB",
    detail: `VmHWM; RSS now ${d.rssMiB.toFixed(1)} MiB`,
  });
}

if (only.includes("shim"))
  for (const r of await shimCases({
    rounds,
    withInherited,
    artifacts: [
      [BIN, labelOf(BIN)],
      [SEA, "SEA"],
    ],
  }))
    row(r);

// ---- report ----
const fmt = (value, unit) =>
  unit === "×"
    ? `${value.toFixed(2)}×`
    : unit === "msg/s"
      ? `${Math.round(value)} msg/s`
      : unit === ""
        ? value
          ? "yes"
          : "no"
        : unit === "bytes"
          ? `${Math.round(value).toLocaleString("en-US")} bytes`
          : `${value.toFixed(1)} ${unit}`;
const budgetText = (r) => (r.budget === undefined ? "" : r.unit === "" ? "yes" : `${r.atLeast ? "≥" : "≤"} ${fmt(r.budget, r.unit)}`);
const verdict = (r) => (r.ok === undefined ? "" : r.ok ? "ok" : "MISS");
const width = Math.max(...rows.map((r) => r.name.length));
for (const r of rows) {
  const inherited = r.inherited === undefined ? "" : `inherited ${fmt(r.inherited, r.unit)}`;
  process.stdout.write(
    `${verdict(r).padEnd(4)}  ${r.name.padEnd(width)}  ${fmt(r.value, r.unit).padStart(12)}  ${inherited.padEnd(19)}  ${budgetText(r).padEnd(14)}  ${r.detail}\n`,
  );
}

const info = { ...machine(), load: [loadAtStart, loadavg()[0]].map((l) => Number(l.toFixed(1))), realtime: ranRealtime };
const date = new Date().toISOString();
const previous = existsSync(join(REPO, "bench/results.json"))
  ? JSON.parse(readFileSync(join(REPO, "bench/results.json"), "utf8"))
  : undefined;
// A partial run (--only) keeps the other sections' rows from the last full run.
const kept = previous?.rows?.filter((r) => !rows.some((n) => n.section === r.section)) ?? [];
const all = [...kept, ...rows];
writeFileSync(
  join(REPO, "bench/results.json"),
  JSON.stringify(
    {
      date,
      machine: info,
      rounds,
      environment: "value: clean (only PATH and HOME plus what the case needs), judged; `inherited`: the bench's own environment",
      rows: all,
    },
    null,
    2,
  ) + "\n",
);

const table = [
  `Measured by \`npm run bench\` on ${date.slice(0, 10)}: ${info.cpus} × ${info.cpu}, ${info.memoryGiB} GiB, ${info.os}, Node ${info.node}; load average ${info.load[0]} at the start, ${info.load[1]} at the end (other jobs shared the machine when it is above ${info.cpus})${info.realtime ? "; the startup cases ran under SCHED_FIFO (`--realtime`), so those jobs could not delay them" : ""}.`,
  `Startup figures: each run divided by a \`node -e 0\` run right beside it, median of ${rounds} rounds (each round the cases in a random order, and which of a case and its \`node -e 0\` goes first a coin toss; spawn → exit; for \`mcp\`, spawn → the answer); the detail column gives the plain medians of the clean run.`,
  `Judged in the clean environment (only \`PATH\` and \`HOME\`, plus Claude Code's hook variables and \`BRIDGE_*\` where the case needs them); the inherited column is the bench's own environment${process.env.NODE_EXTRA_CA_CERTS ? " (it sets `NODE_EXTRA_CA_CERTS`)" : ""}.`,
  "",
  "| | figure | clean env (judged) | inherited env | budget | detail |",
  "| --- | --- | --- | --- | --- | --- |",
  ...all.map(
    (r) =>
      `| ${r.ok === undefined ? "" : r.ok ? "ok" : "**miss**"} | ${r.name} | ${fmt(r.value, r.unit)} | ${r.inherited === undefined ? "" : fmt(r.inherited, r.unit)} | ${budgetText(r)} | ${r.detail} |`,
  ),
];
const mdPath = join(REPO, "BENCHMARKS.md");
const md = existsSync(mdPath) ? readFileSync(mdPath, "utf8") : "";
const BEGIN = "<!-- bench:begin (written by bench/run.mjs) -->";
const END = "<!-- bench:end -->";
const block = `${BEGIN}\n${table.join("\n")}\n${END}`;
writeFileSync(
  mdPath,
  md.includes(BEGIN) && md.includes(END)
    ? md.slice(0, md.indexOf(BEGIN)) + block + md.slice(md.indexOf(END) + END.length)
    : `# Benchmarks\n\n${block}\n`,
);
say("bench: wrote bench/results.json and BENCHMARKS.md");
process.exitCode = rows.every((r) => r.ok !== false) ? 0 : 1;
