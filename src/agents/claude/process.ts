// How a Claude Code process looks to the kernel. The name depends on how it was installed and on
// the system: Linux's comm is the name the program was started by (`claude`, through npm's
// `node_modules/.bin/claude` → `bin/claude.exe` link, seen on 2.1.328); macOS names a process after
// the file itself, so an npm install shows `claude.exe` and the native installer a versioned file
// under `…/claude/versions/`; older npm releases were `node …/@anthropic-ai/claude-code/cli.js`.
// A name is a hint, never proof: the tmux driver judges by the process tree and the session record.
import type { ProcessCommand } from "../../lib/proc.ts";

const NAMES = /^claude(\.exe)?$/;
const VERSIONED = /\/claude\/versions\/[^/]+$/;
const NODE_CLI = /claude-code\/cli\.m?js$/;

const lastPart = (path: string): string => path.slice(path.lastIndexOf("/") + 1);

/** True when the name alone (tmux's #{pane_current_command}, a comm) says Claude Code. */
export function isClaudeName(name: string): boolean {
  return NAMES.test(lastPart(name)) || VERSIONED.test(name);
}

/** True when what a process runs is Claude Code, by its kernel name or its first arguments. */
export function isClaudeCommand(command: ProcessCommand): boolean {
  if (isClaudeName(command.comm)) return true;
  return command.argv.slice(0, 2).some((a) => isClaudeName(a) || NODE_CLI.test(a));
}
