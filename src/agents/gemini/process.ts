// How a Gemini CLI 0.61.0 process looks to the kernel (docs/other-agents.md "Gemini CLI"): a Node
// bundle (`node …/@google/gemini-cli/bundle/gemini.js`, comm `node`); the session record's pid is
// that node process (our hooks' parent). Without GEMINI_CLI_NO_RELAUNCH it re-executes itself, so
// the process holding the session may be a child of the one the pane started. A name is only a
// hint: the tmux driver judges by the process tree and the session record.
const NAMES = /^(gemini|node)$/;

const lastPart = (path: string): string => path.slice(path.lastIndexOf("/") + 1);

/** True when a pane's foreground command name may be the Gemini CLI. */
export function isGeminiName(name: string): boolean {
  return NAMES.test(lastPart(name));
}
