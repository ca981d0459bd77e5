import { createRequire } from "node:module";
import { runInThisContext } from "node:vm";
import sdkSource from "embedded:mcp-sdk";

export type McpSdk = typeof import("./mcp-sdk.ts");

let loaded: McpSdk | undefined;

// Evaluates the embedded SDK bundle (CommonJS) the first time the MCP server needs it.
export function loadMcpSdk(): McpSdk {
  if (loaded) return loaded;
  const wrapper = runInThisContext(`(function (module, exports, require) {${sdkSource}\n})`, {
    filename: "session-bridge-embedded-mcp-sdk.cjs",
  }) as (module: { exports: unknown }, exports: unknown, require: NodeJS.Require) => void;
  const module = { exports: {} as unknown };
  // Built-ins only: createRequire needs a path, and the executable's own is always valid.
  wrapper(module, module.exports, createRequire(process.execPath));
  loaded = module.exports as McpSdk;
  return loaded;
}
