// The git shim's cost for bench/run.mjs: `git status` through the shim a bridged session gets first
// on PATH, against the same git run directly, each shim run right beside a direct one (lib.mjs
// besideBaseline). The fast path (a built-in the policy allows: sh execs git) is budgeted; the
// path that asks session-bridge (here an alias, resolved by `session-bridge git-shim`) is shown
// for each artifact. The shims are written the way a session gets them: the built `hook recv` at
// SessionStart with CLAUDE_ENV_FILE.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { besideBaseline, envFor, median, runner, scratch } from "./lib.mjs";

/** Added milliseconds allowed on an allowed `git status` (the fast path). */
const FAST_BUDGET_MS = 5;

/** Writes a repo and a shim made by `artifact`; returns what the cases need. */
function setUp(artifact, label) {
  const dir = scratch(`shim-${label === "SEA" ? "sea" : "script"}`);
  const repo = join(dir, "repo");
  const envFile = join(dir, "session-env", "s", "sessionstart-hook-0.sh");
  mkdirSync(join(dir, "session-env", "s"), { recursive: true });
  const git = (...args) => spawnSync("git", ["-C", repo, ...args], { encoding: "utf8", env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1" } });
  spawnSync("git", ["init", "-q", repo]);
  // A small, realistic work tree: some tracked files, one changed, one untracked.
  for (let i = 0; i < 50; i++) writeFileSync(join(repo, `f${i}.txt`), `line ${i}\n`);
  git("add", ".");
  git("-c", "user.name=b", "-c", "user.email=b@example.invalid", "commit", "-q", "-m", "seed");
  writeFileSync(join(repo, "f1.txt"), "changed\n");
  writeFileSync(join(repo, "new.txt"), "new\n");
  const env = {
    ...envFor("inherited"),
    BRIDGE_ROOT: join(dir, "bridge"),
    BRIDGE_PROJECT: "bench",
    BRIDGE_ROLE: "web",
    CLAUDE_ENV_FILE: envFile,
  };
  const input = JSON.stringify({ session_id: "s", hook_event_name: "SessionStart", source: "startup", cwd: repo });
  const r = spawnSync(runner(artifact)[0], [...runner(artifact).slice(1), "hook", "recv"], { env, input, encoding: "utf8" });
  const shimDir = /^export PATH='([^']+)'/m.exec(readFileSync(envFile, "utf8"))?.[1];
  if (r.status !== 0 || !shimDir) throw new Error(`bench: ${label} hook recv wrote no shim (exit ${r.status}): ${r.stderr}`);
  return { repo, shimDir, root: env.BRIDGE_ROOT };
}

export async function shimCases({ rounds, withInherited, artifacts }) {
  const rows = [];
  const setups = artifacts.map(([artifact, label]) => ({ label, ...setUp(artifact, label) }));
  const results = {};
  for (const mode of withInherited ? ["clean", "inherited"] : ["clean"]) {
    const base = envFor(mode);
    const status = (repo) => ["git", "-C", repo, "status", "--short"];
    const ok = (out) => out.includes(" M f1.txt") && out.includes("?? new.txt");
    const { repo } = setups[0];
    const plain = { name: "git status, plain", argv: status(repo), env: base, check: ok };
    const cases = [
      ...setups.flatMap((s) => {
        // As in the session: bridged, so session-bridge keeps its compiled code (under this root).
        const env = { ...base, PATH: `${s.shimDir}:${base.PATH}`, BRIDGE_ROOT: s.root, BRIDGE_PROJECT: "bench", BRIDGE_ROLE: "web" };
        return [
          ...(s === setups[0] ? [{ name: "git status, through the shim (fast path)", argv: status(s.repo), env, check: ok }] : []),
          {
            name: `git alias of status, through the shim (${s.label} decides)`,
            argv: ["git", "-C", s.repo, "-c", "alias.st=status --short", "st"],
            env,
            check: ok,
          },
        ];
      }),
    ];
    process.stderr.write(
      `bench: git shim, ${mode} environment: ${cases.length} cases × ${rounds} rounds, each beside a plain git status\n`,
    );
    const { runs, baselineRuns } = await besideBaseline(plain, cases, rounds, {
      progress: (i, n) => process.stderr.write(`\r  round ${i}/${n}`),
    });
    process.stderr.write("\n");
    results[mode] = { cases, runs, plain: median(baselineRuns) };
  }
  // Each shim run minus the plain run beside it, then the median: noise cancels.
  const added = (mode, name) => {
    const { ms, base } = results[mode].runs.get(name);
    return median(ms.map((one, i) => one - base[i]));
  };
  // Judged in the clean environment, as the rest of the bench (bench/run.mjs).
  const { cases, runs } = results.clean;
  rows.push({
    section: "shim",
    name: "git status, plain (the baseline of this section)",
    value: results.clean.plain,
    unit: "ms",
    ...(withInherited && { inherited: results.inherited.plain }),
    detail: "git -C repo status --short on 50 files, one changed, one untracked",
  });
  for (const c of cases) {
    const fast = c.name.includes("fast path");
    rows.push({
      section: "shim",
      name: `${c.name}: added`,
      value: added("clean", c.name),
      unit: "ms",
      ...(withInherited && { inherited: added("inherited", c.name) }),
      ...(fast && { budget: FAST_BUDGET_MS }),
      detail: `${median(runs.get(c.name).ms).toFixed(1)} ms vs ${results.clean.plain.toFixed(1)} ms plain`,
    });
  }
  return rows;
}
