// A lived-in bridge root for the dashboard's screenshot (docs/dashboard.png): two rooms, live and
// offline roles, every mode, a conversation over half an hour with chains and hops, a broadcast,
// wakes and refusals, and the daemon's log. Written through the store's own functions, except
// the few records whose time the store always stamps "now" (a session last seen hours ago, log
// lines), which are written as the store writes them.
import { mkdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { appendMessage, consumeUnread } from "../../src/bus/inbox.ts";
import { ensureRoleDir, rolePaths } from "../../src/bus/layout.ts";
import type { Message } from "../../src/bus/message.ts";
import { registerSession } from "../../src/bus/sessions.ts";
import { configureRole, setRoleMode, turnOn } from "../../src/settings/ops.ts";
import { processStartTime } from "../../src/lib/proc.ts";
import { spawnerPaths } from "../../src/spawner/state.ts";
import { recordWakeDecision, finishWake } from "../../src/wake/state.ts";

const MIN = 60_000;

export function seedDemo(root: string, now = Date.now()): void {
  const at = (minutesAgo: number): string => new Date(now - minutesAgo * MIN).toISOString();
  const paths = (project: string, role: string) => rolePaths(root, project, role);
  let seq = 0;
  const id = (minutesAgo: number): string => `m${(now - minutesAgo * MIN).toString(36)}${String(++seq).padStart(4, "0")}demo0000`;

  turnOn(root);
  configureRole(root, "shop", "qa", { driver: "spawn", cwd: "/home/dev/shop", mode: "auto" });
  configureRole(root, "wiki", "reviewer", { driver: "spawn", cwd: "/home/dev/wiki" });
  setRoleMode(root, "wiki", "writer", "manual");

  for (const [project, role] of [
    ["shop", "backend"],
    ["shop", "web"],
    ["shop", "infra"],
    ["shop", "qa"],
    ["wiki", "writer"],
    ["wiki", "reviewer"],
  ] as const) {
    ensureRoleDir(paths(project, role));
  }
  // Live sessions are this very process (alive while the page is shown), in tmux panes.
  const socket = "/tmp/tmux-1000/default";
  registerSession(paths("shop", "backend"), { pid: process.pid, tmux: { pane: "%3", socket }, attended: true, cwd: "/home/dev/shop/api" });
  registerSession(paths("shop", "web"), { pid: process.pid, tmux: { pane: "%5", socket }, attended: true, cwd: "/home/dev/shop/web" });
  registerSession(paths("wiki", "writer"), { pid: process.pid, attended: true, cwd: "/home/dev/wiki" });
  const gone = paths("shop", "infra");
  mkdirSync(gone.sessions, { recursive: true });
  writeFileSync(
    join(gone.sessions, "999999.json"),
    JSON.stringify({ pid: 999999, host: hostname(), startedAt: at(300), lastSeen: at(140), endedAt: at(140) }) + "\n",
    { mode: 0o600 },
  );

  const chainA = "cdemo00000a1b2c3";
  const chainB = "cdemo00000d4e5f6";
  const chainC = "cdemo0000071a9e0";
  const chainD = "cdemo00000c0ffee";
  const send = (
    project: string,
    from: string,
    to: string[],
    body: string,
    minutesAgo: number,
    chain: string,
    hop: number,
    extra: Partial<Message> = {},
  ): Message => {
    const m: Message = {
      id: id(minutesAgo),
      ts: at(minutesAgo),
      project,
      from,
      to: to.length > 1 ? "*" : to[0]!,
      body,
      chain,
      hop,
      ...extra,
    };
    for (const role of to) appendMessage(paths(project, role), m);
    return m;
  };
  const read = (project: string, role: string): void => void consumeUnread(paths(project, role), { by: "demo" });

  const a0 = send("shop", "web", ["backend"], "Can GET /users also return the email? The new profile page needs it.", 31, chainA, 0);
  read("shop", "backend");
  const a1 = send(
    "shop",
    "backend",
    ["web"],
    "Done: GET /users now returns {id, name, email}. Migration 0042 adds the column; run `npm run migrate` locally.",
    28,
    chainA,
    1,
    { replyTo: a0.id },
  );
  read("shop", "web");
  send(
    "shop",
    "web",
    ["backend"],
    "Thanks, profile page updated and its tests pass. Can email be null for older accounts?",
    25,
    chainA,
    2,
    { replyTo: a1.id },
  );
  read("shop", "backend");
  send(
    "shop",
    "backend",
    ["web"],
    "Yes: nullable for accounts created before 2021. Typed as `string | null` in api/types.ts.",
    23,
    chainA,
    3,
  );
  read("shop", "web");
  send("shop", "infra", ["backend", "qa", "web"], "Staging redeploys at 14:30; expect two minutes of 502s.", 19, chainB, 0);
  read("shop", "backend");
  read("shop", "web");
  read("shop", "qa");
  const c0 = send(
    "shop",
    "qa",
    ["web"],
    "Checkout e2e fails on Safari: the Pay button sits under the cookie banner. Steps in qa/notes/checkout.md.",
    12,
    chainC,
    0,
  );
  read("shop", "web");
  send("shop", "web", ["qa"], "Fixed the banner's z-index (web/src/Banner.css). Please run checkout again.", 8, chainC, 1, {
    replyTo: c0.id,
  });
  read("shop", "qa");
  send("shop", "qa", ["web"], "Checkout passes on Safari, Chrome and Firefox now.", 4, chainC, 2);
  send("shop", "backend", ["infra"], "Please raise the staging DB connection limit to 40 before Friday's load test.", 2, chainD, 0);

  const d0 = send(
    "wiki",
    "writer",
    ["reviewer"],
    "Draft of the API guide is in docs/api.md; please review the auth section.",
    40,
    "cdemo0000000d0c5",
    0,
  );
  read("wiki", "reviewer");
  send(
    "wiki",
    "reviewer",
    ["writer"],
    "Two fixes: the token lifetime is 1 h, not 24 h, and the refresh example is missing its header.",
    36,
    "cdemo0000000d0c5",
    6,
    { replyTo: d0.id },
  );

  const wake = (project: string, role: string, driver: string, minutesAgo: number, chain: string, hop: number): void => {
    recordWakeDecision(paths(project, role), () => ({ wake: true, chain, hop, ids: [] }), { driver, now: now - minutesAgo * MIN });
  };
  const refuse = (
    project: string,
    role: string,
    driver: string,
    minutesAgo: number,
    code: "hops" | "manual" | "cooldown",
    reason: string,
  ): void => {
    recordWakeDecision(paths(project, role), () => ({ wake: false, code, reason }), { driver, now: now - minutesAgo * MIN });
  };
  wake("shop", "backend", "tmux", 31, chainA, 0);
  wake("shop", "web", "tmux", 28, chainA, 1);
  wake("shop", "backend", "tmux", 25, chainA, 2);
  wake("shop", "web", "tmux", 12, chainC, 0);
  wake("shop", "qa", "spawn", 8, chainC, 1);
  finishWake(paths("shop", "qa"), "claude -p exited 0 after 3 min 2 s");
  refuse("shop", "web", "tmux", 4, "cooldown", "cooldown: last wake 3 s ago (cooldownSeconds 10)");
  refuse("shop", "infra", "tmux", 2, "manual", '"infra" is a default-off role; opt it in by name: session-bridge spawner on shop infra');
  refuse(
    "wiki",
    "reviewer",
    "spawn",
    36,
    "hops",
    "loop guard: chain cdemo0000000d0c5 reached hop 6 (maxHops 6); the messages wait for a prompt typed by a human, which starts a new chain",
  );

  // The daemon "running" is this process, started 45 minutes ago (the lock file as the daemon writes it).
  const start = processStartTime(process.pid);
  mkdirSync(spawnerPaths(root).dir, { recursive: true });
  writeFileSync(
    spawnerPaths(root).pid,
    JSON.stringify({ pid: process.pid, ...(start !== undefined && { start }), host: hostname(), startedAt: at(45) }) + "\n",
    { mode: 0o600 },
  );
  const log = [
    [45, { event: "start", msg: `daemon started for ${root}: automation on (defaultMode auto)` }],
    [
      31,
      { event: "wake", project: "shop", role: "backend", driver: "tmux", msg: `waking via tmux for 1 message(s) (chain ${chainA} hop 0)` },
    ],
    [28, { event: "wake", project: "shop", role: "web", driver: "tmux", msg: `waking via tmux for 1 message(s) (chain ${chainA} hop 1)` }],
    [
      25,
      { event: "wake", project: "shop", role: "backend", driver: "tmux", msg: `waking via tmux for 1 message(s) (chain ${chainA} hop 2)` },
    ],
    [
      36,
      {
        event: "refused",
        project: "wiki",
        role: "reviewer",
        code: "hops",
        msg: "hops: loop guard: chain cdemo0000000d0c5 reached hop 6 (maxHops 6); the messages wait for a prompt typed by a human",
      },
    ],
    [12, { event: "wake", project: "shop", role: "web", driver: "tmux", msg: `waking via tmux for 1 message(s) (chain ${chainC} hop 0)` }],
    [8, { event: "wake", project: "shop", role: "qa", driver: "spawn", msg: `waking via spawn for 1 message(s) (chain ${chainC} hop 1)` }],
    [8, { event: "run-start", project: "shop", role: "qa", msg: "claude -p started in /home/dev/shop (pid 48213)" }],
    [5, { event: "run-end", project: "shop", role: "qa", msg: "claude -p exited 0 after 3 min 2 s" }],
    [
      4,
      {
        event: "deferred",
        project: "shop",
        role: "web",
        code: "cooldown",
        msg: "cooldown: last wake 3 s ago (cooldownSeconds 10); retrying at the end of the cooldown",
      },
    ],
    [
      2,
      {
        event: "refused",
        project: "shop",
        role: "infra",
        code: "manual",
        msg: 'manual: "infra" is a default-off role; opt it in by name: session-bridge spawner on shop infra',
      },
    ],
  ] as const;
  const lines = [...log].sort((x, y) => y[0] - x[0]).map(([m, e]) => JSON.stringify({ ts: at(m), t: now - m * MIN, ...e }) + "\n");
  writeFileSync(spawnerPaths(root).log, lines.join(""), { mode: 0o600 });
}
