// The Claude Code plugin this repository carries (.claude-plugin/marketplace.json → plugin/): what
// its committed files must hold, made here from the same hook list `install` writes, so the two
// routes cannot drift (test/install/plugin-files.test.ts compares the committed files with these).
// `npm run build` (build.mjs) puts the program beside them, in plugin/lib/session-bridge.cjs.
// Facts about plugins: docs/claude-code.md "The plugin" (seen on 2.1.328).
import { MCP_SERVER_NAME } from "../agents/tool-names.ts";
import { FAST_START_FILE, launcherScript } from "./home.ts";
import { desiredHooks } from "./plan.ts";

/** Claude Code puts the plugin's folder here in hook commands and MCP server commands. */
export const PLUGIN_ROOT_VAR = "${CLAUDE_PLUGIN_ROOT}";
/** The plugin's folder in this repository (the marketplace's `source`). */
export const PLUGIN_DIR = "plugin";
/** The launcher, relative to the plugin folder: in bin/, which Claude Code also puts on the Bash tool's PATH. */
export const PLUGIN_LAUNCHER = "bin/session-bridge";
/** The program, relative to the plugin folder: outside bin/, so only `session-bridge` lands on PATH. */
export const PLUGIN_SCRIPT = "lib/session-bridge.cjs";

/**
 * The fast start of that program (src/fast-start.ts), as a line of sh setting `fast`: the build
 * writes it with the program (build.mjs), so the two are always of one build, as install's
 * launcher and its copy are. The launcher is committed and cannot hold it: the code changes with
 * every build.
 */
export const PLUGIN_FAST_START = `lib/${FAST_START_FILE}`;

export const PLUGIN_LAUNCHER_MARK = "# session-bridge plugin launcher";

/**
 * The plugin's launcher: the same fail-closed body as install's (src/install/home.ts), running the
 * node on PATH and the program beside it (a plugin folder moves: the cache, a clone), so a missing
 * node or an unbuilt clone blocks Bash in bridged sessions instead of exiting 127 (fail open).
 */
export function pluginLauncherText(): string {
  return launcherScript({
    head: `${PLUGIN_LAUNCHER_MARK} (plugin/bin/session-bridge: runs ../${PLUGIN_SCRIPT}, which \`npm run build\` puts there; made by src/install/plugin.ts)`,
    // The launcher's folder without a $(dirname) subshell: a fork on every bridged hook.
    assign: `node=\ncase $0 in */*) here=\${0%/*} ;; *) here=. ;; esac\nscript="$here/../${PLUGIN_SCRIPT}"`,
    fastFile: `"$here/../${PLUGIN_FAST_START}"`,
    noNode: "no node on PATH",
    fix: "install Node 20+, or run \\`npm run build\\` in the clone the plugin comes from, and \\`session-bridge doctor\\`",
  });
}

const launcher = `"${PLUGIN_ROOT_VAR}/${PLUGIN_LAUNCHER}"`;

/**
 * hooks/hooks.json: install's default hooks (recv on UserPromptSubmit and SessionStart, the guard
 * on PreToolUse Bash), each running the launcher through "${CLAUDE_PLUGIN_ROOT}", quoted since the
 * folder may hold spaces, with `exec` as install writes them (src/install/plan.ts hookCommand).
 * The optional Stop hooks (rewake, autosend) stay with `install`: a plugin cannot ask whether the
 * user wants them.
 */
export function pluginHooks(): Record<string, unknown> {
  const hooks: Record<string, unknown[]> = {};
  for (const spec of desiredHooks({ blockGit: true, autosend: false })) {
    const group = {
      ...(spec.matcher !== undefined && { matcher: spec.matcher }),
      hooks: [{ type: "command", command: `exec ${launcher} hook ${spec.name}`, timeout: spec.timeout }],
    };
    (hooks[spec.event] ??= []).push(group);
  }
  return {
    description: "session-bridge: mail injected at session start and on each prompt; git commit/push/reset denied in bridged sessions",
    hooks,
  };
}

/** .mcp.json beside plugin.json: the MCP server, as `install` registers it but through the launcher. */
export function pluginMcp(): Record<string, unknown> {
  return {
    mcpServers: { [MCP_SERVER_NAME]: { type: "stdio", command: `${PLUGIN_ROOT_VAR}/${PLUGIN_LAUNCHER}`, args: ["mcp"], env: {} } },
  };
}
