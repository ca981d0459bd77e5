// The guard under generated input, beyond the corpus of guard-corpus.test.ts:
//  - metamorphic: a command that runs a blocked git call stays denied inside any context that still
//    runs it (after ; && ||, in ( ) { } if, sh -c, bash -c, $( ), eval, a pipe, sudo/env…), nested;
//    a harmless one stays allowed in the plain contexts;
//  - mutation: random edits (quotes, backslashes, $( , here-docs, newlines, NUL, unicode) of real
//    commands never crash the guard (no "guard error"), never hang it, and — checked against bash
//    itself with a fake git that logs its calls — nothing the guard allows runs a blocked git call.
// HARDEN_SEED replays a run; HARDEN_FUZZ scales it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkCommand, DEFAULT_BLOCK_GIT } from "../../src/guard/check.ts";
import type { GuardPolicy } from "../../src/guard/check.ts";
import { envInt, rng, seedFromEnv } from "../helpers/prng.ts";
import type { Rng } from "../helpers/prng.ts";

const POLICY: GuardPolicy = { blockGit: DEFAULT_BLOCK_GIT, denyPatterns: [], protectSettings: true };
const SEED = seedFromEnv(4242);
const SCALE = envInt("HARDEN_FUZZ", 1);

const sq = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

const BLOCKED = [
  "git push",
  "git commit -m x",
  "git -C . reset --hard HEAD",
  "git --no-pager push origin main",
  "./git push",
  "g\\it push",
  "git 'commit' -am wip",
];
const HARMLESS = [
  "git status",
  "git log --oneline -3",
  "echo git push",
  "git stash push",
  "ls -la",
  "git diff HEAD",
  "printf '%s\\n' 'git commit'",
];

// Contexts that run their argument (compound or simple) when bash runs the whole.
const RUNNING: ((c: string) => string)[] = [
  (c) => `echo hi; ${c}`,
  (c) => `${c}; echo done`,
  (c) => `true && ${c}`,
  (c) => `false || ${c}`,
  (c) => `( ${c} )`,
  (c) => `{ ${c}; }`,
  (c) => `if true; then ${c}; fi`,
  (c) => `for i in 1; do ${c}; done`,
  (c) => `while false; do :; done; ${c}`,
  (c) => `sh -c ${sq(c)}`,
  (c) => `bash -c ${sq(c)}`,
  (c) => `x=$( ${c} )`,
  (c) => `echo "$( ${c} )"`,
  (c) => `eval ${sq(c)}`,
  (c) => `echo | { ${c}; }`,
  (c) => `{ ${c}; } | cat`,
  (c) => `cd /tmp && ${c}`,
  (c) => `sudo sh -c ${sq(c)}`,
  (c) => `env A=1 bash -c ${sq(c)}`,
  (c) => `timeout 5 sh -c ${sq(c)}`,
  (c) => `nohup bash -c ${sq(c)} & wait`,
  (c) => `{ ${c}; } 2>/dev/null`,
  (c) => `f() { ${c}; }; f`,
  (c) => `{ ${c}; } \\\n  >/dev/null`,
  // Scripts a shell reads from text in the command (guard-bash-truth.test.ts has these by class).
  (c) => `echo ${sq(c)} | bash`,
  (c) => `bash <<< ${sq(c)}`,
  (c) => `source <(echo ${sq(c)})`,
  (c) => `bash -c 'cat | bash' <<< ${sq(c)}`,
  (c) => `exec 3<<<${sq(c)}; bash /dev/fd/3`,
  (c) => `f() { "$@"; }\nf bash -c ${sq(c)}`,
];
// Contexts in which a harmless command stays harmless and is plainly parsed.
const PLAIN = RUNNING.slice(0, 11);

/** Runs commands in bash with a fake git (on PATH and as ./git) that records every call. */
class BashOracle {
  readonly available = spawnSync("bash", ["-c", "true"]).status === 0;
  private readonly dir = mkdtempSync(join(tmpdir(), "sb-guard-fuzz-"));
  private readonly calls = join(this.dir, "calls");
  private readonly cwd = join(this.dir, "work");
  private readonly env: NodeJS.ProcessEnv;

  constructor() {
    const bin = join(this.dir, "bin");
    mkdirSync(bin);
    mkdirSync(this.cwd);
    mkdirSync(this.calls);
    // One file per call, each argument NUL-terminated: arguments may hold newlines, never NUL.
    const fake = `#!/bin/sh\nprintf '%s\\0' "$@" > "$(mktemp -p "$GITCALLS")"\n`;
    for (const path of [join(bin, "git"), join(this.cwd, "git")]) {
      writeFileSync(path, fake);
      chmodSync(path, 0o755);
    }
    // sudo would run the real git as root: a stand-in that just runs its arguments.
    writeFileSync(join(bin, "sudo"), '#!/bin/sh\nexec "$@"\n');
    chmodSync(join(bin, "sudo"), 0o755);
    this.env = { PATH: `${bin}:/usr/bin:/bin`, GITCALLS: this.calls, HOME: this.dir };
  }

  /** The blocked git subcommand bash runs for `command`, if any. */
  blockedCall(command: string): string | undefined {
    for (const name of readdirSync(this.calls)) rmSync(join(this.calls, name));
    spawnSync("bash", ["-c", command], { cwd: this.cwd, env: this.env, input: "", timeout: 5000 });
    const calls = readdirSync(this.calls).map((name) =>
      gitSubcommand(readFileSync(join(this.calls, name), "utf8").split("\0").slice(0, -1)),
    );
    return calls.find((s) => DEFAULT_BLOCK_GIT.test(s));
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The git subcommand of a logged argv, skipping the global options the seeds use. */
function gitSubcommand(argv: string[]): string {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "-C" || a === "-c" || a === "--git-dir" || a === "--work-tree") i++;
    else if (!a.startsWith("-")) return a;
  }
  return "";
}

test("env and sudo take any operand holding '=' as an assignment: the program after it is checked (found by the mutation fuzz)", (t) => {
  const bash = new BashOracle();
  t.after(() => bash.cleanup());
  for (const command of [
    "env '*A=1' git push",
    "env *A=1 bash -c 'git push'",
    "env =1 git commit -m x",
    "env a-b=c 1=2 git reset --hard",
    "env -u HOME '=x' git push",
    "sudo x.y=1 git push",
    "sudo '*=1' git commit",
  ]) {
    const v = checkCommand(command, POLICY);
    assert.equal(v.allow, false, command);
    if (!v.allow) assert.equal(v.rule, "git", command);
    if (bash.available && command.startsWith("env")) assert.ok(bash.blockedCall(command), `bash really runs a blocked call for ${command}`);
  }
  assert.equal(checkCommand("env A=1 'B=2' git status", POLICY).allow, true);
});

test("metamorphic: a blocked git call stays denied in any context that still runs it, nested up to three deep", (t) => {
  const r = rng(SEED);
  const bash = new BashOracle();
  t.after(() => bash.cleanup());
  const wrong: string[] = [];
  let sampled = 0;
  let confirmed = 0;
  const cases = 1500 * SCALE;
  for (let i = 0; i < cases; i++) {
    let command = r.pick(BLOCKED);
    for (let depth = r.int(1, 3); depth > 0; depth--) command = r.pick(RUNNING)(command);
    // Bash is the judge of whether the composition still runs the call.
    if (checkCommand(command, POLICY).allow && (!bash.available || bash.blockedCall(command))) wrong.push(command);
    // And the contexts really do run it (a test whose compositions ran nothing would prove nothing).
    if (bash.available && i % 25 === 0) {
      sampled++;
      if (bash.blockedCall(command)) confirmed++;
    }
  }
  assert.deepEqual(wrong.slice(0, 10), [], `allowed though bash runs a blocked git call (seed ${SEED})`);
  if (bash.available)
    assert.ok(confirmed >= sampled * 0.9, `bash ran the blocked call in only ${confirmed} of ${sampled} sampled compositions`);
});

test("metamorphic: a harmless command stays allowed in plain contexts", (t) => {
  const r = rng(SEED + 1);
  const bash = new BashOracle();
  t.after(() => bash.cleanup());
  const wrong: string[] = [];
  for (let i = 0; i < 800 * SCALE; i++) {
    let command = r.pick(HARMLESS);
    for (let depth = r.int(1, 2); depth > 0; depth--) command = r.pick(PLAIN)(command);
    const v = checkCommand(command, POLICY);
    if (!v.allow && !(bash.available && bash.blockedCall(command))) wrong.push(`${command}  →  ${v.rule}: ${v.blocked}`);
  }
  assert.deepEqual(wrong.slice(0, 10), [], `denied though harmless (seed ${SEED + 1})`);
});

const INSERTS = [
  "'",
  '"',
  "\\",
  "$",
  "$(",
  ")",
  "`",
  "{",
  "}",
  ";",
  "|",
  "&",
  "&&",
  "<",
  ">",
  "\n",
  "#",
  "*",
  "~",
  " ",
  "\t",
  "\u0000",
  "é",
  "\\\n",
  "<<EOF\n",
  "\nEOF\n",
  "$'\\x70'",
  "${x:-",
  "git ",
  "push",
  "-c alias.p=push ",
  "!",
  "\r",
  "\f",
  "{p..p}",
  "{,}",
  "alias x=",
  "\nx ",
  "| bash",
  "<<< ",
  "$'\\r'",
];

function mutate(r: Rng, text: string): string {
  let s = text;
  for (let n = r.int(1, 4); n > 0; n--) {
    const at = r.int(0, s.length);
    const kind = r.int(0, 3);
    if (kind === 0 || s.length === 0) s = s.slice(0, at) + r.pick(INSERTS) + s.slice(at);
    else if (kind === 1) s = s.slice(0, at) + s.slice(Math.min(s.length, at + r.int(1, 4)));
    else if (kind === 2) s = s.slice(0, at) + s.slice(at, at + r.int(1, 8)) + s.slice(at);
    else s = s.slice(0, at);
  }
  return s;
}

test("mutation fuzz: edits of real commands never crash or hang the guard, and nothing it allows runs a blocked git call in bash", (t) => {
  const r = rng(SEED + 2);
  const bash = new BashOracle();
  t.after(() => bash.cleanup());
  const seeds = [...BLOCKED, ...HARMLESS, ...BLOCKED.map((c) => r.pick(RUNNING)(c)), ...HARMLESS.map((c) => r.pick(PLAIN)(c))];
  let allowed = 0;
  let ran = 0;
  const crashes: string[] = [];
  const bypasses: string[] = [];
  const cases = 600 * SCALE;
  for (let i = 0; i < cases; i++) {
    const command = mutate(r, r.pick(seeds));
    const began = performance.now();
    const v = checkCommand(command, POLICY);
    const ms = performance.now() - began;
    if (ms > 1000) crashes.push(`${JSON.stringify(command)}: took ${ms.toFixed(0)} ms`);
    if (!v.allow && /guard error/.test(v.reason)) crashes.push(`${JSON.stringify(command)}: ${v.reason}`);
    if (!v.allow) continue;
    allowed++;
    if (!bash.available || !command.includes("git") || command.includes("\u0000")) continue;
    ran++;
    const blocked = bash.blockedCall(command);
    if (blocked) bypasses.push(`${JSON.stringify(command)} ran git ${blocked}`);
  }
  assert.deepEqual(crashes.slice(0, 10), [], `the guard crashed or hung (seed ${SEED + 2})`);
  assert.deepEqual(bypasses.slice(0, 10), [], `allowed by the guard, yet bash ran a blocked git call (seed ${SEED + 2})`);
  t.diagnostic(
    `guard mutation fuzz (seed ${SEED + 2}): ${cases} mutants, ${allowed} allowed, ${ran} of those run by bash with a fake git; no crash, no bypass`,
  );
});
