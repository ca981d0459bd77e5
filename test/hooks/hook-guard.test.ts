// The hook side of the guard: Claude Code's PreToolUse JSON in, a deny (or silence) out, the
// policy taken from the environment and the config, and failing closed. The shell-parsing corpus
// itself is test/guard/guard.test.ts; a sample of it runs here end to end through the binary.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { events, hookEnv, runHookSync, tempRoot } from "../helpers/hooks.ts";

function denyJson(reason: string): string {
  return (
    JSON.stringify({ hookSpecificOutput: { hookEventName: "PreToolUse", permissionDecision: "deny", permissionDecisionReason: reason } }) +
    "\n"
  );
}

function reasonOf(stdout: string): string {
  const out = JSON.parse(stdout);
  assert.equal(out.hookSpecificOutput.hookEventName, "PreToolUse");
  assert.equal(out.hookSpecificOutput.permissionDecision, "deny");
  return out.hookSpecificOutput.permissionDecisionReason;
}

/** `role` null: a session that is not bridged. */
function guard(root: string, command: string, extra: Record<string, string | undefined> = {}, role: string | null = "web") {
  return runHookSync("guard", hookEnv(root, role ?? undefined, extra), events.bash(command));
}

test("git push in a bridged session is denied with exactly Claude Code's deny JSON, exit 0", (t) => {
  const root = tempRoot(t);
  const r = guard(root, "git push origin main");
  assert.equal(r.code, 0);
  assert.equal(r.stderr, "");
  assert.equal(
    r.stdout,
    denyJson(
      "session-bridge guard: `git push` is blocked in this bridged session. Bridged sessions must not commit, push or reset on their own " +
        "(git subcommands matching /^(commit|push|reset)$/): a human decides. To allow it, a human can run it in a terminal; or relaunch " +
        "without the guard (`session-bridge install --no-block-git`); or set BRIDGE_BLOCK_GIT to a narrower regex.",
    ),
  );
});

test("an allowed command gets no output at all (an explicit allow would skip the user's permission prompts)", (t) => {
  const root = tempRoot(t);
  assert.deepEqual(guard(root, "git status && npm test"), { code: 0, stdout: "", stderr: "" });
});

const SAMPLE: [string, "deny" | "allow"][] = [
  ["git commit -m wip", "deny"],
  ["git -C ../api commit -am x", "deny"],
  ["/usr/bin/git push", "deny"],
  ['sh -c "git push --force"', "deny"],
  ["git \\\npush", "deny"],
  ["cd repo && git reset --hard HEAD~1", "deny"],
  ["echo $(git commit -m x)", "deny"],
  ["git stash push -m wip", "allow"],
  ["git commit-tree HEAD^{tree} -m x", "allow"],
  ['echo "git reset"', "allow"],
  ["grep -rn commit src/", "allow"],
  ["git log --grep=push", "allow"],
];

for (const [command, want] of SAMPLE) {
  test(`end to end: ${JSON.stringify(command)} → ${want}`, (t) => {
    const r = guard(tempRoot(t), command);
    assert.equal(r.code, 0);
    if (want === "allow") assert.equal(r.stdout, "");
    else assert.match(reasonOf(r.stdout), /^session-bridge guard: /);
  });
}

test("outside a bridged session everything is allowed at once, unless BRIDGE_BLOCK_GIT_ALL=1", (t) => {
  const root = tempRoot(t);
  assert.deepEqual(guard(root, "git push", {}, null), { code: 0, stdout: "", stderr: "" });
  // Even unparsable input: the guard is not engaged, so it must not read or judge anything.
  assert.deepEqual(runHookSync("guard", hookEnv(root, undefined), "garbage"), { code: 0, stdout: "", stderr: "" });
  const all = guard(root, "git push", { BRIDGE_BLOCK_GIT_ALL: "1" }, null);
  assert.match(reasonOf(all.stdout), /`git push` is blocked/);
  assert.equal(guard(root, "git status", { BRIDGE_BLOCK_GIT_ALL: "1" }, null).stdout, "");
});

test("half an identity counts as bridged: git push is denied, saying why; other commands pass in silence", (t) => {
  const root = tempRoot(t);
  const half = { BRIDGE_ROLE: undefined };
  const r = guard(root, "git push origin main", half);
  assert.equal(r.code, 0);
  const reason = reasonOf(r.stdout);
  assert.match(reason, /^session-bridge guard: `git push` is blocked in this bridged session/);
  assert.match(
    reason,
    / This session counts as bridged for the guard: it is not connected to a bridge project, though its environment tries to: BRIDGE_ROLE is not set\. To fix it, restart Claude Code .*\.$/,
  );
  assert.deepEqual(guard(root, "git status", half), { code: 0, stdout: "", stderr: "" });
  const typo = guard(root, "git commit -m x", { BRIDGE_PROJECT: undefined, BRIDGE_ROLE: undefined, BRIDGE_PROJCT: "shop" });
  assert.match(reasonOf(typo.stdout), /"BRIDGE_PROJCT" is not a variable session-bridge reads \(did you mean BRIDGE_PROJECT\?\)/);
});

test("BRIDGE_BLOCK_GIT narrows or widens the blocked subcommands", (t) => {
  const root = tempRoot(t);
  assert.equal(guard(root, "git commit -m x", { BRIDGE_BLOCK_GIT: "push" }).stdout, "");
  assert.match(reasonOf(guard(root, "git push", { BRIDGE_BLOCK_GIT: "push" }).stdout), /`git push` is blocked/);
  assert.match(
    reasonOf(guard(root, "git rebase main", { BRIDGE_BLOCK_GIT: "commit|push|reset|rebase" }).stdout),
    /`git rebase` is blocked/,
  );
});

test("an invalid BRIDGE_BLOCK_GIT denies everything, naming the variable", (t) => {
  const root = tempRoot(t);
  const reason = reasonOf(guard(root, "ls", { BRIDGE_BLOCK_GIT: "push(" }).stdout);
  assert.match(
    reason,
    /^session-bridge guard: could not check this command \(E_CONFIG: BRIDGE_BLOCK_GIT="push\(" is not a valid regular expression/,
  );
  assert.match(reason, /fails closed/);
});

test("guard.deny patterns from the config deny deploy commands as words", (t) => {
  const root = tempRoot(t);
  writeFileSync(
    join(root, "bridge-settings.json"),
    JSON.stringify({ guard: { deny: ["kubectl apply", "terraform apply", "vercel deploy"] } }),
  );
  const reason = reasonOf(guard(root, "kubectl -n prod apply -f deploy.yaml").stdout);
  assert.match(reason, /matches "kubectl apply" in guard\.deny of .*bridge-settings\.json/);
  assert.match(reasonOf(guard(root, "cd infra && terraform -chdir=prod apply").stdout), /"terraform apply"/);
  assert.equal(guard(root, "kubectl get pods").stdout, "");
  assert.equal(guard(root, "echo vercel deploy").stdout, "");
});

test("a config that cannot be read fails closed, naming the file", (t) => {
  const root = tempRoot(t);
  writeFileSync(join(root, "bridge-settings.json"), "{ broken");
  const reason = reasonOf(guard(root, "ls").stdout);
  assert.match(reason, /could not check this command \(E_CONFIG: .*bridge-settings\.json is not valid JSON/);
});

test("the bridge's own rails: spawner changes and config writes are denied unless BRIDGE_ADMIN=1", (t) => {
  const root = tempRoot(t);
  for (const command of [
    "session-bridge spawner on",
    "npx session-bridge spawner set shop web mode=auto",
    `echo '{}' > ${root}/spawner.config.json`,
  ]) {
    assert.match(reasonOf(guard(root, command).stdout), /may not change the bridge's automation settings/, command);
    assert.equal(guard(root, command, { BRIDGE_ADMIN: "1" }).stdout, "", command);
  }
  assert.equal(guard(root, "session-bridge spawner status").stdout, "");
});

test("input the guard cannot read fails closed in a bridged session", (t) => {
  const root = tempRoot(t);
  const notJson = runHookSync("guard", hookEnv(root, "web"), "{oops");
  assert.equal(notJson.code, 0);
  assert.match(reasonOf(notJson.stdout), /could not check this command \(E_USAGE: the hook input on stdin is not JSON/);
  const noCommand = runHookSync("guard", hookEnv(root, "web"), { ...events.bash("x"), tool_input: {} });
  assert.match(reasonOf(noCommand.stdout), /has no tool_input\.command text/);
  const unparsable = guard(root, "echo 'unterminated");
  assert.match(reasonOf(unparsable.stdout), /could not be parsed/);
});

test("other tools are not shell commands: a wider matcher lets them through", (t) => {
  const root = tempRoot(t);
  const r = runHookSync("guard", hookEnv(root, "web"), { ...events.bash("x"), tool_name: "Read", tool_input: { file_path: "/etc/hosts" } });
  assert.deepEqual(r, { code: 0, stdout: "", stderr: "" });
});
