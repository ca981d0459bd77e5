// The tmux driver: type the fixed nudge into the pane where the role's agent session runs (Claude
// Code, Codex CLI or Gemini CLI: the session record says which).
// Typing into the wrong pane is the one thing it must never do, so before every nudge it checks
// that the pane exists on the session's own server, that the role's live session (its CLI's pid,
// checked with its start time) is the pane's process or runs under it (by pid, not by pane id: a
// pane id is reused by a restarted server), and that this CLI is what the pane's keys reach:
// its process group is the terminal's foreground group (not suspended, not in the background, not
// behind another program started in the same shell). The pane's command name is not the test:
// on macOS it is the file's name (`claude.exe`, a version number; agents/claude/process.ts), and
// Codex and Gemini run under `node` (agents/codex/process.ts, agents/gemini/process.ts).
import type { RolePaths } from "../../bus/layout.ts";
import { isAgentCliName, recordAgent } from "../../agents/process.ts";
import { descendsFrom, isInForeground } from "../../lib/proc.ts";
import type { EffectiveRole } from "../../settings/schema.ts";
import { tmuxCandidate } from "../../wake/targets.ts";
import type { SessionView } from "../../bus/sessions.ts";
import { cursorLineArgs, describeFailure, lineShowsTyped, paneInfoArgs, parsePaneInfo, sendEnterArgs, sendLiteralArgs } from "../tmux.ts";
import type { PaneInfo, TmuxRunner } from "../tmux.ts";

export interface TmuxTarget {
  socket: string | undefined;
  pane: string;
  session: SessionView;
  where: string;
}

export type TmuxTargetCheck = { ok: true; target: TmuxTarget } | { ok: false; reason: string };

/** The process facts the pane check asks (lib/proc.ts; a fake in tests). */
export interface PaneProcessFacts {
  descendsFrom(pid: number, ancestor: number): boolean;
  isInForeground(pid: number): boolean | undefined;
}

export const realPaneFacts: PaneProcessFacts = { descendsFrom: (pid, ancestor) => descendsFrom(pid, ancestor), isInForeground };

export interface TmuxDeps {
  run: TmuxRunner;
  sleep(ms: number): Promise<void>;
  /** Defaults to realPaneFacts. */
  facts?: PaneProcessFacts;
  /** Overrides CONFIRM_MS (tests). */
  confirmMs?: number;
}

/** Pause between the text and Enter: Enter sent in the same burst is sometimes taken as pasted text. */
export const ENTER_DELAY_MS = 200;
/** How long to watch for the prompt being submitted before pressing Enter once more. */
export const CONFIRM_MS = 1500;
const POLL_MS = 50;

/** `sessions`: the role's sessions when its store is not the role folder (Redis: those of this machine). */
export async function resolveTmuxTarget(
  paths: RolePaths,
  role: EffectiveRole,
  deps: TmuxDeps,
  sessions?: SessionView[],
): Promise<TmuxTargetCheck> {
  const name = `${role.project}/${role.role}`;
  const found = tmuxCandidate(paths, role, sessions);
  if (!found.ok) return { ok: false, reason: found.reason };
  const { socket, pane: wanted, live } = found;
  const on = socket ? ` on tmux server ${socket}` : " on the default tmux server";
  const result = await deps.run(paneInfoArgs(socket, wanted));
  const info = result.code === 0 ? parsePaneInfo(result.stdout) : undefined;
  if (!info) return { ok: false, reason: `tmux pane ${wanted}${on} is gone (${describeFailure(result)}); not typing anywhere` };
  if (info.dead) return { ok: false, reason: `tmux pane ${info.id}${on} is dead (its program exited); not typing into it` };
  const facts = deps.facts ?? realPaneFacts;
  // pane_pid is the CLI itself (or, for Codex and Gemini, its node launcher) when the pane was
  // started with it, or the shell it was typed into; the record's pid is the process holding the session.
  const session = live.find((s) => s.pid === info.pid || facts.descendsFrom(s.pid, info.pid));
  if (!session) {
    const pids = live.map((s) => s.pid).join(", ") || "none";
    return {
      ok: false,
      reason: `tmux pane ${info.id}${on} runs "${info.command}" (pane pid ${info.pid}), which is not the live session of ${name} (pid ${pids}) nor runs it (the session ended and left a shell, or the pane was reused); not typing into it`,
    };
  }
  const foreground = facts.isInForeground(session.pid);
  const agent = recordAgent(session.agent);
  // Unknown (no /proc and no ps): only then does the name decide.
  if (foreground === false || (foreground === undefined && !isAgentCliName(agent, info.command))) {
    return {
      ok: false,
      reason: `tmux pane ${info.id}${on} has "${info.command}" in the foreground, not the ${agent} of ${name} (pid ${session.pid}: suspended, in the background, or behind another program); not typing into it`,
    };
  }
  return { ok: true, target: { socket, pane: info.id, session, where: `tmux pane ${info.id}${socket ? ` (socket ${socket})` : ""}` } };
}

export interface NudgeOutcome {
  ok: boolean;
  detail: string;
}

/**
 * Types `text`, pauses, presses Enter, then watches for the prompt to be submitted: the session
 * took the mail (its prompt hook consumed it), or the input line no longer shows the text. If
 * neither happens it presses Enter once more (the first can be dropped) and reports what it saw.
 * Seen with Claude Code 2.1.328 in tmux: the (hidden) terminal cursor stays on the input line, which
 * shows the wrapped tail of the typed nudge, and reads "❯ " once the prompt is submitted.
 */
export async function nudgeTmux(
  target: TmuxTarget,
  text: string,
  deps: TmuxDeps & { taken(): boolean | Promise<boolean> },
): Promise<NudgeOutcome> {
  const typed = await deps.run(sendLiteralArgs(target.socket, target.pane, text));
  if (typed.code !== 0) return { ok: false, detail: `typing into ${target.where} failed: ${describeFailure(typed)}` };
  await deps.sleep(ENTER_DELAY_MS);
  for (let attempt = 1; attempt <= 2; attempt++) {
    const enter = await deps.run(sendEnterArgs(target.socket, target.pane));
    if (enter.code !== 0) return { ok: false, detail: `pressing Enter in ${target.where} failed: ${describeFailure(enter)}` };
    const seen = await watchSubmit(target, text, deps);
    if (seen) return { ok: true, detail: `nudged ${target.where}: ${seen}${attempt === 2 ? " after a second Enter" : ""}` };
  }
  return { ok: false, detail: `typed the nudge into ${target.where}, but it still shows in the input line after two Enters` };
}

async function watchSubmit(
  target: TmuxTarget,
  text: string,
  deps: TmuxDeps & { taken(): boolean | Promise<boolean> },
): Promise<string | undefined> {
  const deadline = performance.now() + (deps.confirmMs ?? CONFIRM_MS);
  for (;;) {
    if (await deps.taken()) return "the session took the mail";
    const line = await inputLine(target, deps);
    if (line !== undefined && !lineShowsTyped(line, text)) return "prompt submitted (input line cleared)";
    if (performance.now() >= deadline) return undefined;
    await deps.sleep(POLL_MS);
  }
}

async function inputLine(target: TmuxTarget, deps: TmuxDeps): Promise<string | undefined> {
  const infoResult = await deps.run(paneInfoArgs(target.socket, target.pane));
  const info: PaneInfo | undefined = infoResult.code === 0 ? parsePaneInfo(infoResult.stdout) : undefined;
  if (!info) return undefined;
  const captured = await deps.run(cursorLineArgs(target.socket, target.pane, info.cursorY));
  return captured.code === 0 ? captured.stdout.replace(/\n$/, "") : undefined;
}
