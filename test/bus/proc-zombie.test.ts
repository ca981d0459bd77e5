import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { isProcessAlive, isSameProcessAlive, isZombie } from "../../src/lib/proc.ts";

test("an exited process that was never reaped (a zombie) is not alive", { skip: !existsSync("/proc/self/stat") }, async (t) => {
  // `sleep 0` exits at once; its parent execs `sleep 60`, which never reaps it.
  const parent = spawn("sh", ["-c", "sleep 0 & echo $!; exec sleep 60"], { stdio: ["ignore", "pipe", "ignore"] });
  t.after(() => parent.kill("SIGKILL"));
  const pid = await new Promise<number>((resolve) => parent.stdout.once("data", (d: Buffer) => resolve(Number(String(d).trim()))));
  const deadline = Date.now() + 10_000;
  while (!readFileSync(`/proc/${pid}/stat`, "latin1").includes(") Z ")) {
    assert.ok(Date.now() < deadline, "the child never became a zombie");
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(isProcessAlive(pid), true, "kill(pid, 0) still succeeds on a zombie");
  assert.equal(isZombie(pid), true);
  assert.equal(isSameProcessAlive(pid, undefined), false);
  assert.equal(isZombie(process.pid), false);
  assert.equal(isSameProcessAlive(process.pid, undefined), true);
});
