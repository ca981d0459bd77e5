// The hooks' SHA-256 (src/lib/sha256.ts) must give node:crypto's digests, or machine ids written
// by earlier versions would stop matching; and a hook that takes a lock must not load node:crypto.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { machineIdFrom } from "../../src/bus/machine.ts";
import { sha256Hex } from "../../src/lib/sha256.ts";
import { BIN } from "../helpers/bin.ts";
import { bridge, cleanEnv, makeRoot } from "../helpers/cli.ts";

const nodeSha = (text: string): string => createHash("sha256").update(text).digest("hex");

test("sha256Hex gives node:crypto's digest for every length around the block edges, and for UTF-8", () => {
  // FIPS 180-4's own example.
  assert.equal(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert.equal(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // 55/56 and 119/120 bytes are where the length stops fitting in the last block.
  for (let length = 0; length <= 300; length++) {
    const text = randomBytes(length).toString("latin1").slice(0, length);
    assert.equal(sha256Hex(text), nodeSha(text), `length ${length}`);
  }
  for (const text of ["é", "session-bridge machine\0machine-id:3d12|pid:[4026531836]", "日本語のテキスト", "🙂".repeat(40)])
    assert.equal(sha256Hex(text), nodeSha(text), JSON.stringify(text));
  assert.equal(sha256Hex("x".repeat(100_000)), nodeSha("x".repeat(100_000)));
});

test("the machine id is the one earlier versions computed with node:crypto", () => {
  const basis = "machine-id:3d1219c7c4c5404aaa1f6d2a48adfda4|pid:[4026531836]";
  assert.equal(machineIdFrom(basis), nodeSha(`session-bridge machine\0${basis}`).slice(0, 16));
});

test("a bridged hook recv that takes the inbox lock (mail waiting) never loads node:crypto", (t) => {
  const root = makeRoot(t);
  const as = { root, project: "shop" };
  assert.equal(bridge(["send", "--queue", "web", "the build is green"], { ...as, role: "api" }).status, 0);
  // A preload that reports, at exit, whether the process loaded node:crypto.
  const probe = `${root}-probe.cjs`;
  const report = `${root}-probe.json`;
  writeFileSync(
    probe,
    `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(report)}, JSON.stringify(process.moduleLoadList.filter((m) => /crypto/.test(m)))));\n`,
  );
  t.after(() => rmSync(probe, { force: true }));
  const env = cleanEnv({ BRIDGE_ROOT: root, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "web", CLAUDE_PID: String(process.pid) });
  const input = JSON.stringify({ hook_event_name: "UserPromptSubmit", session_id: "s1", prompt: "hi" });
  const r = spawnSync(process.execPath, ["-r", probe, BIN, "hook", "recv"], { env, input, encoding: "utf8" });
  assert.match(r.stdout, /the build is green/, r.stderr);
  assert.deepEqual(JSON.parse(readFileSync(report, "utf8")), []);
});
