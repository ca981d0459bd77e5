// The shim's text (src/shim/script.ts): valid sh whatever the paths and the policy hold.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { envFileText, renderShim } from "../../src/shim/script.ts";

const ODD = '/tmp/it\'s a "dir" $HOME `x`';

test("the script is valid sh with quotes, spaces and $ in every path, and a policy line of one line", () => {
  for (const fast of [[], ["status", "log", "not a name", "a;b"]]) {
    const text = renderShim({
      self: `${ODD}/git`,
      realGit: `${ODD}/real/git`,
      fast,
      helpFast: true,
      decider: [`${ODD}/node`, `${ODD}/session-bridge.mjs`],
      policy: ["--block-git", "push'|\n$(reboot)", "--root", ODD, "--admin", "0"],
      summary: "Refuses\nrm -rf /\r\nthings",
    });
    const r = spawnSync("sh", ["-n"], { input: text, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(text.split("\n")[2], "# Refuses rm -rf / things");
    // Names that are not command names never reach a case pattern.
    assert.ok(!text.includes("a;b") && !text.includes("not a name"));
    assert.equal(text.includes("Fast path"), fast.length > 0);
  }
});

test("the env file puts exactly the folder first on PATH, however it is spelled", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "sb-shim-script-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "env.sh");
  writeFileSync(file, envFileText(ODD));
  const r = spawnSync("bash", ["-c", `. '${file}' && printf '%s' "$PATH"`], { env: { PATH: "/usr/bin:/bin" }, encoding: "utf8" });
  // (bash may add to PATH from this machine's start-up files; the folder must come first, whole.)
  assert.ok(r.stdout.startsWith(`${ODD}:`) && r.stdout.endsWith(":/usr/bin:/bin"), r.stdout);
});
