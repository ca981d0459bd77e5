// The shim's resolution of a git call (src/shim/resolve.ts over src/shim/real-git.ts) against
// git itself: every case runs the real git in a private sandbox (its own HOME, global and repo
// config, no system config) with GIT_TRACE on, fake externals and `!` aliases that log, and what
// git really ran — a built-in (the first "trace: built-in:" line), an external, a shell alias, or
// nothing — must be what the shim resolved. Where the shim knowingly answers otherwise (stricter:
// an option it does not know, an autocorrected typo; or reading past an error git dies on) the
// case says so.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RealGit } from "../../src/shim/real-git.ts";
import { resolveGit, type Resolution } from "../../src/shim/resolve.ts";

const GIT = ["/usr/bin/git", "/bin/git", "/usr/local/bin/git"].find((g) => existsSync(g))!;

interface Box {
  dir: string;
  repo: string;
  log: string;
  trace: string;
  exec: string;
  env: Record<string, string>;
}

function makeBox(): Box {
  const dir = mkdtempSync(join(tmpdir(), "sb-shim-resolve-"));
  const home = join(dir, "home");
  const bin = join(dir, "bin");
  const exec = join(dir, "exec");
  const repo = join(dir, "repo");
  const repo2 = join(dir, "repo2");
  const log = join(dir, "ran.log");
  for (const d of [home, bin, exec]) mkdirSync(d);
  const env: Record<string, string> = {
    PATH: `${bin}:/usr/bin:/bin`,
    HOME: home,
    LANG: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_EDITOR: "true",
    PAGER: "cat",
    GIT_PAGER: "cat",
    MANPAGER: "cat",
    GIT_TERMINAL_PROMPT: "0",
  };
  const fake = (file: string, name: string) => {
    writeFileSync(file, `#!/bin/sh\nprintf 'EXT ${name}\\n' >> '${log}'\n`);
    chmodSync(file, 0o755);
  };
  fake(join(bin, "git-ext"), "ext");
  fake(join(exec, "git-ext2"), "ext2");
  const shell = (name: string) => `!printf 'SHELL ${name}\\\\n' >> '${log}'`;
  writeFileSync(join(home, ".gitconfig"), `[alias]\n\tlg = log -1\n\tgl = "${shell("gl")}"\n`);
  for (const r of [repo, repo2]) spawnSync(GIT, ["init", "-q", r], { env });
  // A repo alias named like an external: the external wins.
  spawnSync(GIT, ["config", "alias.rl", "status -s"], { cwd: repo, env });
  spawnSync(GIT, ["config", "alias.ext", "status"], { cwd: repo, env });
  spawnSync(GIT, ["config", "alias.r2", "log"], { cwd: repo2, env });
  return { dir, repo, log, trace: join(dir, "trace"), exec, env };
}

interface Call {
  args: string[];
  argv0?: string;
  env?: Record<string, string>;
}

/** What the real git ran for this call. */
function observe(box: Box, call: Call): string {
  rmSync(box.trace, { force: true });
  rmSync(box.log, { force: true });
  spawnSync(GIT, call.args, {
    cwd: box.repo,
    env: { ...box.env, ...call.env, GIT_TRACE: box.trace },
    ...(call.argv0 !== undefined && { argv0: call.argv0 }),
    input: "",
    timeout: 60_000,
  });
  const ran = existsSync(box.log) ? readFileSync(box.log, "utf8").trim().split("\n")[0]! : "";
  if (ran.startsWith("EXT ")) return `external:${ran.slice(4)}`;
  if (ran.startsWith("SHELL ")) return `shell:${ran.slice(6)}`;
  const trace = existsSync(box.trace) ? readFileSync(box.trace, "utf8") : "";
  const builtin = /trace: built-in: git (\S+)/.exec(trace);
  return builtin ? `builtin:${builtin[1]}` : "none";
}

function show(r: Resolution): string {
  switch (r.kind) {
    case "builtin":
    case "external":
      return `${r.kind}:${r.name}`;
    case "shell-alias":
      return `shell:${r.name}`;
    case "none":
      return "none";
    case "unknown-option":
    case "autocorrect":
      return "refused";
  }
}

function ours(box: Box, call: Call): string {
  const world = new RealGit(GIT, { ...box.env, ...call.env }, box.repo);
  return show(resolveGit(call.argv0 ?? "git", call.args, world));
}

interface Case extends Call {
  /**
   * Where the shim knowingly answers otherwise: stricter than git (it refuses), or following a call
   * git would die on to the subcommand it names (so that is what the policy judges).
   */
  differs?: { git: string; shim: string; why: string };
}

const c = (args: string[], more: Omit<Case, "args"> = {}): Case => ({ args, ...more });

function cases(box: Box): Case[] {
  return [
    // Built-ins, behind every kind of global option.
    c(["status"]),
    c(["-C", box.repo, "status"]),
    c(["-C", "", "status"]),
    c(["-c", "a.b=c", "status"]),
    c(["--no-pager", "log", "-1"]),
    c(["-P", "log", "-1"]),
    c(["-p", "log", "-1"]),
    c(["--git-dir=.git", "status"]),
    c(["--git-dir", ".git", "--work-tree", ".", "status"]),
    c(["--namespace=x", "--literal-pathspecs", "--no-optional-locks", "--no-replace-objects", "status"]),
    c(["--glob-pathspecs", "--icase-pathspecs", "--no-literal-pathspecs", "--noglob-pathspecs", "status"]),
    c(["--shallow-file", "x", "status"]),
    c(["--exec-path=/nonexistent", "status"]),
    // --help / --version in every place git reads them.
    c(["--help"]),
    c(["-h"]),
    c(["--version"]),
    c(["-v"]),
    c(["-P", "--help", "push"]),
    c(["status", "--help"]),
    c(["push", "--help"]),
    c(["lg", "--help"]),
    c(["no-such-command", "--help"]),
    // Nothing runs.
    c([]),
    c(["--exec-path"]),
    c(["--html-path"]),
    c(["--list-cmds=builtins"]),
    c(["-C"]),
    c(["no-such-command"]),
    c(["-c", "help.autocorrect=0", "statsu"]),
    // Aliases from every source git reads.
    c(["-c", "alias.s=status", "s"]),
    c(["lg"]),
    c(["LG"]),
    c(["rl"]),
    c(["-C", join(box.dir, "repo2"), "r2"]),
    c(["cc"], { env: { GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "alias.cc", GIT_CONFIG_VALUE_0: "status" } }),
    c(["pp"], { env: { GIT_CONFIG_PARAMETERS: "'alias.pp=status'" } }),
    c(["--config-env=alias.ce=CE_VALUE", "ce"], { env: { CE_VALUE: "log" } }),
    // GIT_CONFIG points `git config` at one file; git's own start-up ignores it: so must the shim.
    c(["lg"], { env: { GIT_CONFIG: "/dev/null" } }),
    // Expansion: chains, loops, self-reference, options inside aliases, quoting, failures.
    c(["-c", "alias.a=b", "-c", "alias.b=status", "a"]),
    c(["-c", "alias.a=b", "-c", "alias.b=a", "a"]),
    c(["-c", "alias.x=x", "x"]),
    c(["-c", "alias.status=push", "status"]),
    c(["-c", "alias.y=-c alias.z=status z", "y"]),
    c(["-c", "alias.q='st'at\"us\"", "q"]),
    c(["-c", "alias.hh=log --help", "hh"]),
    c(["-c", "alias.u=no-such-command", "u"]),
    c(["-c", "alias.em=", "em"]),
    c(["-c", "alias.bad=status\\", "bad"]),
    c(["-c", "alias.sp= status", "sp"]),
    c(["-c", "alias.e1=-C /tmp status", "e1"], {
      differs: {
        git: "none",
        shim: "builtin:status",
        why: "git dies on an alias that changes the environment; the shim follows it anyway",
      },
    }),
    c(["-c", "push", "status"], {
      differs: { git: "none", shim: "builtin:status", why: "git dies on a -c without '='; the shim reads on to the subcommand" },
    }),
    // Externals: on PATH, on the exec path, over an alias of the same name, reached by an alias.
    c(["ext"]),
    c(["--exec-path=EXEC", "ext2"]),
    c(["-c", "alias.xe=ext", "xe"]),
    c(["-c", "alias.xh=ext --help", "xh"]),
    // Shell aliases.
    c(["gl", "a", "b"]),
    c(["-c", `alias.sh2=!printf 'SHELL sh2\\n' >> '${box.log}'`, "sh2"]),
    // The program name: git-<cmd> runs that built-in, or nothing.
    c([], { argv0: "git-status" }),
    c(["--help"], { argv0: "git-log" }),
    c([], { argv0: "git-no-such-command" }),
    c([], { argv0: "/some/dir/git-status" }),
    // Where the shim is stricter than git.
    c(["--frob", "status"], { differs: { git: "none", shim: "refused", why: "an option this table does not know" } }),
    c(["-c", "help.autocorrect=immediate", "statsu"], {
      differs: { git: "builtin:status", shim: "refused", why: "git runs its guess for a typo" },
    }),
  ];
}

test("the shim resolves every call to what git itself runs", (t) => {
  const box = makeBox();
  t.after(() => rmSync(box.dir, { recursive: true, force: true }));
  const wrong: string[] = [];
  for (const raw of cases(box)) {
    const call = { ...raw, args: raw.args.map((a) => (a === "--exec-path=EXEC" ? `--exec-path=${box.exec}` : a)) };
    const git = observe(box, call);
    const shim = ours(box, call);
    const label = `${call.argv0 ?? "git"} ${JSON.stringify(call.args)}${call.env ? ` env ${JSON.stringify(call.env)}` : ""}`;
    if (call.differs) {
      if (git !== call.differs.git || shim !== call.differs.shim)
        wrong.push(`${label}: git ${git}, shim ${shim}; expected git ${call.differs.git}, shim ${call.differs.shim} (${call.differs.why})`);
    } else if (git !== shim) wrong.push(`${label}: git ran ${git}, the shim resolved ${shim}`);
  }
  assert.deepEqual(wrong, []);
});

test("a configuration git cannot read makes the shim refuse (git would fail too)", (t) => {
  const box = makeBox();
  t.after(() => rmSync(box.dir, { recursive: true, force: true }));
  writeFileSync(join(box.repo, ".git", "config"), "[alias\n");
  const world = new RealGit(GIT, box.env, box.repo);
  assert.throws(() => resolveGit("git", ["lg"], world), /could not read its configuration.*refused/s);
  // A built-in needs no configuration: it still resolves.
  assert.equal(show(resolveGit("git", ["status"], world)), "builtin:status");
});
