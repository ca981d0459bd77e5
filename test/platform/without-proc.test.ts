// macOS has no /proc; Linux does, and the code reads it where it can. To prove every promise that
// rests on process facts also holds without it, these test files run again under
// scripts/without-proc.sh (a tmpfs over /proc in a private mount namespace; `ps` still answers, as
// on macOS): locks break dead holders and see reused pids, `roles` says who is live, the tmux driver
// proves a pane runs the session's claude, and the real Claude Code TUI in tmux is woken by the
// daemon's nudge. Needs root; elsewhere each test is skipped with the reason (in CI, where the job
// runs as root, not being able to is a failure).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "../helpers/bin.ts";

const SCRIPT = join(REPO, "scripts/without-proc.sh");

/** The groups run one after another inside, each a test here (each within the runner's timeout). */
const GROUPS: Record<string, string[]> = {
  "process facts, locks and zombies": ["bus/proc.test.mjs", "bus/proc-zombie.test.mjs", "bus/lock.test.mjs", "bus/machine.test.mjs"],
  "session liveness: roles, send, the MCP server's session": ["bus/liveness.test.mjs", "mcp/mcp-session.test.mjs"],
  "the tmux driver's pane check, against a fake and a real tmux": ["spawner/tmux-driver.test.mjs", "spawner/spawner-tmux.test.mjs"],
  "the real Claude Code TUI in tmux, woken by the daemon's nudge and by hook wait": ["e2e/tui.test.mjs"],
};

function whyNot(): string | undefined {
  if (process.env.SB_WITHOUT_PROC === "1") return "already inside the no-/proc mode";
  const probe = spawnSync(SCRIPT, ["true"], { encoding: "utf8" });
  if (probe.status === 77) return probe.stderr.trim();
  assert.equal(probe.status, 0, `${SCRIPT} true failed: ${probe.stderr}`);
  return undefined;
}

const reason = whyNot();
// CI runs as root: there the mode must run, not be skipped.
if (reason !== undefined && process.env.CI && process.env.SB_WITHOUT_PROC !== "1") {
  test("the no-/proc mode runs in CI", () => assert.fail(`cannot hide /proc in CI: ${reason}`));
}

for (const [name, files] of Object.entries(GROUPS)) {
  test(`without /proc: ${name}`, { skip: reason }, async () => {
    const paths = files.map((f) => join(REPO, "dist/test", f));
    for (const p of paths) assert.ok(existsSync(p), `${p} is missing; run node build.mjs --tests`);
    const child = spawn(SCRIPT, [process.execPath, "--test", "--test-concurrency=1", "--test-reporter=dot", ...paths], {
      cwd: REPO,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    child.stderr.on("data", (d: Buffer) => (out += d));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    assert.equal(code, 0, `with /proc hidden, ${files.join(" ")} failed (exit ${code}):\n${out.slice(-20_000)}`);
  });
}
