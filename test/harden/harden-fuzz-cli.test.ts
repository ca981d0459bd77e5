// Hostile input through the built binary, as a person or a script would give it: the bus CLI with
// random commands, flags, names and bodies (on argv and on stdin: binary, invalid UTF-8, NUL,
// lone surrogates, terminal escapes, huge), and the hooks with malformed stdin. Every run ends with
// exit 0, 1 or 2 and, when it refuses, one clear error line (or a JSON error with --json) — never a
// stack trace; nothing is created outside the root; what was accepted is stored exactly.
// HARDEN_SEED replays a run; HARDEN_FUZZ scales it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname } from "node:path";
import { receive } from "../../src/bus.ts";
import { readAllKept } from "../../src/bus/inbox.ts";
import { rolePaths } from "../../src/bus/layout.ts";
import { BIN } from "../helpers/bin.ts";
import { cleanEnv, makeRoot } from "../helpers/cli.ts";
import { envInt, hostileName, hostileText, randomJson, rng, seedFromEnv } from "../helpers/prng.ts";
import type { Rng } from "../helpers/prng.ts";
import { treeProblems } from "../helpers/tree.ts";

const SEED = seedFromEnv(777);
const SCALE = envInt("HARDEN_FUZZ", 1);
const ROLES = ["web", "api", "db"];

interface Ran {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string | undefined>, cwd: string, input: string | Buffer = ""): Ran {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: cleanEnv(env),
    cwd,
    input,
    encoding: "utf8",
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  // EPIPE: the command refused before reading a large stdin, which is its right; the exit still counts.
  if (r.error && (r.error as NodeJS.ErrnoException).code !== "EPIPE") throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** argv cannot carry NUL; everything else goes as it is (Node encodes lone surrogates as U+FFFD). */
const argvSafe = (s: string): string => s.replaceAll("\u0000", "");
/** What the process receives for a JS string passed on argv. */
const asReceived = (s: string): string => Buffer.from(s, "utf8").toString("utf8");

function assertClean(r: Ran, what: string): void {
  assert.equal(r.signal, null, `${what}: killed by ${r.signal}`);
  assert.ok(r.status === 0 || r.status === 1 || r.status === 2, `${what}: exit ${r.status}\n${r.stderr}`);
  assert.doesNotMatch(
    r.stderr,
    /\n\s+at |TypeError|ReferenceError|RangeError|SyntaxError: Unexpected/,
    `${what}: a stack trace or an internal error\n${r.stderr}`,
  );
}

function flags(r: Rng): string[] {
  const out: string[] = [];
  for (let n = r.chance(0.5) ? 0 : r.int(1, 3); n > 0; n--) {
    out.push(
      ...r.pick<() => string[]>([
        () => ["--json"],
        () => ["--queue"],
        () => ["--project", argvSafe(r.chance(0.5) ? "shop" : hostileName(r))],
        () => ["--role", argvSafe(r.chance(0.5) ? r.pick(ROLES) : hostileName(r))],
        () => ["--reply-to", argvSafe(hostileText(r, 2))],
        () => ["--bogus"],
        () => ["-x"],
        () => ["--json=maybe"],
        () => ["--"],
        () => ["--help"],
        () => ["--follow"],
      ])(),
    );
  }
  return out;
}

test("CLI fuzz: random bus commands, flags, names and bodies end in a clear error or an exact delivery, inside the root", (t) => {
  const r = rng(SEED);
  const root = makeRoot(t);
  const scratch = dirname(root);
  for (const role of ROLES) receive({ root, project: "shop", role }, { by: "setup" });
  const expected = new Map<string, string>();
  const codes = new Map<string, number>();
  const cases = 60 * SCALE;
  for (let i = 0; i < cases; i++) {
    const command = r.pick(["send", "send", "send", "recv", "peek", "tail", "status", "roles", "whoami", "root"]);
    const env = {
      BRIDGE_ROOT: root,
      BRIDGE_PROJECT: r.chance(0.9) ? "shop" : argvSafe(hostileName(r)),
      BRIDGE_ROLE: r.chance(0.85) ? r.pick(ROLES) : argvSafe(hostileName(r)),
    };
    let args: string[] = [command];
    let input: string | Buffer = "";
    let body: string | undefined;
    if (command === "send") {
      const to = r.chance(0.7) ? r.pick([...ROLES, "*"]) : argvSafe(hostileName(r));
      const text = r.chance(0.1) ? "z".repeat(r.int(200_000, 300_000)) : hostileText(r, 20);
      // Linux caps one argument at 128 KiB (E2BIG), so a huge body can only come on stdin.
      if (r.chance(0.3) || text.length > 100_000) {
        // On stdin: any bytes, including NUL, lone surrogates (JSON-escaped by the store) and invalid UTF-8.
        input = r.chance(0.2) ? Buffer.from(Array.from({ length: r.int(1, 64) }, () => r.int(0, 255))) : text;
        args.push(to, "-");
        body = typeof input === "string" ? asReceived(input) : undefined;
      } else {
        args.push(to, argvSafe(text));
        body = asReceived(argvSafe(text));
      }
    } else if (command === "tail") {
      if (r.chance(0.5)) args.push(r.pick(["5", "0", "-1", "x", "1e3", "99999999999999999999"]));
    } else if (command === "status") {
      args.push(argvSafe(r.chance(0.5) ? hostileText(r, 2) : `m${r.int(0, 1e6)}`));
    }
    args = [...args, ...flags(r).filter((f) => !(f === "--follow" && command === "tail"))];
    if (r.chance(0.05)) args.push(argvSafe(hostileText(r, 2)));
    const what = `case ${i} (seed ${SEED}): ${JSON.stringify(args).slice(0, 200)}`;
    const res = run(args, env, scratch, input);
    assertClean(res, what);
    const json = args.includes("--json");
    if (res.status !== 0) {
      if (json) {
        const err = JSON.parse(res.stderr.split("\n")[0]!) as { error: { code: string; message: string } };
        assert.match(err.error.code, /^E/, what);
        assert.ok(err.error.message.length > 10, what);
        codes.set(err.error.code, (codes.get(err.error.code) ?? 0) + 1);
      } else {
        const m = /^session-bridge [a-z]+: ([A-Z_]+): \S/.exec(res.stderr);
        assert.ok(m, `${what}: the error is not one clear line:\n${res.stderr}`);
        codes.set(m[1]!, (codes.get(m[1]!) ?? 0) + 1);
      }
      continue;
    }
    if (json && !args.includes("--help")) assert.doesNotThrow(() => JSON.parse(res.stdout), `${what}: --json output is JSON`);
    if (command === "send" && body !== undefined && !args.includes("--help")) {
      const id = json ? (JSON.parse(res.stdout) as { id: string }).id : /^sent (m\w+)/.exec(res.stdout)?.[1];
      assert.ok(id, `${what}: a successful send names its id`);
      expected.set(id, body);
    }
  }
  assert.deepEqual(treeProblems(scratch, root), [], `seed ${SEED}`);
  let checked = 0;
  for (const role of ROLES) {
    for (const s of readAllKept(rolePaths(root, "shop", role)).messages) {
      const want = expected.get(s.message.id);
      if (want === undefined) continue;
      assert.equal(s.message.body, want, `seed ${SEED}: ${s.message.id} is stored exactly as sent`);
      checked++;
    }
  }
  assert.ok(checked >= 3, `only ${checked} accepted sends were checked`);
  t.diagnostic(
    `CLI fuzz (seed ${SEED}): ${cases} runs of the binary; ${checked} accepted bodies stored exactly; refusals ${JSON.stringify(Object.fromEntries(codes))}`,
  );
});

test("hook fuzz through the binary: malformed stdin never blocks a prompt and never crashes; the guard fails closed", (t) => {
  const r = rng(SEED + 1);
  const root = makeRoot(t);
  receive({ root, project: "shop", role: "web" }, { by: "setup" });
  receive({ root, project: "shop", role: "api" }, { by: "setup" });
  const env = {
    BRIDGE_ROOT: root,
    BRIDGE_PROJECT: "shop",
    BRIDGE_ROLE: "web",
    BRIDGE_AUTOSEND: "1",
    CLAUDECODE: "1",
    CLAUDE_PID: String(process.pid),
  };
  const stdinOf = (): string | Buffer =>
    r.pick<() => string | Buffer>([
      () => "",
      () => "not json",
      () => "{",
      () => '{"hook_event_name": "UserPromptSubmit", "prompt": ',
      () => JSON.stringify(randomJson(r, 3)),
      () => JSON.stringify([1, 2, 3]),
      () => JSON.stringify("a string"),
      () => "null",
      () => Buffer.from(Array.from({ length: r.int(1, 256) }, () => r.int(0, 255))),
      () => JSON.stringify({ hook_event_name: "UserPromptSubmit", prompt: hostileText(r, 10), session_id: randomJson(r, 0) }),
      () => JSON.stringify({ hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: { command: hostileText(r, 8) } }),
      () => JSON.stringify({ hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: randomJson(r, 2) }),
      () => JSON.stringify({ hook_event_name: "Stop", last_assistant_message: hostileText(r, 10), stop_hook_active: randomJson(r, 0) }),
      () => JSON.stringify({ prompt: "x".repeat(r.int(1, 1024) * 1024) }),
    ])();
  let guardDenies = 0;
  const cases = 8 * SCALE;
  // First a fixed case: JSON.parse quotes the bad input in its error, which once put raw newlines
  // and escape sequences on the hook's stderr.
  const fixed = ["\u000f 1\u0001\n\u001b[2J\u001b]0;x\u0007 more"];
  for (let i = 0; i < cases; i++) {
    const input = fixed[i] ?? stdinOf();
    for (const hook of ["recv", "send", "guard"]) {
      const what = `hook ${hook}, case ${i} (seed ${SEED + 1})`;
      const res = run(["hook", hook], env, root, input);
      assertClean(res, what);
      assert.equal(res.status, 0, `${what}: exit ${res.status} (2 would block the user's prompt or tool call)\n${res.stderr}`);
      for (const line of res.stderr.split("\n").filter(Boolean))
        assert.match(line, new RegExp(`^session-bridge hook ${hook}: [^\u0000-\u001f\u007f-\u009f]*$`), what);
      if (res.stdout === "") continue;
      const out = JSON.parse(res.stdout) as { hookSpecificOutput: Record<string, unknown> };
      if (hook === "guard") {
        assert.equal(out.hookSpecificOutput.permissionDecision, "deny", what);
        guardDenies++;
      } else assert.equal(typeof out.hookSpecificOutput.additionalContext, "string", what);
    }
  }
  assert.ok(guardDenies > 0);
  assert.deepEqual(treeProblems(dirname(root), root), []);
});
