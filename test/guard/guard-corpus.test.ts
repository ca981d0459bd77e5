// A generated corpus: wrappers × containers × separators × quoting × git options × subcommand.
// Every command that runs a blocked git subcommand must be denied; its twins (the same command
// with `echo` in front of git, or a harmless subcommand) must be allowed. Where bash is
// available, each command is also run for real with a fake git that logs its arguments, so
// the expectations are checked against bash itself, not only against the generator.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkCommand, DEFAULT_BLOCK_GIT, type GuardPolicy } from "../../src/guard/check.ts";

const POLICY: GuardPolicy = { blockGit: DEFAULT_BLOCK_GIT, denyPatterns: [], protectSettings: true };

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sq = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
const dq = (s: string) => `"${s.replace(/[\\"$`]/g, "\\$&")}"`;
const bt = (s: string) => s.replace(/[\\`$]/g, "\\$&");

// [source text, runs a real program (false: /usr/bin/git, which the fake cannot stand in for)]
const PROGRAMS: [string, boolean][] = [
  ["git", true],
  ['"git"', true],
  ["'git'", true],
  ["g\\it", true],
  ["$'git'", true],
  ["gi''t", true],
  ["./git", true],
  ['"$PWD"/git', true],
  ["/usr/bin/git", false],
];
const GIT_OPTIONS = [
  "",
  "-C .",
  "-c user.name=x",
  "--git-dir=.git",
  "--git-dir .git",
  "--work-tree=.",
  "--no-pager",
  "-p",
  "--bare",
  "-c core.pager=cat --no-pager",
  "--namespace=n",
  "-C 'a dir'",
];
// [source text, the subcommand bash passes to git]
const BLOCKED: [string, string][] = [
  ["commit", "commit"],
  ['"commit"', "commit"],
  ["'push'", "push"],
  ["pu\\sh", "push"],
  ["re''set", "reset"],
  ["$'\\x70ush'", "push"],
  ["reset", "reset"],
  ["push", "push"],
  ["co{m,}mit", "commit"],
];
const ARGS = ["", "-m 'msg'", "--hard HEAD~1", "origin main", "--force", "-- file"];
const HARMLESS = ["stash push", "commit-tree HEAD^{tree}", "log --grep=push", "status", "show HEAD:commit.txt", "checkout -b push"];
const WRAPPERS = [
  "",
  "sudo ",
  "env ",
  "env A=1 ",
  "A=1 B=2 ",
  "nohup ",
  "time ",
  "timeout 5 ",
  "nice -n 5 ",
  "command ",
  "exec ",
  "stdbuf -oL ",
];
const CONTAINERS: ((c: string) => string)[] = [
  (c) => c,
  (c) => `bash -c ${sq(c)}`,
  // dash (sh on Debian) has no $'…': bash stands in there; the guard treats every sh as bash.
  (c) => `${c.includes("$'") ? "bash" : "sh"} -c ${dq(c)}`,
  (c) => `echo "$(${c})"`,
  (c) => `echo $(${c})`,
  (c) => `echo \`${bt(c)}\``,
  (c) => `(${c})`,
  (c) => `{ ${c}; }`,
  (c) => `if true; then ${c}; fi`,
  (c) => `for i in 1; do ${c}; done`,
  (c) => `f() { ${c}; }; f`,
  (c) => `eval ${sq(c)}`,
  (c) => `bash <<'EOF'\n${c}\nEOF`,
  (c) => `cat <<EOF\n$(${c})\nEOF`,
  (c) => `diff <(${c}) /dev/null`,
];
const SEPARATORS: ((c: string) => string)[] = [
  (c) => c,
  (c) => `true; ${c}`,
  (c) => `true && ${c}`,
  (c) => `false || ${c}`,
  (c) => `echo | ${c}`,
  (c) => `${c} | cat`,
  (c) => `true\n${c}`,
  (c) => `${c} & wait`,
  (c) => `${c} 2>&1 >/dev/null`,
];

interface Case {
  command: string;
  /** The blocked subcommand it runs, or null for a twin that runs none. */
  runs: string | null;
  /** Whether a fake git on PATH/in the cwd sees the call (not for /usr/bin/git or sudo). */
  oracle: boolean;
}

function generate(count: number, seed: number): Case[] {
  const r = mulberry32(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const cases: Case[] = [];
  for (let n = 0; n < count; n++) {
    const [prog, real] = pick(PROGRAMS);
    const opts = pick(GIT_OPTIONS);
    const [sub, runs] = pick(BLOCKED);
    const args = pick(ARGS);
    const wrapper = pick(WRAPPERS);
    const contain = pick(CONTAINERS);
    const separate = pick(SEPARATORS);
    const oracle = real && !wrapper.startsWith("sudo");
    const compose = (simple: string) => separate(contain(wrapper + simple.replace(/ +/g, " ").trim()));
    cases.push({ command: compose(`${prog} ${opts} ${sub} ${args}`), runs, oracle });
    cases.push({ command: compose(`echo ${prog} ${opts} ${sub} ${args}`), runs: null, oracle });
    cases.push({ command: compose(`${prog} ${opts} ${pick(HARMLESS)}`), runs: null, oracle });
  }
  return cases;
}

const CORPUS = generate(150, 20240611);

test("generated corpus: blocked subcommands in executable position are denied, twins allowed", () => {
  assert.ok(CORPUS.length >= 300);
  const wrong: string[] = [];
  for (const c of CORPUS) {
    const v = checkCommand(c.command, POLICY);
    const got = v.allow ? "allow" : `${v.rule}: ${v.blocked}`;
    const want = c.runs ? `git: git ${c.runs}` : "allow";
    if (got !== want) wrong.push(`${JSON.stringify(c.command)}: want ${want}, got ${got}`);
  }
  assert.deepEqual(wrong, []);
});

test("generated corpus: bash itself runs exactly the blocked calls the corpus expects", (t) => {
  if (spawnSync("bash", ["-c", "true"]).status !== 0) return t.skip("bash is not available");
  const dir = mkdtempSync(join(tmpdir(), "guard-corpus-"));
  try {
    const bin = join(dir, "bin");
    const cwd = join(dir, "work");
    mkdirSync(bin);
    mkdirSync(join(cwd, "a dir"), { recursive: true });
    const log = join(dir, "git.log");
    // The fake git logs one line per call: its arguments separated by \x1f.
    const fake = `#!/bin/sh\n(IFS=$(printf '\\037'); printf '%s\\n' "$*") >> "$GITLOG"\n`;
    for (const path of [join(bin, "git"), join(cwd, "git")]) {
      writeFileSync(path, fake);
      chmodSync(path, 0o755);
    }
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}`, GITLOG: log };
    const wrong: string[] = [];
    for (const c of CORPUS.filter((x) => x.oracle)) {
      writeFileSync(log, "");
      const r = spawnSync("bash", ["-c", c.command], { cwd, env, encoding: "utf8", timeout: 10_000 });
      if (/syntax error|unexpected/.test(r.stderr)) wrong.push(`${JSON.stringify(c.command)}: bash: ${r.stderr.trim()}`);
      const subs = readFileSync(log, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => gitSubcommand(line.split("\x1f")));
      const ran = subs.find((s) => DEFAULT_BLOCK_GIT.test(s)) ?? null;
      if (ran !== c.runs)
        wrong.push(`${JSON.stringify(c.command)}: expected ${c.runs ?? "no blocked call"}, bash ran ${JSON.stringify(subs)}`);
    }
    assert.deepEqual(wrong, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The subcommand of a git argv, for the options the generator uses (an independent, simple reading). */
function gitSubcommand(argv: string[]): string {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "-C" || a === "-c" || a === "--git-dir") i++;
    else if (!a.startsWith("-")) return a;
  }
  return "";
}

test("the generator is deterministic and varied", () => {
  assert.deepEqual(generate(5, 7), generate(5, 7));
  const distinct = new Set(CORPUS.map((c) => c.command));
  assert.ok(distinct.size > CORPUS.length * 0.9, `only ${distinct.size} distinct commands`);
  assert.ok(CORPUS.some((c) => c.command.includes("bash <<'EOF'")));
  assert.ok(CORPUS.some((c) => c.command.includes("$'\\x70ush'")));
});
