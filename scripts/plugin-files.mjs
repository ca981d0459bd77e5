#!/usr/bin/env node
// Rewrites the Claude Code plugin's committed files (plugin/bin/session-bridge, plugin/hooks/hooks.json,
// plugin/.mcp.json) from src/install/plugin.ts, after a change to the hooks `install` writes or to the
// launcher: test/install/plugin-files.test.ts fails until they match. The program itself,
// plugin/lib/session-bridge.cjs, is build output (build.mjs), not committed.
import { build } from "esbuild";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const out = await build({
  entryPoints: [join(root, "src/install/plugin.ts")],
  bundle: true,
  platform: "node",
  format: "esm",
  write: false,
  define: { __VERSION__: JSON.stringify(pkg.version) },
});
const m = await import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString("base64")}`);
const dir = join(root, "plugin");
writeFileSync(join(dir, "bin/session-bridge"), m.pluginLauncherText());
chmodSync(join(dir, "bin/session-bridge"), 0o755);
writeFileSync(join(dir, "hooks/hooks.json"), `${JSON.stringify(m.pluginHooks(), null, 2)}\n`);
writeFileSync(join(dir, ".mcp.json"), `${JSON.stringify(m.pluginMcp(), null, 2)}\n`);
process.stderr.write("wrote plugin/bin/session-bridge, plugin/hooks/hooks.json, plugin/.mcp.json\n");
