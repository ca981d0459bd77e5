// `hook wait` (Stop, "asyncRewake": true): wakes an idle session when mail arrives, with no tmux and
// no daemon (docs/claude-code.md "asyncRewake Stop hooks"). Claude Code runs it in the background after
// every turn; exit 2 starts a new turn with our stderr shown to the model; exit 0 does nothing and
// the hook is not run again until some turn ends. So the waiter
//   - blocks until mail really arrives (fs.watch on the role folder, a slow poll as a safety net),
//     never poll-and-exit, and exits 0 when its session is gone or a newer waiter replaces it;
//   - asks the shared rails (decideWake under claimWake, like the daemon) before every wake, and on
//     a refusal keeps waiting: the refusal is recorded for `spawner status`, the mail stays for the
//     next prompt, and a refusal with a retry time is retried then;
//   - consumes the messages it wakes for and puts them, framed as data, on stderr, so the woken turn
//     has them, and continues their chain for the loop guard.
import { lstatSync, watch } from "node:fs";
import type { FSWatcher } from "node:fs";
import { pathsOf, receive, resolveIdentity } from "../bus.ts";
import type { Identity } from "../bus.ts";
import { continueFrom } from "../wake/chain.ts";
import { settingsPath, loadSettingsLenient } from "../settings/file.ts";
import { chooseBoundary, doorbell, DOORBELL_RESERVE, MessageFrame } from "./frame.ts";
import { isRecord, parseJson, randomHex, readFileIfExists, removeQuietly, writeFileAtomic } from "../lib/fs.ts";
import type { HookResult } from "./io.ts";
import type { ConsumeResult } from "../bus/inbox.ts";
import { peekUnread } from "../bus/inbox.ts";
import { ensureRoleDir, resolveRoot } from "../bus/layout.ts";
import type { RolePaths } from "../bus/layout.ts";
import { withLock } from "../bus/lock.ts";
import { isSameProcessAlive, processStartTime } from "../lib/proc.ts";
import type { StartTime } from "../lib/proc.ts";
import type { WakeDecision } from "../wake/rails.ts";
import { claimWake } from "../wake/claim.ts";
import { readWakeState, wakeLockPath } from "../wake/state.ts";
import { isoTime } from "../lib/time.ts";

/** The safety net under fs.watch (which can miss events on some filesystems), and the liveness check. */
export const POLL_MS = 2000;
const SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP"] as const;

interface Claude {
  pid: number;
  start: StartTime | undefined;
}

type Outcome = { kind: "wake"; text: string } | { kind: "replaced" } | { kind: "wait"; decision: WakeDecision };

export function hookWait(env: NodeJS.ProcessEnv): Promise<HookResult> | HookResult {
  const identity = resolveIdentity(resolveRoot(env), env);
  // Hooks always get CLAUDE_PID (seen); without it the waiter cannot tell when its session ends and
  // relies on Claude Code's SIGTERM (at /exit, or at the hook's timeout).
  const pid = Number(env.CLAUDE_PID);
  const claude = Number.isInteger(pid) && pid > 1 ? { pid, start: processStartTime(pid) } : undefined;
  if (claude && !isSameProcessAlive(claude.pid, claude.start)) return { code: 0 };
  const waiter = new Waiter(identity, claude, env.CLAUDE_CODE_SESSION_ID);
  waiter.takeOver();
  return waiter.run();
}

class Waiter {
  private readonly paths: RolePaths;
  private readonly token = randomHex(8);
  private finished = false;
  private resolve: ((result: HookResult) => void) | undefined;
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private retryAt: number | undefined;
  private scheduled = false;
  private lastSignature = "";
  /** After a "busy" refusal, the other driver clearing its in-flight mark is worth a new look. */
  private watchWakeState = false;
  private readonly onSignal = (): void => this.finish({ code: 0 });

  constructor(
    private readonly identity: Identity,
    private readonly claude: Claude | undefined,
    private readonly sessionId: string | undefined,
  ) {
    this.paths = pathsOf(identity);
  }

  /** Becomes the role's one waiter; an older one sees the token change and exits 0 without waking. */
  takeOver(): void {
    // Listening before the record is visible: a SIGTERM sent by whoever sees it (Claude Code at
    // /exit, a test) must reach onSignal, not Node's default action, which kills without cleanup.
    // Handlers run from the event loop, so none runs before run() has set up.
    for (const signal of SIGNALS) process.on(signal, this.onSignal);
    ensureRoleDir(this.paths);
    const record = {
      pid: process.pid,
      // With the start time, a reused pid is never taken for this waiter (src/wake/forecast.ts).
      start: processStartTime(process.pid) ?? null,
      token: this.token,
      claudePid: this.claude?.pid ?? null,
      sessionId: this.sessionId ?? null,
      since: isoTime(),
    };
    // Under the wake lock, so an older waiter deciding a wake right now either finishes first or sees us.
    withLock(wakeLockPath(this.paths), () => writeFileAtomic(this.paths.waiter, JSON.stringify(record) + "\n"));
  }

  run(): Promise<HookResult> {
    return new Promise((resolve) => {
      this.resolve = resolve;
      try {
        this.watcher = watch(this.paths.dir, () => this.schedule());
        // Watching can fail later (folder removed, inotify limits): the poll carries on alone.
        this.watcher.on("error", () => this.watcher?.close());
      } catch {
        // No inotify watches left, or an unsupported filesystem: the poll alone still finds the mail.
        this.watcher = undefined;
      }
      this.poll = setInterval(() => this.schedule(), POLL_MS);
      // Mail that arrived before we were watching is found by this first look.
      this.check();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.finished) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.check();
    });
  }

  private check(): void {
    if (this.finished) return;
    try {
      if (!this.isCurrent()) return this.finish({ code: 0 });
      if (this.claude && !isSameProcessAlive(this.claude.pid, this.claude.start)) return this.finish({ code: 0 });
      const now = Date.now();
      const due = this.retryAt !== undefined && now >= this.retryAt;
      const seen = this.signature();
      if (seen === this.lastSignature && !due) return;
      this.setRetry(undefined);
      const outcome = this.evaluate();
      if (outcome.kind === "wake") return this.finish({ code: 2, stderr: outcome.text });
      if (outcome.kind === "replaced") return this.finish({ code: 0 });
      const { decision } = outcome;
      this.watchWakeState = !decision.wake && decision.code === "busy";
      // Taken before deciding, so mail that lands while we decide is news at the next look (the
      // watch event or the poll); our own writes (wake.json, lock files) are not part of it.
      this.lastSignature = seen;
      if (!decision.wake && decision.retryAt !== undefined) this.setRetry(decision.retryAt);
    } catch {
      // A passing failure (a lock held past its timeout, a file mid-replace): look again at the
      // next poll. Nothing was consumed, or the messages would already be on their way out.
      this.lastSignature = "";
    }
  }

  private setRetry(at: number | undefined): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    this.retryAt = at;
    if (at !== undefined) this.retry = setTimeout(() => this.schedule(), Math.max(0, at - Date.now()) + 5);
  }

  /**
   * What can make a new decision come out differently: the inbox, the cursor, the settings, and
   * after a "busy" refusal the other driver's in-flight mark (not wake.json as a whole: every
   * refusal we record rewrites it, and would have us deciding in a loop).
   */
  private signature(): string {
    const files = [this.paths.inbox, this.paths.cursor, settingsPath(this.identity.root)];
    const parts = files.map((file) => {
      const st = lstatSync(file, { throwIfNoEntry: false });
      return st ? `${st.ino}:${st.size}:${st.mtimeMs}` : "-";
    });
    if (this.watchWakeState) parts.push(`busy:${readWakeState(this.paths).inFlightSince ?? "-"}`);
    return parts.join("|");
  }

  private isCurrent(): boolean {
    const value = parseJson(readFileIfExists(this.paths.waiter) ?? "");
    return isRecord(value) && value.token === this.token;
  }

  private evaluate(): Outcome {
    const { identity, paths } = this;
    let replaced = false;
    let taken: ConsumeResult | undefined;
    const frame = new MessageFrame({ project: identity.project, role: identity.role, leadReserve: DOORBELL_RESERVE });
    const { settings, error } = loadSettingsLenient(identity.root);
    const decision = claimWake({
      paths,
      driver: "rewake",
      settings,
      ...(error && { settingsError: error.message }),
      project: identity.project,
      role: identity.role,
      clock: Date.now,
      target: { ok: true },
      readMail: () => {
        if (!this.isCurrent()) {
          replaced = true;
          return [];
        }
        return peekUnread(paths).entries.map((e) => e.message);
      },
      take: () => {
        // Consumed here, under the wake lock, so no other driver can claim the same mail, and a
        // wake is only recorded when there is mail left to deliver.
        const result = receive(identity, {
          by: `hook wait (rewake${this.sessionId ? `, claude session ${this.sessionId}` : ""}${this.claude ? `, claude pid ${this.claude.pid}` : ""})`,
          accept: (m) => frame.tryAdd(m),
          compactBytes: settings.compactBytes,
          historyFiles: settings.historyFiles,
        });
        taken = result;
        return result.messages.length > 0 || result.remaining > 0;
      },
    });
    if (replaced) return { kind: "replaced" };
    if (!decision.wake || taken === undefined) return { kind: "wait", decision };
    const delivered = taken as ConsumeResult;
    try {
      continueFrom(paths, decision);
    } catch {
      // The messages are consumed and must reach the model; the turn's sends then carry the role's
      // previous chain context, which is never more lenient than a fresh human chain.
    }
    const lead = doorbell(identity, delivered.messages.length + delivered.remaining, [
      ...delivered.messages,
      ...(frame.firstLeft ? [frame.firstLeft] : []),
    ]);
    return { kind: "wake", text: frame.render(delivered.remaining, chooseBoundary(delivered.messages), lead) };
  }

  private finish(result: HookResult): void {
    if (this.finished) return;
    this.finished = true;
    this.watcher?.close();
    if (this.poll) clearInterval(this.poll);
    this.setRetry(undefined);
    for (const signal of SIGNALS) process.off(signal, this.onSignal);
    try {
      withLock(
        wakeLockPath(this.paths),
        () => {
          if (this.isCurrent()) removeQuietly(this.paths.waiter);
        },
        { timeoutMs: 2000 },
      );
    } catch {
      // A leftover waiter.json names a dead pid and is replaced by the next waiter: harmless.
    }
    this.resolve?.(result);
  }
}
