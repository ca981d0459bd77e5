// Hostile input, in process (fast enough for thousands of cases): the bus API, the frame that puts
// sibling messages in front of the model, and the hooks' handlers, each fed seeded random names,
// bodies (binary, huge, lone surrogates, terminal escapes, NUL) and JSON shapes. Nothing crashes,
// every refusal is a typed error with a message, nothing lands outside the root, and what is
// accepted round-trips exactly. A failure prints its seed: HARDEN_SEED=<seed> replays it;
// HARDEN_FUZZ=<n> scales the case counts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { messageStatus, peek, receive, resolveIdentity, sendMessage, tail } from "../../src/bus.ts";
import type { Identity } from "../../src/bus.ts";
import { BridgeError } from "../../src/lib/errors.ts";
import { chooseBoundary, MessageFrame } from "../../src/hooks/frame.ts";
import { hookGuard } from "../../src/hooks/guard.ts";
import { hookRecv } from "../../src/hooks/recv.ts";
import { hookSend } from "../../src/hooks/send.ts";
import type { HookResult } from "../../src/hooks/io.ts";
import { readAllKept } from "../../src/bus/inbox.ts";
import { rolePaths } from "../../src/bus/layout.ts";
import type { Message } from "../../src/bus/message.ts";
import { makeRoot } from "../helpers/cli.ts";
import { envInt, hostileName, hostileText, randomJson, rng, seedFromEnv } from "../helpers/prng.ts";
import type { Rng } from "../helpers/prng.ts";
import { treeProblems } from "../helpers/tree.ts";

const SEED = seedFromEnv(9091);
const SCALE = envInt("HARDEN_FUZZ", 1);
const CODES = new Set([
  "E_USAGE",
  "E_BAD_NAME",
  "E_BAD_BODY",
  "E_TOO_LARGE",
  "E_UNKNOWN_ROLE",
  "E_NO_RECIPIENTS",
  "E_SELF_SEND",
  "E_NO_IDENTITY",
  "E_NOT_FOUND",
  "E_SYMLINK",
  "E_IO",
]);
const SETTINGS = { maxBodyBytes: 256 * 1024, fsync: false };
// hook recv's documented cap (README), written out rather than taken from src/hooks/frame.ts.
const CONTEXT_LIMIT = 10_000;

/** A refusal must be a typed error with a readable message; anything else is a crash. */
function assertRefusal(err: unknown, what: string, counts: Map<string, number>): void {
  if (!(err instanceof BridgeError) || !CODES.has(err.code)) {
    assert.fail(`${what} (seed ${SEED}) threw something other than a typed refusal: ${err instanceof Error ? err.stack : String(err)}`);
  }
  assert.ok(err.message.length > 10 && !/undefined|\[object Object\]|NaN/.test(err.message), `${what}: unclear message: ${err.message}`);
  counts.set(err.code, (counts.get(err.code) ?? 0) + 1);
}

function body(r: Rng): unknown {
  return r.pick<() => unknown>([
    () => hostileText(r),
    () => hostileText(r, 40),
    () => randomJson(r, 1),
    () => "",
    () => " \n\t ",
    () => "y".repeat(r.int(256 * 1024 - 10, 256 * 1024 + 10)),
    () => String.fromCharCode(...Array.from({ length: r.int(1, 200) }, () => r.int(0, 0xffff))),
  ])();
}

test(`bus API fuzz: random sends, receives, peeks, tails and status lookups give typed refusals or exact deliveries, all inside the root`, (t) => {
  const r = rng(SEED);
  const root = makeRoot(t);
  // Project and role names that turn out valid (a hostile generator sometimes makes "web") join too.
  const rooms = new Map<string, string[]>([["shop", ["web", "api", "r0", "r1"]]]);
  const known = (project: string): string[] => rooms.get(project) ?? rooms.set(project, []).get(project)!;
  for (const role of known("shop")) receive({ root, project: "shop", role }, { by: "setup" });
  const counts = new Map<string, number>();
  const sent = new Map<string, string>();
  const got = new Map<string, number>();
  const ids: string[] = [];
  const cases = 1500 * SCALE;
  for (let i = 0; i < cases; i++) {
    const me = r.chance(0.85) ? r.pick(known("shop")) : hostileName(r);
    const project = r.chance(0.9) ? "shop" : hostileName(r);
    const op = r.pick(["send", "send", "send", "recv", "peek", "tail", "status"]);
    const what = `case ${i}: ${op} as ${JSON.stringify(me)} in ${JSON.stringify(project)}`;
    try {
      const identity: Identity = resolveIdentity(root, {}, project, me);
      if (op === "send") {
        const to = r.chance(0.7) ? r.pick([...known(project), "*"]) : hostileName(r);
        const replyTo = r.chance(0.8) ? undefined : r.chance(0.5) && ids.length > 0 ? r.pick(ids) : hostileText(r, 2);
        const b = body(r);
        const result = sendMessage({
          identity,
          to,
          body: b,
          queue: r.chance(0.3),
          stamp: { chain: "cfuzz", hop: 0 },
          limits: SETTINGS,
          ...(replyTo !== undefined && { replyTo }),
        });
        assert.equal(result.message.body, b, what);
        ids.push(result.message.id);
        if (!known(project).includes(identity.role)) known(project).push(identity.role);
        for (const d of result.deliveries) {
          sent.set(`${project}/${d.role}/${result.message.id}`, b as string);
          if (!known(project).includes(d.role)) known(project).push(d.role);
        }
      } else if (op === "recv") {
        const limit = r.int(0, 5);
        const result = receive(identity, { by: "fuzz", accept: (_m, n) => n < limit, compactBytes: 8192 });
        if (!known(project).includes(identity.role)) known(project).push(identity.role);
        for (const m of result.messages)
          got.set(`${project}/${identity.role}/${m.id}`, (got.get(`${project}/${identity.role}/${m.id}`) ?? 0) + 1);
      } else if (op === "peek") peek(identity);
      else if (op === "tail") tail(identity, r.int(0, 50));
      else messageStatus(root, project, r.chance(0.5) && ids.length > 0 ? r.pick(ids) : hostileText(r, 2));
    } catch (err) {
      assertRefusal(err, what, counts);
    }
  }
  for (const [project, roles] of rooms) {
    for (const role of roles) {
      for (const m of receive({ root, project, role }, { by: "drain" }).messages)
        got.set(`${project}/${role}/${m.id}`, (got.get(`${project}/${role}/${m.id}`) ?? 0) + 1);
    }
  }
  const wrong: string[] = [];
  for (const key of sent.keys()) if (got.get(key) !== 1) wrong.push(`${key} delivered ${got.get(key) ?? 0} times`);
  for (const key of got.keys()) if (!sent.has(key)) wrong.push(`${key} delivered but never sent`);
  assert.deepEqual(wrong.slice(0, 10), [], `seed ${SEED}`);
  for (const [project, roles] of rooms) {
    for (const role of roles) {
      for (const s of readAllKept(rolePaths(root, project, role)).messages) {
        assert.equal(
          sent.get(`${project}/${role}/${s.message.id}`),
          s.message.body,
          `seed ${SEED}: ${project}/${role}/${s.message.id} is stored byte-exact`,
        );
      }
    }
  }
  assert.deepEqual(treeProblems(dirname(root), root), [], `seed ${SEED}`);
  for (const code of ["E_BAD_NAME", "E_BAD_BODY", "E_TOO_LARGE", "E_SELF_SEND", "E_USAGE"])
    assert.ok((counts.get(code) ?? 0) > 0, `no ${code} refusal was exercised`);
  t.diagnostic(
    `bus API fuzz (seed ${SEED}): ${cases} cases, ${sent.size} deliveries exact, refusals ${JSON.stringify(Object.fromEntries(counts))}`,
  );
});

/** The header attribute values as the model reads them (attr() escapes as \uXXXX). */
function unescapeAttr(value: string): string {
  return value.replace(/\\u([0-9a-f]{4})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function randomMessage(r: Rng, n: number): Message {
  const field = (): string => (r.chance(0.7) ? `x${n}` : hostileText(r, 3));
  return {
    id: r.chance(0.8) ? `m${n}` : field(),
    ts: field(),
    project: "shop",
    from: r.chance(0.6) ? "api" : field(),
    to: r.chance(0.8) ? "web" : "*",
    body: hostileText(r, r.int(1, 60)),
    chain: field(),
    hop: r.int(0, 9),
    ...(r.chance(0.2) && { replyTo: field() }),
  };
}

test("frame fuzz: whatever the bodies and header fields, the model sees exactly the messages sent, each once, with its own sender", () => {
  const r = rng(SEED + 1);
  const cases = 2000 * SCALE;
  for (let i = 0; i < cases; i++) {
    const frame = new MessageFrame({ project: "shop", role: "web", ...(r.chance(0.3) && { leadReserve: 450 }) });
    const messages = Array.from({ length: r.int(1, 8) }, (_, k) => randomMessage(r, k));
    let left = 0;
    for (const m of messages) if (!frame.tryAdd(m)) left++;
    const boundary = chooseBoundary(frame.messages);
    const text = frame.render(left, boundary);
    const what = `case ${i} (seed ${SEED + 1})`;
    assert.ok(text.length <= CONTEXT_LIMIT, `${what}: ${text.length} characters`);
    const opens = text.split(`<message boundary="${boundary}" `).length - 1;
    const closes = text.split(`</message boundary="${boundary}">`).length - 1;
    assert.equal(opens, frame.messages.length, `${what}: one opening tag per message`);
    assert.equal(closes, frame.messages.length, `${what}: one closing tag per message`);
    let at = 0;
    for (const m of frame.messages) {
      const open = text.indexOf(`<message boundary="${boundary}" `, at);
      const eol = text.indexOf("\n", open);
      const header = text.slice(open, eol);
      const close = text.indexOf(`</message boundary="${boundary}">`, eol);
      const shown = text.slice(eol + 1, close);
      assert.equal(shown, m.body.endsWith("\n") ? m.body : `${m.body}\n`, `${what}: the body is shown exactly`);
      const attrs = Object.fromEntries(
        [...header.matchAll(/ ([a-z-]+)="((?:[^"\\]|\\u[0-9a-f]{4})*)"/g)].map((x) => [x[1]!, unescapeAttr(x[2]!)]),
      );
      assert.equal(attrs.from, m.from, `${what}: the sender is the message's own`);
      assert.equal(attrs.id, m.id, what);
      assert.equal(attrs.hop, String(m.hop), what);
      assert.ok(!/[\u0000-\u001f\u2028\u2029]/.test(header), `${what}: the header is one clean line`);
      at = close;
    }
  }
});

function hookEnvFor(root: string, role: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { BRIDGE_ROOT: root, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: role, CLAUDECODE: "1", PATH: process.env.PATH ?? "", ...extra };
}

/** What `quietly` in hooks.ts makes of a handler: a throw becomes one stderr line and exit 0. */
function asDispatched(run: () => HookResult): HookResult {
  try {
    return run();
  } catch (err) {
    assert.ok(
      err instanceof BridgeError || (err instanceof Error && typeof (err as NodeJS.ErrnoException).code === "string"),
      `a hook handler crashed (seed ${SEED}): ${err instanceof Error ? err.stack : String(err)}`,
    );
    return { code: 0, stderr: String(err) };
  }
}

test("hook fuzz: recv, send and guard handlers take any hook input shape; recv injects every message it consumes, once; guard answers allow or deny", (t) => {
  const r = rng(SEED + 2);
  const root = makeRoot(t);
  receive({ root, project: "shop", role: "web" }, { by: "setup" });
  receive({ root, project: "shop", role: "api" }, { by: "setup" });
  const injected = new Map<string, number>();
  const cases = 400 * SCALE;
  let denies = 0;
  for (let i = 0; i < cases; i++) {
    if (r.chance(0.5)) {
      sendMessage({
        identity: { root, project: "shop", role: "api" },
        to: "web",
        body: `m ${hostileText(r, r.int(1, 300))}`,
        stamp: { chain: "cfz", hop: r.int(0, 8) },
        limits: SETTINGS,
      });
    }
    const shape = randomJson(r, 2);
    const input = (
      r.chance(0.6)
        ? {
            hook_event_name: r.pick(["UserPromptSubmit", "SessionStart", "Stop", hostileText(r, 1)]),
            prompt: r.chance(0.7) ? hostileText(r, 3) : randomJson(r, 1),
            session_id: randomJson(r, 0),
            ...(typeof shape === "object" && shape !== null && !Array.isArray(shape) ? shape : {}),
          }
        : {}
    ) as Record<string, unknown>;
    const which = r.pick(["recv", "recv", "send", "guard"]);
    const env = hookEnvFor(
      root,
      which === "send" ? "web" : "web",
      which === "send" ? { BRIDGE_AUTOSEND: "1", BRIDGE_SEND_TO: r.pick(["api", "*", hostileName(r)]) } : {},
    );
    if (which === "send") input.last_assistant_message = r.chance(0.8) ? hostileText(r, r.int(1, 50)) : randomJson(r, 1);
    if (which === "guard") {
      input.tool_name = r.pick(["Bash", "Bash", "Read", undefined]);
      input.tool_input = r.chance(0.8)
        ? { command: r.chance(0.5) ? hostileText(r, 6) : r.pick(["git push", "ls", "git status", "echo $(git commit)"]) }
        : randomJson(r, 1);
    }
    const result = asDispatched(() =>
      // The file store (no BRIDGE_URL): hook recv answers synchronously.
      which === "recv"
        ? (hookRecv(env, input) as HookResult)
        : which === "send"
          ? (hookSend(env, input) as HookResult)
          : hookGuard(env, () => input),
    );
    assert.equal(result.code, 0, `case ${i} (${which}, seed ${SEED + 2}): a hook must never exit non-zero here (2 would block the prompt)`);
    if (!result.stdout) continue;
    const out = JSON.parse(result.stdout) as { hookSpecificOutput: Record<string, unknown> };
    if (which === "guard") {
      assert.equal(out.hookSpecificOutput.permissionDecision, "deny");
      assert.match(String(out.hookSpecificOutput.permissionDecisionReason), /^session-bridge guard: /);
      denies++;
      continue;
    }
    assert.ok(["UserPromptSubmit", "SessionStart"].includes(String(out.hookSpecificOutput.hookEventName)), `case ${i}: event`);
    const context = String(out.hookSpecificOutput.additionalContext);
    assert.ok(context.length <= CONTEXT_LIMIT);
    for (const m of context.matchAll(/<message boundary="[0-9a-f]{12}" id="(m[0-9a-z]+)"/g))
      injected.set(m[1]!, (injected.get(m[1]!) ?? 0) + 1);
  }
  // Every message the hook consumed was put in front of the model exactly once.
  const kept = readAllKept(rolePaths(root, "shop", "web")).messages;
  const wrong = kept
    .filter((s) => (s.read ? injected.get(s.message.id) !== 1 : injected.has(s.message.id)))
    .map((s) => `${s.message.id}: read ${s.read}, injected ${injected.get(s.message.id) ?? 0} times`);
  assert.deepEqual(wrong.slice(0, 10), [], `seed ${SEED + 2}`);
  assert.ok(injected.size > 20 && denies > 10, `too few deliveries (${injected.size}) or denials (${denies}) exercised`);
  assert.deepEqual(treeProblems(dirname(root), root), []);
  t.diagnostic(`hook fuzz (seed ${SEED + 2}): ${cases} hook runs, ${injected.size} messages injected once each, ${denies} guard denials`);
});
