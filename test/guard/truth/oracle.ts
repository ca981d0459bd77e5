// The judge of the guard's bash-truth corpus (guard-bash-truth.test.ts): runs a command the way
// Claude Code's Bash tool does (bash, `shopt -s expand_aliases` from its shell snapshot, the
// command given to `eval`: seen in @anthropic-ai/claude-code 2.1.328) and reports what it did:
//  - the blocked git subcommands it ran: the real git, every copy of it (PATH, /usr/bin/git, a
//    hashed name, an alias, `sh -c` inside a `!` alias), writes GIT_TRACE2_EVENT records; a
//    process whose cmd_name is commit/push/reset ran it, unless it exited 129 (usage: `-h`).
//    Each case runs in a fresh empty repository, so git gets as far as naming its command.
//  - whether it changed the bridge's settings: spawner.config.json in the cwd and under
//    $HOME/.claude/bridge changed (content, inode, mtime or existence), or a fake
//    `session-bridge` on PATH was asked for a change (spawner on/off/set, config KEY=V…).
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const BLOCKED = /^(commit|push|reset)$/;

export interface Truth {
  /** Blocked git subcommands that ran (usage exits excluded). */
  git: string[];
  /** What changed the bridge's settings. */
  settings: string[];
  timedOut: boolean;
  stderr: string;
}

const RUNNER = 'shopt -s expand_aliases; __cmd=$SB_CMD; unset SB_CMD; eval "$__cmd"';
const FAKE_BRIDGE = `#!/bin/sh\nprintf '%s\\0' "$@" > "$(mktemp -p "$SB_LOG")"\n`;
// man pages take most of a second to format and run nothing of interest: `git help push` ends in this.
const FAKE_MAN = "#!/bin/sh\nexit 0\n";
const SETTINGS = '{"on": false}\n';

export class BashTruth {
  readonly available = spawnSync("bash", ["-c", "true"]).status === 0 && spawnSync("git", ["--version"]).status === 0;
  private readonly dir = mkdtempSync(join(tmpdir(), "guard-truth-"));
  private readonly bin = join(this.dir, "bin");
  private readonly template = join(this.dir, "template");
  private n = 0;

  constructor() {
    mkdirSync(this.bin);
    writeFileSync(join(this.bin, "session-bridge"), FAKE_BRIDGE);
    writeFileSync(join(this.bin, "man"), FAKE_MAN);
    chmodSync(join(this.bin, "session-bridge"), 0o755);
    chmodSync(join(this.bin, "man"), 0o755);
    mkdirSync(this.template);
    if (!this.available) return;
    spawnSync("git", ["init", "-q", "--template=", this.template], { env: { PATH: process.env.PATH, HOME: this.dir } });
    writeFileSync(join(this.template, "notes.txt"), "git push\n");
    writeFileSync(join(this.template, "x.sh"), "git push\n");
    spawnSync("tar", ["-cf", "data.tar", "notes.txt"], { cwd: this.template });
  }

  static has(program: string): boolean {
    return spawnSync("bash", ["-c", `command -v ${program}`]).status === 0;
  }

  async run(command: string, timeoutMs = 15_000): Promise<Truth> {
    const root = join(this.dir, `case-${this.n++}`);
    const cwd = join(root, "work");
    const home = join(root, "home");
    const bridge = join(home, ".claude", "bridge");
    const log = join(root, "bridge-calls");
    cpSync(this.template, cwd, { recursive: true });
    mkdirSync(bridge, { recursive: true });
    mkdirSync(log);
    const watched = [join(cwd, "spawner.config.json"), join(bridge, "spawner.config.json")];
    for (const f of watched) writeFileSync(f, SETTINGS);
    const before = watched.map(fileState);
    const trace = join(root, "trace2.json");
    const env: NodeJS.ProcessEnv = {
      PATH: `${this.bin}:/usr/local/bin:/usr/bin:/bin`,
      HOME: home,
      SHELL: "/bin/bash",
      TERM: "dumb",
      LC_ALL: "C.UTF-8",
      SB_CMD: command,
      SB_LOG: log,
      GIT_TRACE2_EVENT: trace,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CEILING_DIRECTORIES: root,
      GIT_PAGER: "cat",
      PAGER: "cat",
      MANPAGER: "cat",
      GIT_EDITOR: "true",
      GIT_TERMINAL_PROMPT: "0",
    };
    const { stderr, timedOut } = await runBash(cwd, env, timeoutMs);
    const settings: string[] = [];
    watched.forEach((f, i) => {
      if (fileState(f) !== before[i]) settings.push(`changed ${f.slice(root.length + 1)}`);
    });
    for (const name of readdirSync(log)) {
      const argv = readFileSync(join(log, name), "utf8").split("\0").slice(0, -1);
      if (bridgeChange(argv)) settings.push(`session-bridge ${argv.join(" ")}`);
    }
    const git = gitRuns(readText(trace));
    rmSync(root, { recursive: true, force: true });
    return { git, settings, timedOut, stderr };
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function runBash(cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ stderr: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    // Its own process group, so that a timeout kills whatever the command started too.
    const child = spawn("bash", ["-c", RUNNER], { cwd, env, detached: true, stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    let timedOut = false;
    child.stderr.on("data", (b: Buffer) => {
      if (stderr.length < 4000) stderr += b.toString();
    });
    child.stdin.end();
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.on("close", () => {
      clearTimeout(timer);
      // Stragglers (a backgrounded job) go with the group.
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
      resolve({ stderr, timedOut });
    });
  });
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

function fileState(path: string): string {
  try {
    const st = statSync(path);
    return `${st.ino}:${st.mtimeMs}:${readFileSync(path, "utf8")}`;
  } catch {
    return "missing";
  }
}

/**
 * Blocked subcommands from trace2 events: a process named commit/push/reset, unless it was asked
 * for help or usage (`-h`, `--help`: exit 129, nothing done). A call that git rejects for a bad
 * option still counts: the guard cannot know git's options, and bash did start it.
 */
export function gitRuns(trace: string): string[] {
  const named = new Map<string, string>();
  const exits = new Map<string, number>();
  const argvs = new Map<string, string[]>();
  for (const line of trace.split("\n")) {
    if (!line) continue;
    let e: { event?: string; sid?: string; name?: string; code?: number; argv?: string[] };
    try {
      e = JSON.parse(line);
    } catch {
      continue;
    }
    if (!e.sid) continue;
    if (e.event === "start" && e.argv) argvs.set(e.sid, e.argv);
    if (e.event === "cmd_name" && e.name) named.set(e.sid, e.name);
    if (e.event === "exit" && typeof e.code === "number") exits.set(e.sid, e.code);
  }
  const help = (sid: string) => exits.get(sid) === 129 && (argvs.get(sid) ?? []).some((a) => a === "-h" || a === "--help");
  return [...named].filter(([sid, name]) => BLOCKED.test(name) && !help(sid)).map(([, name]) => name);
}

/** The session-bridge calls that change the rails (read from its usage in src/spawner.ts and the README). */
export function bridgeChange(argv: string[]): boolean {
  const ops = argv.filter((a) => !a.startsWith("-"));
  if (argv.includes("--help") || argv.includes("-h")) return false;
  switch (ops[0]) {
    case "spawner":
      return (
        ops[1] === "on" ||
        ops[1] === "off" ||
        (ops[1] === "set" && ops.length >= 5) ||
        (ops[1] === "config" && ops.some((o) => o.includes("=")))
      );
    case "dashboard":
      return argv.includes("--admin");
    case "install":
    case "uninstall":
      return true;
    default:
      return false;
  }
}

/** Runs `jobs` with at most `width` at a time, in order of their results. */
export async function pool<T, R>(items: T[], width: number, job: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const k = next++;
      out[k] = await job(items[k]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return out;
}
