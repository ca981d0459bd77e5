import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { isProcessAlive, isSameProcessAlive, isZombie, processStartTime } from "../../src/lib/proc.ts";

// Runs with /proc (read from it) and without (ps tells): see test/platform/without-proc.test.ts.
test("an exited process that was never reaped (a zombie) is not alive", async (t) => {
  // `sleep 0` exits at once; its parent execs `sleep 60`, which never reaps it.
  const parent = spawn("sh", ["-c", "sleep 0 & echo $!; exec sleep 60"], { stdio: ["ignore", "pipe", "ignore"] });
  t.after(() => parent.kill("SIGKILL"));
  const pid = await new Promise<number>((resolve) => parent.stdout.once("data", (d: Buffer) => resolve(Number(String(d).trim()))));
  const deadline = Date.now() + 10_000;
  while (!isZombie(pid)) {
    assert.ok(Date.now() < deadline, "the child never became a zombie");
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(isProcessAlive(pid), true, "kill(pid, 0) still succeeds on a zombie");
  assert.equal(isSameProcessAlive(pid, undefined), false);
  assert.equal(isSameProcessAlive(pid, processStartTime(parent.pid!)), false);
  assert.equal(isZombie(process.pid), false);
  assert.equal(isZombie(parent.pid!), false);
  assert.equal(isSameProcessAlive(process.pid, undefined), true);
  assert.equal(isSameProcessAlive(parent.pid!, processStartTime(parent.pid!)), true);
});
