#!/usr/bin/env node
// Builds the MCP startup experiments into dist/bench/ and lists them in dist/bench/variants.json,
// for `node bench/startup.mjs --variants`. Each one answers initialize + tools/list with the probe's
// twelve tools and differs from the shipped build (dist/, `npm run build:sea`) in one technique.
//   node bench/mcp-variants.mjs            node and SEA variants (each SEA takes ~3 s to build)
//   node bench/mcp-variants.mjs --no-sea   node variants only
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { noAjvPlugin, pureSchemasPlugin } from "../scripts/sdk-plugins.mjs";

const root = new URL("..", import.meta.url).pathname;
const out = join(root, "dist/bench");
const withSea = !process.argv.includes("--no-sea");
const kb = (file) => `${(statSync(file).size / 1024).toFixed(0)} KB`;

const common = { bundle: true, platform: "node", target: "node20", logLevel: "warning", legalComments: "none", define: { __VERSION__: '"0.0.0-bench"' } };

async function sdkSource(entry, { minify = true, plugins = [] } = {}) {
  const r = await build({ ...common, entryPoints: [join(root, entry)], format: "cjs", minify, write: false, plugins });
  return r.outputFiles[0].text;
}

// Same contract as build.mjs's plugin: the SDK as a string plus its content hash.
function embedded(source) {
  const sdkHash = createHash("sha256").update(source).digest("hex").slice(0, 16);
  return {
    name: "embedded-sdk",
    setup(b) {
      b.onResolve({ filter: /^embedded:mcp-sdk$/ }, (a) => ({ path: a.path, namespace: "embedded" }));
      b.onLoad({ filter: /.*/, namespace: "embedded" }, () => ({
        contents: `export default ${JSON.stringify(source)};\nexport const sdkHash = ${JSON.stringify(sdkHash)};\n`,
        loader: "js",
      }));
    },
  };
}

// Drops src/zod-jitless.ts from the SDK entry: zod as it comes, JIT on.
const zodJitPlugin = {
  name: "zod-jit",
  setup(b) {
    b.onResolve({ filter: /zod-jitless\.ts$/ }, () => ({ path: "zod-jit", namespace: "stub" }));
    b.onLoad({ filter: /^zod-jit$/, namespace: "stub" }, () => ({ contents: "", loader: "js" }));
  },
};

// Replaces src/mcp-probe.ts (today the only importer of the SDK string) with nothing: the main
// bundle as a hook would see it if no command embedded the SDK.
const noProbePlugin = {
  name: "no-probe",
  setup(b) {
    b.onResolve({ filter: /mcp-probe\.ts$/ }, () => ({ path: "no-probe", namespace: "stub" }));
    b.onLoad({ filter: /^no-probe$/, namespace: "stub" }, () => ({ contents: "export async function runMcpProbe() { return 2; }", loader: "js" }));
  },
};

async function bundle(entry, source, file, format, plugins = []) {
  await build({ ...common, entryPoints: [join(root, entry)], outfile: file, format, plugins: [embedded(source), ...plugins] });
  return file;
}

function buildSea(main, file, flags, env = {}) {
  const r = spawnSync(process.execPath, [join(root, "scripts/build-sea.mjs"), "--main", main, "--out", file, ...flags], { encoding: "utf8", env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`build-sea ${flags.join(" ")} for ${main} failed:\n${r.stderr}`);
  return r.stderr.split("\n")[0].replace(/^built \S+ /, "");
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const cacheRoot = join(out, "cache");
const variants = [];
const add = (v) => {
  variants.push(v);
  process.stderr.write(`  ${v.name}${v.size ? `: ${v.size}` : ""}\n`);
};

// "full" is the SDK bundle as the skeleton built it (Ajv, every schema, zod's JIT on); "lean" is
// what build.mjs ships now. Each other bundle changes one thing.
const sources = {
  full: await sdkSource("src/mcp-sdk.ts", { plugins: [zodJitPlugin] }),
  fullUnminified: await sdkSource("src/mcp-sdk.ts", { minify: false, plugins: [zodJitPlugin] }),
  noAjv: await sdkSource("src/mcp-sdk.ts", { plugins: [noAjvPlugin, zodJitPlugin] }),
  pure: await sdkSource("src/mcp-sdk.ts", { plugins: [pureSchemasPlugin, zodJitPlugin] }),
  lean: await sdkSource("src/mcp-sdk.ts", { plugins: [noAjvPlugin, pureSchemasPlugin] }),
  jit: await sdkSource("src/mcp-sdk.ts", { plugins: [noAjvPlugin, pureSchemasPlugin, zodJitPlugin] }),
  highNs: await sdkSource("bench/variants/sdk-high-level-ns.ts", { plugins: [noAjvPlugin, pureSchemasPlugin] }),
  highNamed: await sdkSource("bench/variants/sdk-high-level-named.ts", { plugins: [noAjvPlugin, pureSchemasPlugin] }),
};
const sdkKb = (name) => `SDK ${(sources[name].length / 1024).toFixed(0)} KB`;

const probe = ["__mcp-probe"];
const mjs = (name, source, plugins) => bundle("src/main.ts", sources[source], join(out, `${name}.mjs`), "esm", plugins);
const f = {
  full: await mjs("full", "full"),
  fullUnminified: await mjs("full-unminified", "fullUnminified"),
  noAjv: await mjs("no-ajv", "noAjv"),
  pure: await mjs("pure", "pure"),
  jit: await mjs("zod-jit", "jit"),
  noSdk: await mjs("no-sdk-string", "lean", [noProbePlugin]),
  highNs: await bundle("bench/variants/probe-high-level.ts", sources.highNs, join(out, "high-level-ns.mjs"), "esm"),
  highNamed: await bundle("bench/variants/probe-high-level.ts", sources.highNamed, join(out, "high-level-named.mjs"), "esm"),
  floor: await bundle("bench/variants/probe-no-sdk.ts", sources.lean, join(out, "floor.mjs"), "esm"),
};

const hook = { until: "exit", budget: 1.1 };
add({ name: "mjs --version, no SDK string", file: f.noSdk, args: ["--version"], ...hook, size: kb(f.noSdk), note: "what the embedded string costs a hook" });
add({ name: "mjs --version, full SDK string", file: f.full, args: ["--version"], ...hook, size: kb(f.full), note: "as the skeleton shipped it" });
add({ name: "mjs: full SDK", file: f.full, args: probe, size: sdkKb("full"), note: "skeleton: Server + Ajv, every schema" });
add({ name: "mjs: full SDK, unminified", file: f.fullUnminified, args: probe, size: sdkKb("fullUnminified"), note: "(c) esbuild without minify" });
add({ name: "mjs: full SDK, pure schemas", file: f.pure, args: probe, size: sdkKb("pure"), note: "(c) unused types.js schemas dropped" });
add({ name: "mjs: full SDK, no Ajv", file: f.noAjv, args: probe, size: sdkKb("noAjv"), note: "(f) ajv-provider stubbed out" });
add({ name: "mjs: McpServer, zod namespace", file: f.highNs, args: [], size: sdkKb("highNs"), note: "(a,b) lean + McpServer, export * as z" });
add({ name: "mjs: McpServer, zod named", file: f.highNamed, args: [], size: sdkKb("highNamed"), note: "(a,b) lean + McpServer, named zod imports" });
add({ name: "mjs: full SDK + code cache", file: f.full, args: [...probe, "--code-cache", join(cacheRoot, "full")], note: "(d) warm cache" });
add({ name: "mjs: lean, zod JIT on", file: f.jit, args: probe, size: sdkKb("jit"), note: "zod's default: a new Function per object schema" });
add({ name: "mjs: lean, zod JIT on + code cache", file: f.jit, args: [...probe, "--code-cache", join(cacheRoot, "jit")], note: "compare: mjs mcp probe, code cache" });
const cold = join(cacheRoot, "cold");
add({ name: "mjs: lean + code cache, cold", file: join(root, "dist/session-bridge.mjs"), args: [...probe, "--code-cache", cold], coldCacheDir: cold, note: "(d) first run: compile, then write the cache" });
add({ name: "mjs: floor, no SDK", file: f.floor, args: [], note: "hand-written JSON-RPC, for scale only" });

if (withSea) {
  const cjs = (name, source, entry = "src/main.ts") => bundle(entry, sources[source], join(out, `${name}.cjs`), "cjs");
  const sea = (name, main, flags = [], env = {}) => {
    const file = join(out, `sea-${name}`);
    return { file, size: buildSea(main, file, flags, env) };
  };
  const fullCjs = await cjs("full", "full");
  const snapLean = await cjs("snapshot-lean", "lean", "bench/variants/sea-snapshot.ts");
  const snapFull = await cjs("snapshot-full", "full", "bench/variants/sea-snapshot.ts");

  const s0 = sea("full-plain", fullCjs, ["--no-code-cache", "--no-sdk-cache"]);
  add({ name: "sea: full SDK, no code cache", file: s0.file, sea: true, args: probe, size: s0.size, note: "(e) skeleton SDK, plain blob" });
  const s1 = sea("full", fullCjs, ["--no-sdk-cache"]);
  add({ name: "sea: full SDK, useCodeCache", file: s1.file, sea: true, args: probe, size: s1.size, note: "(e) covers the main script only" });
  const s2 = sea("lean-no-asset", join(root, "dist/session-bridge.cjs"), ["--no-sdk-cache"]);
  add({ name: "sea: lean, no SDK cache asset", file: s2.file, sea: true, args: probe, size: s2.size, note: "(d,e) useCodeCache only" });
  add({ name: "sea: lean, disk code cache", file: s2.file, sea: true, args: [...probe, "--code-cache", join(cacheRoot, "sea-lean")], note: "(d) warm cache in a folder instead of the asset" });
  const e = sea("snapshot-empty", snapLean, ["--snapshot"], { SNAPSHOT_WITH_SDK: "0" });
  add({ name: "sea: snapshot without SDK --version", file: e.file, sea: true, args: ["--version"], ...hook, size: e.size, note: "(e) a user-land snapshot alone" });
  const s3 = sea("snapshot-full", snapFull, ["--snapshot"]);
  add({ name: "sea: snapshot, full SDK", file: s3.file, sea: true, args: probe, size: s3.size, note: "(e) useSnapshot, SDK evaluated at build" });
  add({ name: "sea: snapshot, full SDK --version", file: s3.file, sea: true, args: ["--version"], ...hook, note: "what every hook would pay" });
  const s4 = sea("snapshot-lean", snapLean, ["--snapshot"]);
  add({ name: "sea: snapshot, lean", file: s4.file, sea: true, args: probe, size: s4.size, note: "(e) useSnapshot, lean SDK evaluated at build" });
  add({ name: "sea: snapshot, lean --version", file: s4.file, sea: true, args: ["--version"], ...hook, note: "what every hook would pay" });
  const s5 = sea("snapshot-lean-warm", snapLean, ["--snapshot"], { SNAPSHOT_WARM: "1" });
  add({ name: "sea: snapshot, lean, warmed", file: s5.file, sea: true, args: probe, size: s5.size, note: "(e) + initialize/tools/list answered at build" });
  add({ name: "sea: snapshot, lean, warmed --version", file: s5.file, sea: true, args: ["--version"], ...hook, note: "what every hook would pay" });
}

writeFileSync(join(out, "variants.json"), JSON.stringify(variants, null, 2) + "\n");
process.stderr.write(`wrote ${variants.length} variants to dist/bench/variants.json\n`);
