import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { peek } from "../../src/bus.ts";
import { rolePaths } from "../../src/bus/layout.ts";
import { fitBody } from "../../src/hooks/send.ts";
import { events, hookEnv, PROJECT, runHookSync, tempRoot } from "../helpers/hooks.ts";

const AUTOSEND = { BRIDGE_AUTOSEND: "1" };

function inbox(root: string, role: string) {
  return peek({ root, project: PROJECT, role }).messages;
}

/** web, backend and infra join through their prompt hook; web's prompt starts its chain. */
function twoRoles(root: string): void {
  for (const role of ["backend", "infra", "web"]) runHookSync("recv", hookEnv(root, role), events.prompt("start"));
}

test("without BRIDGE_AUTOSEND=1, or outside a bridged session, nothing is sent", (t) => {
  const root = tempRoot(t);
  twoRoles(root);
  assert.deepEqual(runHookSync("send", hookEnv(root, "web"), events.stop("the result")), { code: 0, stdout: "", stderr: "" });
  assert.deepEqual(runHookSync("send", hookEnv(root, undefined, AUTOSEND), events.stop("the result")), { code: 0, stdout: "", stderr: "" });
  assert.equal(inbox(root, "backend").length, 0);
});

test("the last assistant message goes to every other role, stamped with the role's chain", (t) => {
  const root = tempRoot(t);
  twoRoles(root);
  const r = runHookSync("send", hookEnv(root, "web", AUTOSEND), events.stop("migrated the users table"));
  assert.deepEqual(r, { code: 0, stdout: "", stderr: "" });
  const chain = JSON.parse(readFileSync(rolePaths(root, PROJECT, "web").chain, "utf8"));
  for (const role of ["backend", "infra"]) {
    const [m] = inbox(root, role);
    assert.equal(m?.body, "migrated the users table");
    assert.equal(m?.from, "web");
    assert.equal(m?.to, "*");
    assert.equal(m?.chain, chain.chain);
    assert.equal(m?.hop, chain.hop);
  }
});

test("BRIDGE_SEND_TO names one recipient", (t) => {
  const root = tempRoot(t);
  twoRoles(root);
  runHookSync("send", hookEnv(root, "web", { ...AUTOSEND, BRIDGE_SEND_TO: "backend" }), events.stop("for backend only"));
  assert.equal(inbox(root, "backend")[0]?.body, "for backend only");
  assert.equal(inbox(root, "infra").length, 0);
});

test("stop_hook_active turns and empty messages are not sent", (t) => {
  const root = tempRoot(t);
  twoRoles(root);
  runHookSync("send", hookEnv(root, "web", AUTOSEND), events.stop("again", true));
  runHookSync("send", hookEnv(root, "web", AUTOSEND), events.stop("  \n"));
  runHookSync("send", hookEnv(root, "web", AUTOSEND), { ...events.stop(""), last_assistant_message: undefined });
  assert.equal(inbox(root, "backend").length, 0);
});

test("failures never throw: alone in the project, unknown recipient, bad input all exit 0 with a note", (t) => {
  const root = tempRoot(t);
  const alone = runHookSync("send", hookEnv(root, "web", AUTOSEND), events.stop("anyone?"));
  assert.equal(alone.code, 0);
  assert.match(alone.stderr, /^session-bridge hook send: E_NO_RECIPIENTS: nobody else has joined project "shop"/);
  twoRoles(root);
  const unknown = runHookSync("send", hookEnv(root, "web", { ...AUTOSEND, BRIDGE_SEND_TO: "fronted" }), events.stop("x"));
  assert.equal(unknown.code, 0);
  assert.match(unknown.stderr, /E_UNKNOWN_ROLE: unknown role "fronted"/);
  const garbage = runHookSync("send", hookEnv(root, "web", AUTOSEND), "][");
  assert.equal(garbage.code, 0);
  assert.match(garbage.stderr, /E_USAGE/);
});

test("a reply over maxBodyBytes is cut with a note instead of being lost", (t) => {
  const root = tempRoot(t);
  twoRoles(root);
  writeFileSync(`${root}/bridge-settings.json`, JSON.stringify({ maxBodyBytes: 300 }));
  runHookSync("send", hookEnv(root, "web", { ...AUTOSEND, BRIDGE_SEND_TO: "backend" }), events.stop("é".repeat(500)));
  const body = inbox(root, "backend")[0]!.body;
  assert.ok(Buffer.byteLength(body) <= 300);
  assert.match(body, /^é+\n\n\[session-bridge autosend: cut to fit maxBodyBytes; the whole reply was 1000 bytes\]$/);
});

test("fitBody never splits a character", () => {
  assert.equal(fitBody("short", 10), "short");
  for (let max = 80; max < 400; max += 7) {
    const out = fitBody("日本語".repeat(50), max);
    assert.ok(Buffer.byteLength(out) <= max, `${max}`);
    assert.ok(!out.includes("\ufffd"));
  }
});
