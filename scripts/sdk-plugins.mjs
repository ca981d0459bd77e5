// esbuild plugins that shrink the embedded MCP SDK bundle (src/mcp/sdk.ts), used by build.mjs. What
// each buys was measured when they were written (BENCHMARKS.md "How the binary is built for startup").
import { readFile } from "node:fs/promises";

/**
 * Replaces the SDK's Ajv provider with a stub. Server constructs an Ajv instance (and the bundle
 * carries Ajv, ajv-formats and fast-uri: ~130 KB, ~10 ms to compile, run and construct) only to
 * validate what a user types into a form the server requested with elicitInput(), which
 * session-bridge never does. If it ever does, the stub fails loudly instead of skipping validation.
 */
export const noAjvPlugin = {
  name: "sdk-no-ajv",
  setup(b) {
    b.onResolve({ filter: /[\\/]validation[\\/]ajv-provider\.js$/ }, () => ({ path: "ajv-provider-stub", namespace: "sdk-stub" }));
    b.onLoad({ filter: /^ajv-provider-stub$/, namespace: "sdk-stub" }, () => ({
      contents:
        "export class AjvJsonSchemaValidator {\n" +
        "  getValidator() {\n" +
        '    throw new Error("session-bridge bundles the MCP SDK without Ajv (scripts/sdk-plugins.mjs): elicitInput() cannot validate; pass a jsonSchemaValidator to Server or drop the plugin");\n' +
        "  }\n" +
        "}\n",
      loader: "js",
    }));
  },
};

/**
 * esbuild keeps every `export const XSchema = z.object(…)` of the SDK's types.js, used or not: it
 * cannot know that building a zod schema has no side effects. Marking each `z.f(` and `XSchema.f(`
 * call pure lets it drop the schemas nothing reaches (marking only the initializers drops nothing,
 * because a pure call with impure arguments is kept). Only unused values can go: types.js has no
 * statement-level calls whose side effect matters (checked for SDK 1.32.2; re-check on upgrades).
 */
export const pureSchemasPlugin = {
  name: "sdk-pure-schemas",
  setup(b) {
    b.onLoad({ filter: /[\\/]@modelcontextprotocol[\\/]sdk[\\/]dist[\\/]esm[\\/]types\.js$/ }, async (args) => {
      const text = await readFile(args.path, "utf8");
      return { contents: text.replace(/(?<![\w.$])((?:z|[A-Z]\w*Schema)\.\w+\()/g, "/* @__PURE__ */ $1"), loader: "js" };
    });
  },
};
