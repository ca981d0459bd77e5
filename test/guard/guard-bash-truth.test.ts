// The guard against bash itself, class by class (truth/generators.ts): every generated command
// runs under real bash the way Claude Code runs it (truth/oracle.ts), and the guard's verdict is
// compared with what happened: a miss is a command that ran commit/push/reset (or changed the
// bridge's settings) yet was allowed; a false alarm is a command that did neither yet was denied.
//   GUARD_TRUTH_REPORT=1   print every miss and false alarm, do not fail (for measuring)
//   HARDEN_SEED=n          another corpus
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkCommand, DEFAULT_BLOCK_GIT, type GuardPolicy, type GuardVerdict } from "../../src/guard/check.ts";
import { rng, seedFromEnv } from "../helpers/prng.ts";
import { GENERATORS, UNDECIDABLE, type TruthCase } from "./truth/generators.ts";
import { BashTruth, pool } from "./truth/oracle.ts";

const POLICY: GuardPolicy = { blockGit: DEFAULT_BLOCK_GIT, denyPatterns: [], protectSettings: true };
const SEED = seedFromEnv(20260514);
const REPORT = process.env.GUARD_TRUTH_REPORT === "1";

interface Row {
  cases: number;
  positives: number;
  misses: string[];
  falseAlarms: string[];
  /** Denied though bash ran nothing, by a documented conservative rule. */
  byDesign: string[];
  skipped: number;
}

/** The documented conservative rule a denial of a harmless command follows, if it follows one. */
function designRule(c: TruthCase, v: GuardVerdict, stderr: string): string | undefined {
  if (c.byDesign) return c.byDesign;
  if (!v.allow && / may run it\)/.test(v.reason))
    return "a program the guard does not know, given git and a blocked subcommand as arguments, may run them";
  if (!v.allow && v.rule === "unparsable" && /syntax error|unexpected EOF/.test(stderr)) return "input bash cannot parse either is denied";
  return undefined;
}

test("bash truth: per class, the guard denies what runs a blocked git call or changes the settings, and nothing else", async (t) => {
  const bash = new BashTruth();
  t.after(() => bash.cleanup());
  if (!bash.available) return t.skip("bash or git is not available");
  const have = new Map<string, boolean>();
  const present = (p: string) => {
    if (!have.has(p)) have.set(p, BashTruth.has(p));
    return have.get(p)!;
  };
  const rows = new Map<string, Row>();
  const cases: TruthCase[] = [];
  for (const [cls, gen] of Object.entries(GENERATORS)) {
    const row: Row = { cases: 0, positives: 0, misses: [], falseAlarms: [], byDesign: [], skipped: 0 };
    rows.set(cls, row);
    const seen = new Set<string>();
    for (const c of gen(rng(SEED + cls.length * 7919 + cls.charCodeAt(0)))) {
      if (seen.has(c.command)) continue;
      seen.add(c.command);
      if (c.needs && !c.needs.every(present)) row.skipped++;
      else cases.push(c);
    }
  }
  const truths = await pool(cases, 4, (c) => bash.run(c.command));
  cases.forEach((c, k) => {
    const truth = truths[k]!;
    const row = rows.get(c.cls)!;
    row.cases++;
    const ran = truth.git.length > 0 || truth.settings.length > 0;
    if (ran) row.positives++;
    const v = checkCommand(c.command, POLICY);
    const shown = JSON.stringify(c.command);
    if (ran && v.allow) row.misses.push(`${shown} ran ${[...truth.git.map((s) => `git ${s}`), ...truth.settings].join(", ")}`);
    if (!ran && !v.allow) {
      const rule = designRule(c, v, truth.stderr);
      const line = `${shown} ran nothing${truth.timedOut ? " (timed out)" : ""}; denied ${v.rule}: ${v.blocked}`;
      if (rule) row.byDesign.push(`${line} (${rule})`);
      else row.falseAlarms.push(line);
    }
  });
  const lines = [
    `seed ${SEED}: class, cases (ran a blocked call), misses, false alarms (+ denied by a documented conservative rule), skipped (program absent)`,
  ];
  for (const [cls, row] of rows) {
    const rate = (n: number, of: number) => (of === 0 ? "-" : `${((100 * n) / of).toFixed(0)}%`);
    lines.push(
      `${cls.padEnd(10)} ${String(row.cases).padStart(4)} (${String(row.positives).padStart(3)})  ` +
        `miss ${String(row.misses.length).padStart(3)} ${rate(row.misses.length, row.positives).padStart(4)}  ` +
        `false alarm ${String(row.falseAlarms.length).padStart(3)} ${rate(row.falseAlarms.length, row.cases - row.positives).padStart(4)}` +
        (row.byDesign.length ? ` (+${row.byDesign.length} by design)` : "") +
        (row.skipped ? `  skipped ${row.skipped}` : ""),
    );
  }
  for (const line of lines) t.diagnostic(line);
  if (REPORT) {
    for (const [cls, row] of rows)
      for (const m of [
        ...row.misses.map((x) => `MISS ${x}`),
        ...row.falseAlarms.map((x) => `FALSE ${x}`),
        ...row.byDesign.map((x) => `DESIGN ${x}`),
      ])
        console.log(`${cls}: ${m}`);
    return;
  }
  for (const [cls, row] of rows) {
    // A generator whose commands all ran (or none did) would prove nothing about the other side.
    assert.ok(row.positives > 0 && row.positives < row.cases, `${cls}: ${row.positives} of ${row.cases} ran a blocked call`);
    assert.deepEqual(row.misses.slice(0, 10), [], `${cls}: allowed, yet bash ran a blocked call`);
    assert.deepEqual(row.falseAlarms.slice(0, 10), [], `${cls}: denied, yet bash ran nothing blocked`);
  }
});

test("commands whose effect depends on values the guard cannot see are denied, and the reason says what to do", () => {
  const wrong: string[] = [];
  for (const command of UNDECIDABLE) {
    const v = checkCommand(command, POLICY);
    if (v.allow) wrong.push(`${JSON.stringify(command)}: allowed`);
    else if (!/literally|split the command|write the|quote it/i.test(v.reason)) wrong.push(`${JSON.stringify(command)}: ${v.reason}`);
  }
  assert.deepEqual(wrong, []);
});
