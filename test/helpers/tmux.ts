// A private tmux server per test (`tmux -S <tmpdir>/sock`), never the user's: every call names the
// socket, and `kill()` ends the server (call it from t.after / finally so a failure still cleans up).
import { spawnSync } from "node:child_process";
import { join } from "node:path";

export class TmuxServer {
  readonly socket: string;
  private started = false;

  constructor(dir: string) {
    this.socket = join(dir, "tmux.sock");
  }

  run(args: string[]): string {
    const env = { ...process.env };
    delete env.TMUX;
    delete env.TMUX_PANE;
    // tmux reads an argument ending in ";" as a command separator; "\;" passes the ";" on.
    const escaped = args.map((a) => (a.endsWith(";") ? `${a.slice(0, -1)}\\;` : a));
    const r = spawnSync("tmux", ["-S", this.socket, ...escaped], { encoding: "utf8", env });
    if (r.status !== 0) throw new Error(`tmux ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
    return r.stdout;
  }

  /** A new pane (the first one starts the server) running `command` with `env`; returns its id (%N). */
  pane(command: string[], env: Record<string, string>): string {
    const vars = Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    const shape = ["-P", "-F", "#{pane_id}", ...vars, "--", ...command];
    const out = this.started
      ? this.run(["new-window", "-d", ...shape])
      : this.run(["-f", "/dev/null", "new-session", "-d", "-x", "200", "-y", "50", ...shape]);
    this.started = true;
    return out.trim();
  }

  /** Types text literally, then Enter, as a person at the keyboard would. */
  type(pane: string, text: string): void {
    this.run(["send-keys", "-t", pane, "-l", "--", text]);
    this.run(["send-keys", "-t", pane, "Enter"]);
  }

  capture(pane: string): string {
    return this.run(["capture-pane", "-p", "-J", "-t", pane, "-S", "-200"]);
  }

  info(pane: string, format: string): string {
    return this.run(["display-message", "-p", "-t", pane, format]).trim();
  }

  kill(): void {
    if (!this.started) return;
    const env = { ...process.env };
    delete env.TMUX;
    // Ignore the status: the server may already be gone (its last pane exited).
    spawnSync("tmux", ["-S", this.socket, "kill-server"], { env });
  }
}
