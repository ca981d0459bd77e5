// What `session-bridge git-shim` answers for a resolved call (src/git-shim.ts decide), and how the
// command itself fails on bad arguments.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { decide } from "../../src/git-shim.ts";
import { parseBlockGit, type GuardPolicy } from "../../src/guard/check.ts";
import type { Resolution } from "../../src/shim/resolve.ts";
import { BIN } from "../helpers/bin.ts";
import { REAL_GIT } from "./shim-box.ts";

const policy =
  (block?: string): (() => GuardPolicy) =>
  () => ({ blockGit: parseBlockGit(block), denyPatterns: ["kubectl apply"], protectSettings: true });
const verdict = (r: Resolution, block?: string) => decide(r, policy(block));
const reason = (r: Resolution, block?: string) => {
  const d = verdict(r, block);
  assert.equal(d.allow, false, JSON.stringify(r));
  return (d as { reason: string }).reason;
};

test("a blocked built-in or external is refused, naming it, the alias it came through and the set", () => {
  assert.deepEqual(verdict({ kind: "builtin", name: "status", aliases: [] }), { allow: true });
  assert.match(
    reason({ kind: "builtin", name: "push", aliases: ["p", "pp"] }),
    /^session-bridge git shim: `git push` \(through the alias p → pp\) is blocked in this bridged session\. .*matching \/\^\(commit\|push\|reset\)\$\/.*a human can run it in a terminal/,
  );
  assert.match(reason({ kind: "external", name: "lfs", path: "/x/git-lfs", aliases: [] }, "lfs|push"), /`git lfs` is blocked/);
  assert.deepEqual(verdict({ kind: "external", name: "lfs", path: "/x/git-lfs", aliases: [] }), { allow: true });
});

test("an alias whose own name is in the block set is refused whatever it expands to", () => {
  assert.match(reason({ kind: "builtin", name: "status", aliases: ["publish"] }, "publish"), /`git publish` is blocked in/);
  assert.match(
    reason({ kind: "builtin", name: "status", aliases: ["p", "publish"] }, "publish"),
    /`git publish` \(through the alias p\) is blocked/,
  );
});

test("a shell alias is judged by the guard on the text sh will run", () => {
  const shell = (text: string, args: string[] = []): Resolution => ({ kind: "shell-alias", name: "x", text, args, aliases: ["x"] });
  assert.deepEqual(verdict(shell("git log -1")), { allow: true });
  assert.deepEqual(verdict(shell("echo hi", ["a"])), { allow: true });
  assert.match(
    reason(shell("git fetch && git push")),
    /the alias `x` runs `git fetch && git push` through sh, and the guard refuses that: session-bridge guard: `git push`/,
  );
  assert.match(reason(shell("kubectl apply -f x")), /kubectl apply/);
  // With arguments sh gets `text "$@"`: a git whose subcommand comes from them cannot be judged.
  assert.equal(verdict(shell("git", ["push"])).allow, false);
});

test("calls the shim cannot place are refused; calls that run nothing are allowed", () => {
  assert.match(
    reason({ kind: "unknown-option", option: "--frob", aliases: [] }),
    /"--frob" is not a git option the shim knows.*fails closed/,
  );
  assert.match(
    reason({ kind: "autocorrect", name: "pussh", setting: "1", aliases: [] }),
    /help\.autocorrect=1 would make git run its best guess/,
  );
  assert.deepEqual(verdict({ kind: "none", why: "x", aliases: [] }), { allow: true });
});

test("git-shim: --explain shows the resolution; bad arguments are usage errors", () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, "git-shim", ...args], { encoding: "utf8", env: { PATH: process.env.PATH } });
  const explained = run("--explain", "--", REAL_GIT, "git", "-c", "alias.x=push", "x");
  assert.equal(explained.status, 0, explained.stderr);
  const out = JSON.parse(explained.stdout);
  assert.deepEqual(out.resolution, { kind: "builtin", name: "push", aliases: ["x"] });
  assert.equal(out.decision.allow, false);
  const refused = run("--", REAL_GIT, "git", "push");
  assert.equal(refused.status, 126);
  assert.equal(refused.stdout, "");
  assert.match(refused.stderr, /`git push` is blocked/);
  assert.equal(run("--", REAL_GIT, "git", "status").status, 0);
  for (const [args, why] of [
    [["--", REAL_GIT], /needs -- REAL_GIT ARGV0/],
    [[REAL_GIT, "git"], /needs -- before REAL_GIT ARGV0/],
    [["--frob", "--", REAL_GIT, "git"], /unknown option "--frob"/],
    [["--block-git"], /--block-git needs a value/],
  ] as const) {
    const r = run(...args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, why);
  }
  assert.match(run("--help").stdout, /^usage: session-bridge git-shim/);
  // A git that cannot be run is refused, not waved through.
  const broken = run("--", "/nonexistent/git", "git", "x");
  assert.equal(broken.status, 126);
  assert.match(broken.stderr, /could not list its built-in commands/);
});
