// The tmux driver's decisions against a fake tmux (the real one is in spawner-tmux.test.ts):
// which pane is safe to type into, and how a nudge is typed and confirmed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nudgeTmux, resolveTmuxTarget } from "../../src/spawner/drivers/tmux.ts";
import type { PaneProcessFacts, TmuxDeps, TmuxTarget } from "../../src/spawner/drivers/tmux.ts";
import { descendsFrom } from "../../src/lib/proc.ts";
import { rolePaths } from "../../src/bus/layout.ts";
import { effectiveRole, defaultSettings } from "../../src/settings/schema.ts";
import type { EffectiveRole } from "../../src/settings/schema.ts";
import { registerSession } from "../../src/bus/sessions.ts";
import {
  cursorLineArgs,
  lineShowsTyped,
  literalArg,
  paneInfoArgs,
  parsePaneInfo,
  sendEnterArgs,
  sendLiteralArgs,
} from "../../src/spawner/tmux.ts";
import type { TmuxResult } from "../../src/spawner/tmux.ts";

function withRoot(fn: (root: string) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), "sb-tmuxdrv-"));
    try {
      await fn(join(dir, "root"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

function fake(answer: (args: string[]) => TmuxResult): TmuxDeps & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    run: async (args) => {
      calls.push(args);
      return answer(args);
    },
    sleep: () => new Promise((resolve) => setImmediate(resolve)),
    confirmMs: 30,
  };
}

const okOut = (stdout: string): TmuxResult => ({ code: 0, stdout, stderr: "" });
const role = (patch: Partial<EffectiveRole> = {}): EffectiveRole => ({ ...effectiveRole(defaultSettings(), "shop", "backend"), ...patch });

test("literalArg escapes only a trailing ';' (tmux's command separator), exactly", () => {
  assert.equal(literalArg("a; b"), "a; b");
  assert.equal(literalArg("end;"), "end\\;");
  assert.equal(literalArg("end\\;"), "end\\\\;");
  assert.equal(literalArg(";"), "\\;");
  assert.equal(literalArg(""), "");
});

test("command builders name the socket, type literally after --, and send Enter separately", () => {
  assert.deepEqual(sendLiteralArgs("/s", "%3", "-x $y"), ["-S", "/s", "send-keys", "-t", "%3", "-l", "--", "-x $y"]);
  assert.deepEqual(sendEnterArgs(undefined, "%3"), ["send-keys", "-t", "%3", "Enter"]);
  assert.deepEqual(paneInfoArgs("/s", "%3").slice(0, 6), ["-S", "/s", "display-message", "-p", "-t", "%3"]);
  assert.deepEqual(cursorLineArgs("/s", "%3", 7), ["-S", "/s", "capture-pane", "-p", "-t", "%3", "-S", "7", "-E", "7"]);
});

test("parsePaneInfo reads id, pid, dead flag, cursor line and command; rejects anything else", () => {
  assert.deepEqual(parsePaneInfo("%3\t123\t0\t4\tclaude\n"), { id: "%3", pid: 123, dead: false, cursorY: 4, command: "claude" });
  assert.equal(parsePaneInfo("%3\t123\t1\t0\tbash\n")!.dead, true);
  assert.equal(parsePaneInfo(""), undefined);
  assert.equal(parsePaneInfo("no server running\n"), undefined);
  assert.equal(parsePaneInfo("%3\tx\t0\t0\tclaude"), undefined);
});

test("lineShowsTyped: the typed tail on the input line, padding and a TUI's box border ignored", () => {
  const nudge = "[session-bridge] New messages are waiting for you.";
  assert.equal(lineShowsTyped(`> ${nudge}`, nudge), true);
  assert.equal(lineShowsTyped(`│ > ${nudge}      │`, nudge), true);
  assert.equal(lineShowsTyped("are waiting for you.", nudge), true, "the wrapped last part of a long nudge");
  assert.equal(lineShowsTyped("you.", nudge), true);
  assert.equal(lineShowsTyped("> ", nudge), false);
  assert.equal(lineShowsTyped("", nudge), false);
  assert.equal(lineShowsTyped("│ >                  │", nudge), false);
  assert.equal(lineShowsTyped("some other output", nudge), false);
});

test(
  "resolve: no live session, or one outside tmux, is no target, with the way to fix it",
  withRoot(async (root) => {
    const paths = rolePaths(root, "shop", "backend");
    const deps = fake(() => okOut(""));
    const none = await resolveTmuxTarget(paths, role(), deps);
    assert.deepEqual(none, {
      ok: false,
      reason:
        "no live agent session holds shop/backend; start one in a tmux pane: BRIDGE_PROJECT=shop BRIDGE_ROLE=backend claude (or codex, gemini)",
    });
    registerSession(paths, { pid: process.pid });
    const outside = await resolveTmuxTarget(paths, role(), deps);
    assert.equal(outside.ok, false);
    assert.match(
      (outside as { reason: string }).reason,
      /is not running inside tmux; start it in a tmux pane, set tmuxTarget, or use the socket or spawn driver/,
    );
    assert.equal(deps.calls.length, 0, "tmux is not even asked");
  }),
);

test(
  "resolve: gone, dead, not the session, not in the foreground — each refused with its reason; the session's own pane accepted",
  withRoot(async (root) => {
    const paths = rolePaths(root, "shop", "backend");
    // This test process plays the claude of the session; its parent plays the shell in the pane.
    registerSession(paths, { pid: process.pid, tmux: { pane: "%3", socket: "/tmp/s" } });
    const inFront = { descendsFrom, isInForeground: () => true };
    const behind = { descendsFrom, isInForeground: () => false };
    const unknown = { descendsFrom, isInForeground: () => undefined };
    const cases: Array<[TmuxResult, PaneProcessFacts, RegExp | true]> = [
      [
        { code: 1, stdout: "", stderr: "can't find pane: %3\n" },
        inFront,
        /tmux pane %3 on tmux server \/tmp\/s is gone \(can't find pane: %3\)/,
      ],
      [
        { code: null, stdout: "", stderr: "tmux is not installed or not on PATH" },
        inFront,
        /is gone \(tmux is not installed or not on PATH\)/,
      ],
      [okOut(`%3\t${process.pid}\t1\t0\tclaude`), inFront, /is dead/],
      [
        okOut(`%3\t1\t0\t0\tclaude`),
        inFront,
        /runs "claude" \(pane pid 1\), which is not the live session of shop\/backend \(pid \d+\) nor runs it/,
      ],
      // claude suspended (Ctrl-Z) or in the background of the pane's shell: the keys would reach the shell.
      [
        okOut(`%3\t${process.ppid}\t0\t0\tbash`),
        behind,
        /tmux pane %3 on tmux server \/tmp\/s has "bash" in the foreground, not the claude of shop\/backend \(pid \d+: suspended/,
      ],
      [okOut(`%3\t${process.pid}\t0\t0\tclaude`), behind, /has "claude" in the foreground, not the claude of shop\/backend/],
      [okOut(`%3\t${process.pid}\t0\t0\tclaude`), inFront, true],
      [okOut(`%3\t${process.ppid}\t0\t0\tclaude`), inFront, true],
      // macOS names the process after its file: an npm install shows claude.exe, the native installer a version.
      [okOut(`%3\t${process.ppid}\t0\t0\tclaude.exe`), inFront, true],
      [okOut(`%3\t${process.ppid}\t0\t0\t2.1.328`), inFront, true],
      // Neither /proc nor ps could tell the foreground: only then does the name decide.
      [okOut(`%3\t${process.pid}\t0\t0\tclaude.exe`), unknown, true],
      [okOut(`%3\t${process.ppid}\t0\t0\tbash`), unknown, /has "bash" in the foreground/],
    ];
    for (const [answer, facts, expected] of cases) {
      const deps = { ...fake(() => answer), facts };
      const result = await resolveTmuxTarget(paths, role(), deps);
      assert.deepEqual(deps.calls[0]!.slice(0, 6), ["-S", "/tmp/s", "display-message", "-p", "-t", "%3"]);
      if (expected === true) {
        assert.equal(result.ok, true, JSON.stringify(result));
        assert.equal((result as { target: TmuxTarget }).target.pane, "%3");
      } else assert.match((result as { reason: string }).reason, expected);
    }
  }),
);

test(
  "resolve: a Codex or Gemini session's pane is accepted by the process tree, its node launcher by name only where the foreground is unknown",
  withRoot(async (root) => {
    const inFront = { descendsFrom, isInForeground: () => true };
    const behind = { descendsFrom, isInForeground: () => false };
    const unknown = { descendsFrom, isInForeground: () => undefined };
    for (const agent of ["codex", "gemini"] as const) {
      const paths = rolePaths(root, "shop", agent);
      // This test process plays the CLI holding the session (the record's pid); its parent the pane's launcher.
      registerSession(paths, { pid: process.pid, agent, tmux: { pane: "%3", socket: "/tmp/s" } });
      const cases: Array<[TmuxResult, PaneProcessFacts, RegExp | true]> = [
        [okOut(`%3\t${process.ppid}\t0\t0\tnode`), inFront, true],
        [okOut(`%3\t${process.pid}\t0\t0\t${agent}`), inFront, true],
        [okOut(`%3\t${process.ppid}\t0\t0\tnode`), unknown, true],
        [okOut(`%3\t${process.ppid}\t0\t0\t${agent}`), unknown, true],
        [
          okOut(`%3\t${process.ppid}\t0\t0\tclaude`),
          unknown,
          new RegExp(`has "claude" in the foreground, not the ${agent} of shop/${agent}`),
        ],
        [okOut(`%3\t${process.ppid}\t0\t0\tnode`), behind, new RegExp(`has "node" in the foreground, not the ${agent} of shop/${agent}`)],
        [okOut(`%3\t1\t0\t0\tnode`), inFront, /which is not the live session of shop\/(codex|gemini)/],
      ];
      for (const [answer, facts, expected] of cases) {
        const result = await resolveTmuxTarget(paths, role({ role: agent }), { ...fake(() => answer), facts });
        if (expected === true) assert.equal(result.ok, true, `${agent}: ${JSON.stringify(result)}`);
        else assert.match((result as { reason: string }).reason, expected);
      }
    }
  }),
);

test(
  "resolve: a configured tmuxTarget is looked up on the session's server",
  withRoot(async (root) => {
    const paths = rolePaths(root, "shop", "backend");
    registerSession(paths, { pid: process.pid, tmux: { pane: "%3", socket: "/tmp/s" } });
    const deps = { ...fake(() => okOut(`%9\t${process.pid}\t0\t0\tclaude`)), facts: { descendsFrom, isInForeground: () => true } };
    const result = await resolveTmuxTarget(paths, role({ tmuxTarget: "work:2.1" }), deps);
    assert.deepEqual(deps.calls[0]!.slice(0, 6), ["-S", "/tmp/s", "display-message", "-p", "-t", "work:2.1"]);
    assert.equal(result.ok && result.target.pane, "%9");
  }),
);

const target: TmuxTarget = {
  socket: "/tmp/s",
  pane: "%3",
  where: "tmux pane %3 (socket /tmp/s)",
  session: { pid: 1, host: "h", startedAt: "", lastSeen: "", live: true },
};

test("nudge: text, then a separate Enter; confirmed when the input line clears", async () => {
  let submitted = false;
  const deps = fake((args) => {
    if (args.includes("Enter")) submitted = true;
    if (args.includes("display-message")) return okOut("%3\t1\t0\t5\tclaude");
    if (args.includes("capture-pane")) return okOut(submitted ? "> " : "> wake up; now");
    return okOut("");
  });
  const outcome = await nudgeTmux(target, "wake up; now", { ...deps, taken: () => false });
  assert.deepEqual(outcome, { ok: true, detail: "nudged tmux pane %3 (socket /tmp/s): prompt submitted (input line cleared)" });
  const keys = deps.calls.filter((c) => c.includes("send-keys"));
  assert.deepEqual(keys, [sendLiteralArgs("/tmp/s", "%3", "wake up; now"), sendEnterArgs("/tmp/s", "%3")]);
  assert.ok(
    deps.calls.some((c) => c.join(" ").includes("capture-pane -p -t %3 -S 5 -E 5")),
    "reads the cursor's line",
  );
});

test("nudge: confirmed as soon as the session took the mail", async () => {
  const deps = fake(() => okOut("> still shows wake up"));
  const outcome = await nudgeTmux(target, "wake up", { ...deps, taken: () => true });
  assert.match(outcome.detail, /the session took the mail$/);
  assert.equal(deps.calls.filter((c) => c.includes("Enter")).length, 1);
});

test("nudge: a dropped Enter is pressed once more, and a prompt that never submits is reported, not retried forever", async () => {
  let enters = 0;
  const once = fake((args) => {
    if (args.includes("Enter")) enters++;
    if (args.includes("display-message")) return okOut("%3\t1\t0\t0\tclaude");
    if (args.includes("capture-pane")) return okOut(enters >= 2 ? "" : "> wake up");
    return okOut("");
  });
  assert.match((await nudgeTmux(target, "wake up", { ...once, taken: () => false })).detail, /input line cleared\) after a second Enter$/);
  const stuck = fake((args) =>
    args.includes("display-message") ? okOut("%3\t1\t0\t0\tclaude") : args.includes("capture-pane") ? okOut("> wake up") : okOut(""),
  );
  const outcome = await nudgeTmux(target, "wake up", { ...stuck, taken: () => false });
  assert.deepEqual(outcome, {
    ok: false,
    detail: "typed the nudge into tmux pane %3 (socket /tmp/s), but it still shows in the input line after two Enters",
  });
  assert.equal(stuck.calls.filter((c) => c.includes("Enter")).length, 2);
});

test("nudge: a failing send-keys is reported with tmux's message", async () => {
  const deps = fake(() => ({ code: 1, stdout: "", stderr: "can't find pane: %3\n" }));
  assert.deepEqual(await nudgeTmux(target, "x", { ...deps, taken: () => false }), {
    ok: false,
    detail: "typing into tmux pane %3 (socket /tmp/s) failed: can't find pane: %3",
  });
});
