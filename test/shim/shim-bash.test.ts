// The git shim at exec time, driven by real bash: after the env file a bridged session's
// SessionStart wrote is sourced, every wrapper that ends in a PATH-resolved `git push/commit/reset`
// is stopped, whatever hides it from a parser; status, log and diff get through with their
// arguments, stdin, output, exit code and signals untouched.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { baseEnv, bash, calls, makeShimBox, REAL_GIT, sessionStart, shimDirOf, type ShimBox } from "./shim-box.ts";
import { BIN } from "../helpers/bin.ts";
import { rng, seedFromEnv } from "../helpers/prng.ts";
import { decide } from "../../src/git-shim.ts";
import { parseBlockGit } from "../../src/guard/check.ts";
import { RealGit } from "../../src/shim/real-git.ts";
import { resolveGit } from "../../src/shim/resolve.ts";

const REFUSED = 126;

function started(t: Parameters<typeof makeShimBox>[0], env: Record<string, string | undefined> = {}): ShimBox {
  const box = makeShimBox(t);
  const r = sessionStart(box, { env });
  assert.deepEqual({ code: r.code, stderr: r.stderr }, { code: 0, stderr: "" });
  return box;
}

/** Wrappers that exit 0 whatever their command did. */
const KEEPS_NO_STATUS = new Set(["sed e", "find -exec"]);

/** Ways to run a command line that a static reading of the Bash command cannot see into. */
function wrappers(box: ShimBox, cmd: string): Record<string, string> {
  const words = cmd.split(" ").slice(1).join(" ");
  writeFileSync(join(box.repo, "run.sh"), `${cmd}\n`);
  writeFileSync(join(box.repo, "Makefile"), `all:\n\t${cmd}\n`);
  return {
    direct: cmd,
    "pipe to bash": `echo '${cmd}' | bash`,
    "here-string": `bash <<< '${cmd}'`,
    "process substitution": `bash <(echo '${cmd}')`,
    "script file": "bash run.sh",
    "cat | sh": "cat run.sh | sh",
    make: "make -s",
    "awk system()": `awk 'BEGIN { exit system("${cmd}") }'`,
    "sed e": `echo '${cmd}' | sed e`,
    xargs: `echo ${words} | xargs git`,
    "find -exec": `find . -maxdepth 0 -exec ${cmd} ';'`,
    perl: `perl -e 'exit(system("${cmd}") >> 8)'`,
    python: `python3 -c 'import os, sys; sys.exit(os.waitstatus_to_exitcode(os.system("${cmd}")))'`,
    eval: `eval '${cmd}'`,
    "env -u BRIDGE_*": `env -u BRIDGE_PROJECT -u BRIDGE_ROLE ${cmd}`,
    "BRIDGE_BLOCK_GIT=": `BRIDGE_BLOCK_GIT=nothing ${cmd}`,
    timeout: `timeout 60 ${cmd}`,
    subshell: `(cd . && exec ${cmd})`,
  };
}

test("every wrapper that ends in git push, commit or reset is stopped by the shim", (t) => {
  const box = started(t);
  const leaks: string[] = [];
  for (const cmd of ["git push origin HEAD", "git commit --allow-empty -m x", "git reset --hard"]) {
    for (const [how, script] of Object.entries(wrappers(box, cmd))) {
      const r = bash(box, script);
      const sub = cmd.split(" ")[1]!;
      if (r.calls.some((c) => c.includes(`[${sub}]`))) leaks.push(`${how}: ${cmd} reached git (${r.calls.join(" ")})`);
      else if (!r.stderr.includes(`session-bridge git shim: \`git ${sub}\` is blocked in this bridged session`))
        leaks.push(`${how}: ${cmd}: no refusal on stderr (exit ${r.code}): ${r.stderr.slice(0, 300)}`);
      else if (r.code === 0 && !KEEPS_NO_STATUS.has(how)) leaks.push(`${how}: ${cmd}: exit 0 after a refusal`);
    }
  }
  assert.deepEqual(leaks, []);
  // Nothing was committed, and the shim's folder is the session's first `git`.
  assert.equal(spawnSync(REAL_GIT, ["rev-list", "--all"], { cwd: box.repo, encoding: "utf8" }).stdout, "");
  assert.equal(bash(box, "command -v git").stdout.trim(), join(shimDirOf(box.envFile), "git"));
});

test("status, log and diff get through every wrapper, arguments intact", (t) => {
  const box = started(t);
  const wrong: string[] = [];
  for (const cmd of ["git status --short", "git log --oneline -1", "git diff --stat"]) {
    for (const [how, script] of Object.entries(wrappers(box, cmd))) {
      const r = bash(box, script);
      const expected = `[${cmd.split(" ").slice(1).join("][")}]`;
      if (r.calls.at(-1) !== expected) wrong.push(`${how}: ${cmd}: git got ${JSON.stringify(r.calls)}; stderr ${r.stderr.slice(0, 200)}`);
      if (r.stderr.includes("session-bridge")) wrong.push(`${how}: ${cmd}: ${r.stderr.slice(0, 200)}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test("aliases are resolved wherever they are defined, and built-ins win over them", (t) => {
  const box = started(t);
  spawnSync(REAL_GIT, ["config", "alias.pu", "push"], { cwd: box.repo });
  spawnSync(REAL_GIT, ["config", "alias.st", "status -s"], { cwd: box.repo });
  writeFileSync(join(box.home, ".gitconfig"), "[alias]\n\tcm = commit -m x\n\tsh = !git reset --hard\n\tlg = !git log -1\n");
  const stopped = [
    "git pu",
    "git PU",
    "git cm",
    "git sh",
    "git -c alias.x=push x",
    "git -c alias.x=-c\\ alias.y=push\\ y x",
    "GIT_CONFIG_PARAMETERS=\"'alias.x=push'\" git x",
    "GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=alias.x GIT_CONFIG_VALUE_0=push git x",
    "git -c help.autocorrect=immediate pussh",
    "git --frob push",
  ];
  for (const cmd of stopped) {
    const r = bash(box, cmd);
    assert.equal(r.code, REFUSED, `${cmd}: ${r.stderr}`);
    assert.match(r.stderr, /^session-bridge git shim: /, cmd);
    assert.deepEqual(r.calls, [], cmd);
  }
  for (const [cmd, reached] of [
    ["git st", "[st]"],
    ["git -c alias.status=push status", "[-c][alias.status=push][status]"],
    ["git lg", "[lg]"],
    ["git push --help", "[push][--help]"],
  ] as const) {
    const r = bash(box, cmd, { env: { MANPAGER: "cat", PAGER: "cat" } });
    assert.equal(r.calls[0], reached, `${cmd}: ${r.stderr}`);
  }
});

test("stdin, stdout, exit codes and odd arguments pass through both paths unchanged", (t) => {
  const box = started(t);
  const hello = spawnSync(REAL_GIT, ["hash-object", "--stdin"], { input: "hello\n", encoding: "utf8" }).stdout;
  // The fast path execs git; the other asks session-bridge first, which must not read stdin.
  for (const cmd of ["git hash-object --stdin", "git -c alias.ho=hash-object ho --stdin"]) {
    const r = bash(box, cmd, { input: "hello\n" });
    assert.equal(r.stdout, hello, cmd);
  }
  for (const cmd of ["git rev-parse --verify no-such-ref", "git -c alias.rp=rev-parse rp --verify no-such-ref"]) {
    const r = bash(box, cmd);
    assert.equal(r.code, 128, `${cmd}: ${r.stderr}`);
    assert.match(r.stderr, /fatal: Needed a single revision/);
  }
  const odd = `git log --format='%s' -- '' 'a b' "$(printf 'c\\nd')" '*' '-x' "it's"`;
  // (The logger writes one line a call, so the argument holding a newline spans two.)
  assert.equal(bash(box, odd).calls.join("\n"), "[log][--format=%s][--][][a b][c\nd][*][-x][it's]");
  assert.deepEqual(bash(box, `git -c alias.l=log l -- '' 'a b'`).calls, ["[-c][alias.l=log][l][--][][a b]"]);
});

test("a signal reaches git itself: the shim execs it rather than waiting on it", async (t) => {
  const box = started(t);
  for (const cmd of ["exec git cat-file --batch", "exec git -c alias.cf=cat-file cf --batch"]) {
    const child = spawn("bash", ["-c", `. '${box.envFile}' && ${cmd}`], {
      cwd: box.repo,
      env: baseEnv(box),
      stdio: ["pipe", "pipe", "pipe"],
    });
    // git has started once it answers a request on stdin.
    const answered = new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    child.stdin.write("HEAD\n");
    await answered;
    const comm = readFileSync(`/proc/${child.pid}/comm`, "utf8").trim();
    assert.equal(comm, "git", `${cmd}: pid ${child.pid} is ${comm}, not git`);
    const ended = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
    child.kill("SIGTERM");
    assert.equal(await ended, "SIGTERM", cmd);
  }
});

test("the policy is the one SessionStart wrote: a command's own environment cannot change it", (t) => {
  const box = started(t, { BRIDGE_BLOCK_GIT: "push|rebase" });
  const r = bash(box, "git rebase --help >/dev/null; BRIDGE_BLOCK_GIT= NODE_OPTIONS=--require=/nonexistent.js git -c alias.r=rebase r");
  assert.equal(r.code, REFUSED, r.stderr);
  assert.match(r.stderr, /`git rebase` \(through the alias r\) is blocked.*matching \/\^\(\?:push\|rebase\)\$\//);
  // commit is not in this session's set.
  const c = bash(box, "git commit --allow-empty -q -m first");
  assert.equal(c.code, 0, c.stderr);
});

test("a BRIDGE_BLOCK_GIT that is not a regex makes every git call fail closed, saying why", (t) => {
  const box = started(t, { BRIDGE_BLOCK_GIT: "push(" });
  const r = bash(box, "git status");
  assert.equal(r.code, REFUSED);
  assert.match(r.stderr, /BRIDGE_BLOCK_GIT="push\(" is not a valid regular expression/);
  assert.deepEqual(r.calls, []);
});

test("PATH naming the shim twice, two shims in a row, and no real git: no loop, no escape", (t) => {
  const box = started(t);
  const shim = shimDirOf(box.envFile);
  const twice = bash(box, `PATH="${shim}:${box.realBin}:${shim}:$PATH" git status --short`);
  assert.equal(twice.code, 0, twice.stderr);
  assert.deepEqual(twice.calls, ["[status][--short]"]);
  // A second session's shim (another policy) in front of the first: both policies hold.
  const inner = makeShimBox(t);
  inner.path = `${shim}:${box.path}`;
  sessionStart(inner, { env: { BRIDGE_BLOCK_GIT: "status" } });
  const innerShim = shimDirOf(inner.envFile);
  const both = (cmd: string) => bash(box, `PATH="${innerShim}:${shim}:${innerShim}:${shim}:$PATH" ${cmd}`);
  assert.match(both("git status").stderr, /`git status` is blocked/);
  assert.match(both("git push").stderr, /`git push` is blocked/);
  assert.deepEqual(both("git log -1 --oneline").calls.slice(-1), ["[log][-1][--oneline]"]);
  const none = spawnSync(join(shim, "git"), ["status"], { env: { PATH: shim }, encoding: "utf8" });
  assert.equal(none.status, 127);
  assert.match(none.stderr, /no git on PATH after/);
});

test("a shim reached as git-<cmd> runs that built-in, or refuses it", (t) => {
  const box = started(t);
  const links = join(box.dir, "links");
  mkdirSync(links);
  for (const name of ["git-status", "git-push"]) symlinkSync(join(shimDirOf(box.envFile), "git"), join(links, name));
  const status = bash(box, `'${links}/git-status' --short`);
  assert.equal(status.code, 0, status.stderr);
  assert.deepEqual(status.calls, ["[status][--short]"]);
  const push = bash(box, `'${links}/git-push' origin`);
  assert.equal(push.code, REFUSED);
  assert.match(push.stderr, /`git push` is blocked/);
  assert.deepEqual(push.calls, []);
});

test("a shim whose session-bridge is gone refuses what it cannot check and still runs its fast path", (t) => {
  const box = makeShimBox(t);
  const copy = join(box.dir, "moved", "session-bridge.cjs");
  mkdirSync(join(box.dir, "moved"));
  copyFileSync(BIN, copy);
  chmodSync(copy, 0o755);
  assert.equal(sessionStart(box, { bin: copy }).code, 0);
  rmSync(copy);
  const r = bash(box, "git push");
  assert.equal(r.code, REFUSED);
  assert.match(r.stderr, /session-bridge\.cjs is gone \(moved or deleted\?\), so this git call cannot be checked and is refused/);
  assert.equal(bash(box, "git status --short").code, 0);
  assert.deepEqual(calls(box), ["[status][--short]"]);
});

test("the sh fast path runs only calls the full resolver allows (generated calls)", (t) => {
  const box = makeShimBox(t, { logOnly: true });
  // With its session-bridge gone, the shim refuses every call off its fast path: what still runs took it.
  const copy = join(box.dir, "gone", "session-bridge.cjs");
  mkdirSync(join(box.dir, "gone"));
  copyFileSync(BIN, copy);
  assert.equal(sessionStart(box, { bin: copy }).code, 0);
  rmSync(copy);
  const options = [
    ["-C", "."],
    ["-C", ""],
    ["-c", "alias.status=push"],
    ["-c", "push"],
    ["--git-dir=.git"],
    ["--git-dir", ".git"],
    ["--work-tree=."],
    ["--no-pager"],
    ["-P"],
    ["-p"],
    ["--bare"],
    ["--exec-path=/nonexistent"],
    ["--exec-path"],
    ["--namespace", "push"],
    ["--shallow-file", "commit"],
    ["--config-env", "a.b=HOME"],
    ["--frob"],
    ["--literal-pathspecs"],
    ["--list-cmds=builtins"],
    // Without their value: the next word (perhaps the would-be subcommand) is it.
    ["-c"],
    ["-C"],
    ["--namespace"],
    ["--git-dir"],
  ];
  const subcommands = [
    "status",
    "push",
    "commit",
    "reset",
    "log",
    "help",
    "--help",
    "-h",
    "--version",
    "-v",
    "st",
    "",
    "-",
    "PUSH",
    "stash",
  ];
  const tails = [[], ["--help"], ["-h"], ["push"], ["--", "x"], ["--help", "push"]];
  const r = rng(seedFromEnv(16_016));
  const resolver = new RealGit(REAL_GIT, baseEnv(box), box.repo);
  const policy = () => ({ blockGit: parseBlockGit(undefined), denyPatterns: [], protectSettings: true });
  const wrong: string[] = [];
  let ran = 0;
  for (let i = 0; i < 150; i++) {
    const args = [
      ...Array.from({ length: r.int(0, 3) }, () => r.pick(options)).flat(),
      ...(r.chance(0.9) ? [r.pick(subcommands)] : []),
      ...r.pick(tails),
    ];
    const line = ["git", ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
    if (bash(box, line).calls.length === 0) continue;
    ran++;
    const resolution = resolveGit("git", args, resolver);
    if (resolution.kind !== "builtin" || !decide(resolution, policy).allow)
      wrong.push(`${line} took the fast path, but resolves to ${JSON.stringify(resolution)} (seed ${r.seed})`);
  }
  assert.deepEqual(wrong, []);
  assert.ok(ran > 20, `only ${ran} generated calls took the fast path: the generator lost its point`);
});
