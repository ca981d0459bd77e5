// How the shim gets in and out of a session: `hook recv` at SessionStart writes it and the env
// file (bridged), empties our env file (unbridged), follows `claude -p --continue`'s second folder,
// and fails softly; doctor says whether a shell has it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { spawnSync } from "node:child_process";
import { checkGitShim } from "../../src/install/doctor.ts";
import { baseEnv, makeShimBox, SESSION, sessionStart, shimDirOf } from "./shim-box.ts";
import { events, runHookSync } from "../helpers/hooks.ts";

const MARK = "# session-bridge git shim";

test("SessionStart of a bridged session writes a private shim and puts its folder first on PATH", (t) => {
  const box = makeShimBox(t);
  const r = sessionStart(box);
  assert.deepEqual(r, { code: 0, stdout: "", stderr: "" });
  const text = readFileSync(box.envFile, "utf8");
  assert.ok(text.startsWith(MARK), text);
  const dir = shimDirOf(box.envFile);
  assert.equal(dirname(dir), join(box.root, "shim"));
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(statSync(join(dir, "git")).mode & 0o777, 0o700);
  assert.equal(readFileSync(join(dir, "git"), "utf8").split("\n")[1]!.startsWith(MARK), true);
  // Claude Code joins the session's scripts to the command with &&: ours must end in success.
  const ok = spawnSync("bash", ["-c", `. '${box.envFile}' && echo ran && command -v git`], { env: baseEnv(box), encoding: "utf8" });
  assert.equal(ok.stdout, `ran\n${join(dir, "git")}\n`);
  // Every SessionStart rewrites the env file; the same policy keeps the same shim, untouched.
  const before = statSync(join(dir, "git")).mtimeMs;
  writeFileSync(box.envFile, "");
  assert.equal(sessionStart(box).code, 0);
  assert.equal(shimDirOf(box.envFile), dir);
  assert.equal(statSync(join(dir, "git")).mtimeMs, before);
  // Another policy gets a shim of its own, leaving the first to the sessions using it.
  sessionStart(box, { env: { BRIDGE_BLOCK_GIT: "push" } });
  assert.notEqual(shimDirOf(box.envFile), dir);
  assert.equal(readdirSync(join(box.root, "shim")).length, 2);
});

test("in claude -p --continue the session's own folder gets the same lines", (t) => {
  const box = makeShimBox(t);
  const fresh = join(dirname(dirname(box.envFile)), "0a1b2c3d-fresh", "sessionstart-hook-0.sh");
  mkdirSync(dirname(fresh));
  assert.equal(sessionStart(box, { envFile: fresh, sessionId: SESSION }).code, 0);
  assert.equal(readFileSync(fresh, "utf8"), readFileSync(box.envFile, "utf8"));
  // A session id that is not a plain name is never a path.
  const odd = join(dirname(dirname(box.envFile)), "odd", "sessionstart-hook-0.sh");
  mkdirSync(dirname(odd));
  assert.equal(sessionStart(box, { envFile: odd, sessionId: "../../escape" }).code, 0);
  assert.equal(existsSync(join(box.dir, "config", "escape")), false);
  assert.equal(existsSync(join(dirname(box.dir), "escape")), false);
});

test("an unbridged SessionStart empties our env file (and the continued session's), and nothing else", (t) => {
  const box = makeShimBox(t);
  sessionStart(box);
  const sibling = join(dirname(dirname(box.envFile)), "other-session", "sessionstart-hook-0.sh");
  const unbridged = { BRIDGE_PROJECT: undefined, BRIDGE_ROLE: undefined };
  const r = sessionStart(box, { env: unbridged, envFile: sibling, sessionId: SESSION });
  assert.deepEqual(r, { code: 0, stdout: "", stderr: "" });
  assert.equal(readFileSync(box.envFile, "utf8"), "");
  assert.equal(existsSync(sibling), false);
  const foreign = "export FOO=bar\n";
  writeFileSync(box.envFile, foreign);
  sessionStart(box, { env: unbridged });
  assert.equal(readFileSync(box.envFile, "utf8"), foreign);
  const plain = spawnSync("bash", ["-c", `. '${box.envFile}' && command -v git`], { env: baseEnv(box, unbridged), encoding: "utf8" });
  assert.equal(plain.stdout.trim(), join(box.realBin, "git"));
});

test("only SessionStart installs it: a prompt, or a SessionStart without CLAUDE_ENV_FILE, writes nothing", (t) => {
  const box = makeShimBox(t);
  const env = baseEnv(box, { CLAUDE_PID: String(process.pid) });
  assert.equal(runHookSync("recv", env, events.prompt("hi")).code, 0);
  assert.equal(runHookSync("recv", env, events.sessionStart()).code, 0);
  assert.equal(existsSync(join(box.root, "shim")), false);
});

test("a shim that cannot be written leaves a note on stderr, exit 0, and the env file alone", (t) => {
  const box = makeShimBox(t);
  mkdirSync(box.root, { mode: 0o700 });
  writeFileSync(join(box.root, "shim"), "a file where the folder goes");
  const r = sessionStart(box);
  assert.equal(r.code, 0);
  assert.match(
    r.stderr,
    /session-bridge hook recv: could not put the git shim in place \(.*shim.*\); this session's Bash commands run git unchecked/,
  );
  assert.equal(existsSync(box.envFile), false);
});

test("doctor tells whether this shell's git is the shim", (t) => {
  const box = makeShimBox(t);
  const session = { CLAUDECODE: "1", BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "web" };
  const missing = checkGitShim({ PATH: box.path, ...session });
  assert.equal(missing.level, "warn");
  assert.match(missing.detail, /not in place: this is a bridged Claude Code session, but its first git on PATH is .*realbin\/git/);
  assert.equal(checkGitShim({ PATH: box.path }).level, "info");
  sessionStart(box);
  const dir = shimDirOf(box.envFile);
  const inPlace = checkGitShim({ PATH: `${dir}:${box.path}`, ...session });
  assert.equal(inPlace.level, "ok", inPlace.detail);
  assert.match(inPlace.detail, /in front of .*realbin\/git\. Refuses git subcommands matching \/\^\(commit\|push\|reset\)\$\//);
  assert.equal(checkGitShim({ PATH: dir, ...session }).level, "fail");
  // A shim whose session-bridge moved away.
  const shim = join(dir, "git");
  chmodSync(shim, 0o700);
  writeFileSync(shim, readFileSync(shim, "utf8").replace(/if \[ ! -f '[^']+' \]/, "if [ ! -f '/nonexistent/session-bridge' ]"));
  const gone = checkGitShim({ PATH: `${dir}:${box.path}`, ...session });
  assert.equal(gone.level, "fail");
  assert.match(gone.detail, /asks \/nonexistent\/session-bridge, which does not exist/);
});
