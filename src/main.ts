// The one entry point: a thin argv switch. Each subcommand's module is imported lazily so a
// hook never pays for the CLI, the MCP server or the daemon (and never for the MCP SDK): build.mjs
// turns every `import()` here (and in src/hooks.ts) into a bundle of its own, embedded in the
// binary and evaluated only when its command runs (src/runtime/embedded.ts). Adding a command takes
// its module, a line in `commands` (and in src/runtime/bundles.json if it is a new module), and a
// line in USAGE; a bus command is also a line in src/cli/commands.ts.
import { reportFatal } from "./lib/errors.ts";
import { closest } from "./lib/text.ts";
// Static: the hooks run on every prompt and tool call of every session, so their dispatcher is
// part of the entry itself; it is small and loads each hook's own bundle only when bridged.
import { isBridged, runHook } from "./hooks.ts";
import { endHook } from "./hooks/io.ts";
import { cacheDir, resolveRoot } from "./bus/layout.ts";
import { useCodeCacheFolder } from "./runtime/code-cache.ts";
import { saveEntryCacheSoon } from "./runtime/entry-cache.ts";
import { cliArgs } from "./runtime/self.ts";

type Runner = (argv: string[]) => Promise<number>;

const cli = async (): Promise<Runner> => (await import("./cli/commands.ts")).runCli;

const commands: Record<string, () => Promise<Runner>> = {
  mcp: async () => (await import("./mcp.ts")).runMcp,
  install: async () => (await import("./install.ts")).runInstall,
  uninstall: async () => (await import("./install.ts")).runUninstall,
  send: cli,
  recv: cli,
  peek: cli,
  tail: cli,
  roles: cli,
  whoami: cli,
  status: cli,
  root: cli,
  doctor: async () => (await import("./install/doctor.ts")).runDoctor,
  spawner: async () => (await import("./spawner.ts")).runSpawner,
  hook: async () => runHook,
  "git-shim": async () => (await import("./git-shim.ts")).runGitShim,
  dashboard: async () => (await import("./dashboard/command.ts")).runDashboard,
};

export const USAGE = `session-bridge ${__VERSION__}: messages between Claude Code sessions, with opt-in wake-ups

usage: session-bridge <command> [options]

the bus (identity from BRIDGE_PROJECT/BRIDGE_ROLE or --project/--role):
  send TO BODY          send to a role, or '*' for every other role (--queue, --reply-to ID)
  recv                  print unread messages and mark them read
  peek                  print unread messages without consuming them
  tail [N] [--follow]   the last N messages delivered to this role
  roles                 roles of the project, with live sessions
  whoami                this identity, its session and settings
  status ID             queued or read, per recipient
  root                  the bus folder (BRIDGE_ROOT, default ~/.claude/bridge)

Claude Code integration:
  mcp                   the stdio MCP server Claude Code launches (bridge_* tools and prompts;
                        BRIDGE_ADMIN=1 allows the settings tools)
  install               register this binary with Claude Code (MCP server, hooks, permissions)
  uninstall             remove exactly what install added
  doctor                check the wiring, this binary, tmux, the bus folder and the daemon
  hook recv             UserPromptSubmit/SessionStart: inject unread messages as context
  hook guard            PreToolUse(Bash): deny git commit/push/reset, deploys, settings changes
  hook send             Stop: with BRIDGE_AUTOSEND=1, send the last reply to BRIDGE_SEND_TO
  hook wait             Stop with asyncRewake: wake this idle session when mail arrives
  git-shim              run by the git shim bridged sessions find first on PATH: may this git call run?

automatic wake-ups (off until you opt in):
  spawner on|off [PROJECT] [ROLE]      opt roles in or out
  spawner set PROJECT ROLE KEY=VALUE   per role: cwd, model, tmuxTarget, permissionMode, driver
  spawner config [KEY=VALUE ...]       global rails: maxHops, rateLimitPerMinute, cooldownSeconds…
  spawner status [--json]              the daemon, each role, and why it was not woken
  spawner run [--replay]               the wake daemon (foreground)

watching:
  dashboard [--port N] [--open] [--admin]   a live view of rooms, messages and wakes in your
                        browser, on 127.0.0.1 only (--admin: settings buttons)

every command takes --help; human-facing ones take --json.
  --version             print the version`;

export async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    (command === undefined ? process.stderr : process.stdout).write(USAGE + "\n");
    return command === undefined ? 2 : 0;
  }
  if (command === "--version" || command === "-v" || command === "version") {
    process.stdout.write(__VERSION__ + "\n");
    return 0;
  }
  // Compiled code is kept only for bridged sessions (their hooks run on every prompt), never
  // creating the root: see src/runtime/code-cache.ts. The entry's own (src/runtime/entry-cache.ts)
  // is written by a hook, and used by every command: it holds what its run compiled, and one
  // written by `mcp` or the CLI would leave a hook compiling its dispatcher on every prompt.
  if (isBridged(process.env)) {
    useCodeCacheFolder(cacheDir(resolveRoot(process.env)));
    if (command === "hook") saveEntryCacheSoon();
  }
  const load = Object.hasOwn(commands, command) ? commands[command] : undefined;
  if (!load) {
    // One line, not the whole usage: a typo's answer is the command meant.
    const near = closest(command, Object.keys(commands));
    const hint = near ? ` — did you mean ${near}?` : `; the commands: ${Object.keys(commands).join(", ")}`;
    process.stderr.write(`session-bridge: unknown command ${JSON.stringify(command)}${hint} (session-bridge --help says what each does)\n`);
    return 2;
  }
  const run = await load();
  return run(argv);
}

const args = cliArgs();
main(args).then(
  (code) => {
    // A hook's answer is written (src/hooks/io.ts): it ends at once unless something is pending.
    if (args[0] === "hook") endHook(code);
    else process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = reportFatal(err);
  },
);
