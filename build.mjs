#!/usr/bin/env node
// Builds dist/session-bridge.mjs: one file, shebang, executable, only `node:` imports.
//   node build.mjs           the binary (and dist/session-bridge.cjs, the SEA input)
//   node build.mjs --tests   also bundles test/**/*.test.ts into dist/test/ (Node 20 cannot strip types)
//   node build.mjs --bench   also bundles bench/fixtures/*.ts into dist/bench/
//
// The MCP SDK (zod, protocol types) is ~140 KB of JavaScript that only `mcp` needs.
// V8 must parse every function of a loaded file, so it is built separately and embedded as
// a string literal that `src/sdk-loader.ts` evaluates on demand: hooks never pay for it.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { noAjvPlugin, pureSchemasPlugin } from "./scripts/sdk-plugins.mjs";

const root = new URL(".", import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const withTests = process.argv.includes("--tests");
const withBench = process.argv.includes("--bench");

const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  logLevel: "warning",
  legalComments: "none",
  define: { __VERSION__: JSON.stringify(pkg.version) },
};

async function buildSdkSource() {
  const result = await build({
    ...common,
    entryPoints: [join(root, "src/mcp-sdk.ts")],
    format: "cjs",
    minify: true,
    write: false,
    metafile: true,
    // Without Ajv and unused zod schemas: half the size, ~10 ms less to start `mcp` (see the plugins).
    plugins: [noAjvPlugin, pureSchemasPlugin],
  });
  const [output] = result.outputFiles;
  assertOnlyNodeImports(result.metafile, "embedded MCP SDK");
  return output.text;
}

// Resolves `import source, { sdkHash } from "embedded:mcp-sdk"` to the SDK bundle as a string and
// its content hash, which names the V8 code cache of it (src/sdk-loader.ts).
function embeddedSdkPlugin(sdkSource) {
  const sdkHash = createHash("sha256").update(sdkSource).digest("hex").slice(0, 16);
  const contents = `export default ${JSON.stringify(sdkSource)};\nexport const sdkHash = ${JSON.stringify(sdkHash)};\n`;
  return {
    name: "embedded-sdk",
    setup(b) {
      b.onResolve({ filter: /^embedded:mcp-sdk$/ }, (args) => ({ path: args.path, namespace: "embedded" }));
      b.onLoad({ filter: /.*/, namespace: "embedded" }, () => ({ contents, loader: "js" }));
    },
  };
}

function assertOnlyNodeImports(metafile, what) {
  for (const [file, out] of Object.entries(metafile.outputs)) {
    for (const imp of out.imports ?? []) {
      if (!imp.external) continue;
      if (!imp.path.startsWith("node:")) {
        throw new Error(`${what} (${file}) imports "${imp.path}": only node: built-ins may stay external; bundle it or use the node: prefix`);
      }
    }
  }
}

function listTests(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...listTests(path));
    // Test files and the TypeScript fixtures they run as child processes (test/fixtures/*.ts).
    else if (entry.name.endsWith(".test.ts") || (dir.includes("/fixtures") && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts"))) found.push(path);
  }
  return found;
}

const sdkSource = await buildSdkSource();
mkdirSync(join(root, "dist"), { recursive: true });

const binary = await build({
  ...common,
  entryPoints: [join(root, "src/main.ts")],
  outfile: join(root, "dist/session-bridge.mjs"),
  format: "esm",
  banner: { js: "#!/usr/bin/env node" },
  plugins: [embeddedSdkPlugin(sdkSource)],
  metafile: true,
});
assertOnlyNodeImports(binary.metafile, "dist/session-bridge.mjs");
chmodSync(join(root, "dist/session-bridge.mjs"), 0o755);

// The single-executable build (scripts/build-sea.mjs) needs CommonJS: Node 20 SEA runs one CJS script.
await build({
  ...common,
  entryPoints: [join(root, "src/main.ts")],
  outfile: join(root, "dist/session-bridge.cjs"),
  format: "cjs",
  plugins: [embeddedSdkPlugin(sdkSource)],
});

if (withTests) {
  rmSync(join(root, "dist/test"), { recursive: true, force: true });
  const entries = listTests(join(root, "test"));
  const result = await build({
    ...common,
    entryPoints: entries,
    outdir: join(root, "dist/test"),
    outbase: join(root, "test"),
    outExtension: { ".js": ".mjs" },
    format: "esm",
    // Tests use devDependencies (the SDK Client, playwright) straight from node_modules.
    packages: "external",
    sourcemap: "inline",
    plugins: [embeddedSdkPlugin(sdkSource)],
  });
  void result;
}

if (withBench) {
  // Benchmark workers drive the store in-process (thousands of sends a second).
  await build({
    ...common,
    entryPoints: listFixtures(join(root, "bench/fixtures")),
    outdir: join(root, "dist/bench"),
    outExtension: { ".js": ".mjs" },
    format: "esm",
    plugins: [embeddedSdkPlugin(sdkSource)],
  });
}

function listFixtures(dir) {
  return readdirSync(dir).filter((n) => n.endsWith(".ts")).map((n) => join(dir, n));
}

const size = statSync(join(root, "dist/session-bridge.mjs")).size;
process.stderr.write(
  `built ${relative(process.cwd(), join(root, "dist/session-bridge.mjs")) || "dist/session-bridge.mjs"} ` +
    `(${(size / 1024).toFixed(0)} KB, of which embedded SDK ${(sdkSource.length / 1024).toFixed(0)} KB)` +
    (withTests ? " and tests\n" : "\n"),
);
