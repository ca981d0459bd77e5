// The answers to a mistyped command line (issue 15 item 10): one line naming what is wrong, the
// argument from the usage, the command meant; exit 2 on stderr like every usage error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { bridge, makeRoot } from "../helpers/cli.ts";

const shop = (root: string, role: string) => ({ root, project: "shop", role });

/** A usage error: exit 2, nothing on stdout, and the first line of stderr. */
function usageError(r: { status: number | null; stdout: string; stderr: string }): string {
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stdout, "");
  return r.stderr.split("\n")[0]!;
}

test("a mistyped command is named with the command meant, on one line, not the whole usage", (t) => {
  const root = makeRoot(t);
  const typo = bridge(["sned", "web", "hi"], { root });
  assert.equal(usageError(typo), 'session-bridge: unknown command "sned" — did you mean send? (session-bridge --help says what each does)');
  assert.equal(typo.stderr.split("\n").length, 2, typo.stderr); // one line and its newline
  assert.match(usageError(bridge(["stauts"], { root })), /unknown command "stauts" — did you mean status\?/);
  // Nothing close (or two equally close): the commands are listed, still on one line.
  const far = bridge(["frobnicate"], { root });
  assert.match(usageError(far), /^session-bridge: unknown command "frobnicate"; the commands: mcp, install, .*send, recv, .*dashboard \(/);
  assert.equal(far.stderr.split("\n").length, 2, far.stderr);
  // A one-letter word is not "close" to a two-letter command it shares nothing with.
  assert.match(
    usageError(bridge(["spawner", "x"], { root })),
    /unknown spawner command "x"; the commands: on, off, set, config, status, run/,
  );
  assert.match(usageError(bridge(["spawner", "sttaus"], { root })), /unknown spawner command "sttaus" — did you mean status\?/);
});

test("a missing argument is named from the usage, not counted", (t) => {
  const root = makeRoot(t);
  const send = bridge(["send", "frontend"], shop(root, "web"));
  assert.equal(usageError(send), 'session-bridge send: E_USAGE: missing BODY (after TO "frontend")');
  assert.match(send.stderr, /\nusage: session-bridge send TO BODY/);
  assert.equal(usageError(bridge(["send"], shop(root, "web"))), "session-bridge send: E_USAGE: missing TO and BODY");
  assert.equal(usageError(bridge(["status"], shop(root, "web"))), "session-bridge status: E_USAGE: missing ID");
  assert.equal(
    usageError(bridge(["spawner", "set", "shop"], { root })),
    'session-bridge spawner set: E_USAGE: missing ROLE and KEY=VALUE (after PROJECT "shop")',
  );
  assert.equal(usageError(bridge(["recv", "now"], shop(root, "web"))), 'session-bridge recv: E_USAGE: recv takes no arguments (got "now")');
  assert.equal(
    usageError(bridge(["spawner", "status", "shop"], { root })),
    'session-bridge spawner status: E_USAGE: spawner status takes no arguments (got "shop")',
  );
  assert.equal(
    usageError(bridge(["tail", "5", "6"], shop(root, "web"))),
    'session-bridge tail: E_USAGE: too many arguments: tail takes [N], and "6" is extra; quote an argument with spaces',
  );
});

test("an unknown option talks about a body only where there is one, and names the option meant", (t) => {
  const root = makeRoot(t);
  const roles = bridge(["roles", "--role", "x"], shop(root, "web"));
  assert.equal(usageError(roles), 'session-bridge roles: E_USAGE: unknown option "--role" (known: --help, --json, --project)');
  assert.doesNotMatch(roles.stderr, /body/i);
  assert.doesNotMatch(usageError(bridge(["status", "m1", "--role", "x"], shop(root, "web"))), /body/i);
  assert.equal(
    usageError(bridge(["send", "api", "hi", "--jsn"], shop(root, "web"))),
    'session-bridge send: E_USAGE: unknown option "--jsn" — did you mean --json? (known: --help, --json, --project, --role, --queue, --reply-to); put -- before a BODY that starts with a dash',
  );
});

test("E_SELF_SEND offers the other roles, never your own", (t) => {
  const root = makeRoot(t);
  for (const role of ["api", "web", "db"]) assert.equal(bridge(["recv"], shop(root, role)).status, 0);
  const self = bridge(["send", "web", "hi"], shop(root, "web"));
  assert.equal(self.status, 1);
  assert.match(self.stderr, /E_SELF_SEND: "web" is your own role; send to another role of project "shop" \(known: api, db\)\n/);
  const alone = makeRoot(t);
  assert.equal(bridge(["recv"], shop(alone, "web")).status, 0);
  assert.match(bridge(["send", "Web", "hi"], shop(alone, "web")).stderr, /\(known: none yet\)\n/);
});

function home(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "sb-usage-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("doctor's closing hint repeats the flags it was given", (t) => {
  const root = makeRoot(t);
  const h = home(t);
  const env = { HOME: h, XDG_DATA_HOME: "" };
  const spaced = join(h, "my config"); // nothing installed there: problems found
  const claude = bridge(["doctor", "--config-dir", spaced], { root, env });
  assert.equal(claude.status, 1, claude.stderr);
  assert.match(claude.stdout, new RegExp(`then \`session-bridge doctor --config-dir '${spaced}'\` again\n$`));
  assert.match(claude.stdout, /fix: session-bridge install --config-dir '.*my config'\n/);
  const codexHome = join(h, "codex");
  mkdirSync(codexHome);
  const codex = bridge(["doctor", "--agent", "codex", "--config-dir", codexHome], { root, env });
  assert.equal(codex.status, 1, codex.stderr);
  assert.match(codex.stdout, new RegExp(`then \`session-bridge doctor --agent codex --config-dir ${codexHome}\` again\n$`));
  // A Codex file that does not parse: the fix reruns that same doctor, and names no backup
  // that does not exist.
  writeFileSync(join(codexHome, "hooks.json"), "{");
  const broken = bridge(["doctor", "--agent", "codex", "--config-dir", codexHome], { root, env });
  assert.match(
    broken.stdout,
    new RegExp(`fix: repair the file by hand, then run \`session-bridge doctor --agent codex --config-dir ${codexHome}\` again`),
  );
  assert.doesNotMatch(broken.stdout, /backup/);
});

test("install's closing hints repeat --config-dir, quoted for the shell", (t) => {
  const root = makeRoot(t);
  const h = home(t);
  const env = { HOME: h, XDG_DATA_HOME: "" };
  const claudeDir = join(h, "my claude");
  const claude = bridge(["install", "--config-dir", claudeDir], { root, env });
  assert.equal(claude.status, 0, claude.stderr);
  assert.match(claude.stdout, new RegExp(`check the wiring with \`session-bridge doctor --config-dir '${claudeDir}'\`\n$`));
  const codexDir = join(h, "my codex");
  const codex = bridge(["install", "--agent", "codex", "--config-dir", codexDir], { root, env });
  assert.equal(codex.status, 0, codex.stderr);
  assert.match(codex.stdout, new RegExp(`\`session-bridge doctor --agent codex --config-dir '${codexDir}'\` shows which are approved`));
});
