// How a Codex CLI 0.169.0 process looks to the kernel (docs/other-agents.md "Codex CLI"): the npm
// launcher is `node …/@openai/codex/bin/codex.js` (comm `node`, or `codex` by the .bin link's
// name through env's exec), which starts the native `codex` binary; the session record's pid is
// that native process (our hooks' parent). A name is only a hint: the tmux driver judges by the
// process tree and the session record, and asks the name only where /proc and ps are missing.
const NAMES = /^(codex|codex\.exe|node)$/;

const lastPart = (path: string): string => path.slice(path.lastIndexOf("/") + 1);

/** True when a pane's foreground command name may be the Codex CLI (native binary or its node launcher). */
export function isCodexName(name: string): boolean {
  return NAMES.test(lastPart(name));
}
