#!/usr/bin/env node
// Builds dist/session-bridge.cjs: one CommonJS file, shebang, executable, only `node:` imports;
// what package.json's `bin` names, what `install` points Claude Code at when run with node, and the
// single executable's input (scripts/build-sea.mjs). Also dist/session-bridge.mjs, a forwarder that
// only keeps installs which name it (made before the entry became CommonJS) working until `install` runs again.
//   node build.mjs           the binary
//   node build.mjs --tests   also bundles test/**/*.test.ts into dist/test/ (Node 20 cannot strip types)
//   node build.mjs --bench   also bundles bench/fixtures/*.ts into dist/bench/
//
// Startup is the product's budget (docs/architecture.md "The build"): a hook may cost 10% over `node -e 0`, and V8 must
// scan every byte of the file it runs. So the file holds, as code, only the entry: src/main.ts
// and the hook dispatcher. Each `import()` in them (a command: the CLI, mcp, install, doctor,
// spawner, each hook) is built as a CommonJS bundle of its own, and so is the MCP SDK; those
// bundles are stored after the code in one block comment, which V8 skips about twice as fast as
// it scans a string, with an index on the last line. src/runtime/embedded.ts reads and evaluates one when
// its command runs. The entry is CommonJS: a `.mjs` runs through Node's ES module loader whatever
// it holds (an empty one costs 1.06-1.15x `node -e 0`, BENCHMARKS.md), and esbuild's ES module
// output would hoist every `node:` import of every module to the top and load them all.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { brotliDecompressSync, constants as zlibConstants, createBrotliCompress } from "node:zlib";
import { chmodSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { noAjvPlugin, pureSchemasPlugin } from "./scripts/sdk-plugins.mjs";

const root = new URL(".", import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const withTests = process.argv.includes("--tests");
const withBench = process.argv.includes("--bench");

// The embedded-bundle format (src/runtime/bundle-format.json), shared with the runtime that reads
// it (src/runtime/embedded.ts) and scripts/build-sea.mjs, so the three cannot drift; and the table
// of bundles (src/runtime/bundles.json), explicit rather than guessed from file names: each says
// whether its compiled code is kept. Every byte of the file costs every start (V8 scans even a
// comment, ~0.2 ms per 100 KB, after Node decodes it), so bundles are minified (names kept, for
// stack traces) and stored as ONE brotli stream, as base64: each bundle carries its own copy of
// the modules it shares with others (the store, settings, lib), which one stream holds once
// (318 KB of base64 against 546 KB with each bundle compressed alone; makeTrailer). The hooks too: a bridged
// hook must not pay ~1.2 ms to load node:zlib on every prompt, and does not, since its code cache
// under <root>/cache also holds its code (src/runtime/code-cache.ts); an unbridged hook only pays
// for the bytes (BENCHMARKS.md "Where start-up goes").
const FORMAT = JSON.parse(readFileSync(join(root, "src/runtime/bundle-format.json"), "utf8"));
const TABLE = JSON.parse(readFileSync(join(root, "src/runtime/bundles.json"), "utf8")).bundles;
const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, key) => values[key]);
const bundleHeader = (name, buildId) => fill(FORMAT.bundleHeader, { name, build: buildId });
const streamHeader = (buildId) => fill(FORMAT.streamHeader, { build: buildId });
const SDK_BUNDLE = "mcp-sdk";
const spec = (name) => {
  const found = TABLE[name];
  if (!found)
    throw new Error(`bundle "${name}" is not in src/runtime/bundles.json: add it with its module and whether it keeps a code cache`);
  if ("stored" in found)
    throw new Error(
      `bundle "${name}" in src/runtime/bundles.json: "stored" is gone: every bundle is in the one compressed stream (build.mjs makeTrailer)`,
    );
  return found;
};
const cached = (name) => spec(name).codeCache;
const MINIFY = { minifyWhitespace: true, minifySyntax: true };

const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  logLevel: "warning",
  legalComments: "none",
  // ASCII output: byte offsets equal string offsets, and V8 keeps the source one byte per char.
  charset: "ascii",
  define: { __VERSION__: JSON.stringify(pkg.version) },
};

// What install's launcher runs for a hook, as `node -e` code (src/fast-start.ts): a bridged hook
// whose entry has its code cache runs without Node reading the .cjs (docs/architecture.md
// "Through the launcher"). Built before the bundles, since install writes it into the launcher:
// the launcher and the copy it runs are then always of one build.
async function fastStartCode() {
  // `require` is node -e's own.
  return snippet(
    'import { fastStart } from "./src/fast-start.ts";\nfastStart(require);\n',
    "the launcher's fast start (src/fast-start.ts)",
  );
}
// The embedded bundle each lazily loaded module becomes, by its path under src/.
const LAZY_NAMES = Object.fromEntries(Object.entries(TABLE).map(([name, b]) => [b.module, name]));

/**
 * Every `import()` reached from the entry becomes an embedded bundle, named in src/runtime/bundles.json.
 * Inside a bundle (`nested`) the stub calls the entry's loader (src/runtime/embedded.ts puts it on
 * globalThis) instead of carrying a copy of it.
 */
function lazyBundlesPlugin(found, nested = false) {
  const embedded = join(root, "src/runtime/embedded.ts");
  return {
    name: "lazy-bundles",
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind !== "dynamic-import") return undefined;
        const file = join(args.resolveDir, args.path);
        const name = LAZY_NAMES[relative(join(root, "src"), file)];
        if (name === undefined) {
          return {
            errors: [
              {
                text: `import("${args.path}") in ${relative(root, args.importer)}: not a lazily loaded module of LAZY_NAMES (each becomes an embedded bundle)`,
              },
            ],
          };
        }
        const previous = found.get(name);
        if (previous && previous !== file)
          return { errors: [{ text: `two lazily loaded modules are named "${name}": ${previous} and ${file}` }] };
        found.set(name, file);
        return { path: name, namespace: "lazy-bundle" };
      });
      b.onLoad({ filter: /.*/, namespace: "lazy-bundle" }, (args) => ({
        contents: nested
          ? `module.exports = globalThis[Symbol.for("session-bridge.loadEmbedded")](${JSON.stringify(args.path)});\n`
          : `module.exports = require(${JSON.stringify(embedded)}).loadEmbedded(${JSON.stringify(args.path)});\n`,
        loader: "js",
        resolveDir: root,
      }));
    },
  };
}

// Packages written for older Node (iovalkey requires "net", "tls", "events") name built-ins bare:
// they stay external under their node: name, the only externals a bundle may have.
const BARE_BUILTINS = new RegExp(
  `^(${builtinModules
    .filter((m) => !m.startsWith("_"))
    .join("|")
    .replaceAll("/", "\\/")})$`,
);
const nodePrefixPlugin = {
  name: "node-prefix",
  setup(b) {
    b.onResolve({ filter: BARE_BUILTINS }, (args) => ({ path: `node:${args.path}`, external: true }));
    // `debug` (under iovalkey) tries it inside a try/catch for colours we never print.
    b.onResolve({ filter: /^supports-color$/ }, () => ({ path: "supports-color", namespace: "empty-module" }));
    b.onLoad({ filter: /.*/, namespace: "empty-module" }, () => ({ contents: "module.exports = {};", loader: "js" }));
  },
};

async function buildCjs(entry, what, extra = {}) {
  const result = await build({ ...common, entryPoints: [entry], format: "cjs", write: false, metafile: true, ...extra });
  assertOnlyNodeImports(result.metafile, what);
  return asciiComments(result.outputFiles[0].text);
}

// charset "ascii" escapes every string, template, regexp and identifier, but leaves comments
// alone; one "…" in a comment would make V8 hold the whole file two bytes per character.
function asciiComments(code) {
  return code.replace(/[^\x00-\x7f]/gu, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);
}

function assertOnlyNodeImports(metafile, what) {
  for (const [file, out] of Object.entries(metafile.outputs)) {
    for (const imp of out.imports ?? []) {
      if (!imp.external) continue;
      if (!imp.path.startsWith("node:")) {
        throw new Error(
          `${what} (${file}) imports "${imp.path}": only node: built-ins may stay external; bundle it or use the node: prefix`,
        );
      }
    }
  }
}

const sha = (text) => createHash("sha256").update(text).digest("hex");

/**
 * The block comment holding every bundle, ending with the index line, as a function's body (see
 * src/runtime/embedded.ts): the bundles, each after its header line, in the order of
 * src/runtime/bundles.json, compressed as one brotli stream, stored in base64 (which has no "*":
 * nothing in it can end the comment). One stream holds the modules the bundles share (the store,
 * settings, lib) once: 318 KB against 546 KB with each bundle compressed alone. The encoder is
 * flushed after each bundle (0.8% larger), so the stream's first `upTo` bytes inflate to every
 * bundle up to that one's end: a bundle without a code cache inflates only what comes before it
 * (the table puts those first). The index says where each bundle's code lies in the inflated text
 * (`at`, `bytes`: ASCII, so characters), `upTo`, its hash (names its code cache), and whether it
 * keeps a cache.
 */
async function makeTrailer(bundles, entryHash) {
  const buildId = sha(bundles.map(([name, code]) => `${name}\n${code}`).join("\n")).slice(0, 12);
  const order = Object.keys(TABLE);
  const ordered = [...bundles].sort(([a], [b]) => order.indexOf(a) - order.indexOf(b));
  // Brotli: 12% smaller than deflate at level 9 here. Its largest window (2^24 bytes, less 16)
  // covers the whole text, so any bundle can refer back to a module another one holds.
  const total = ordered.reduce((sum, [name, code]) => sum + bundleHeader(name, buildId).length + code.length + 1, 0);
  if (total > (1 << zlibConstants.BROTLI_MAX_WINDOW_BITS) - 16)
    throw new Error(`the bundles come to ${total} bytes: more than brotli's largest window, see makeTrailer`);
  const encoder = createBrotliCompress({
    params: {
      [zlibConstants.BROTLI_PARAM_MODE]: zlibConstants.BROTLI_MODE_TEXT,
      [zlibConstants.BROTLI_PARAM_QUALITY]: zlibConstants.BROTLI_MAX_QUALITY,
      [zlibConstants.BROTLI_PARAM_LGWIN]: zlibConstants.BROTLI_MAX_WINDOW_BITS,
      [zlibConstants.BROTLI_PARAM_SIZE_HINT]: total,
    },
  });
  const chunks = [];
  let packedBytes = 0;
  encoder.on("data", (chunk) => {
    chunks.push(chunk);
    packedBytes += chunk.length;
  });
  let text = "";
  const entries = {};
  for (const [name, code] of ordered) {
    if (Buffer.byteLength(code) !== code.length) throw new Error(`bundle "${name}" is not ASCII (asciiComments should have made it so)`);
    const piece = `${bundleHeader(name, buildId)}${code}\n`;
    const at = text.length + piece.length - code.length - 1;
    text += piece;
    encoder.write(piece);
    await new Promise((resolve) => encoder.flush(zlibConstants.BROTLI_OPERATION_FLUSH, resolve));
    entries[name] = { at, bytes: code.length, upTo: packedBytes, hash: sha(code).slice(0, 16), ...(cached(name) && { cache: true }) };
  }
  const ended = new Promise((resolve, reject) => encoder.on("end", resolve).on("error", reject));
  encoder.end();
  await ended;
  const packed = Buffer.concat(chunks);
  // What the reader relies on, checked: each bundle's prefix inflates through its end.
  const base64 = packed.toString("base64");
  for (const [name, { at, bytes, upTo }] of Object.entries(entries)) {
    const prefix = Buffer.from(base64.slice(0, 4 * Math.ceil(upTo / 3)), "base64");
    const out = brotliDecompressSync(prefix, { finishFlush: zlibConstants.BROTLI_OPERATION_FLUSH }).toString("latin1");
    if (out.length < at + bytes || out.slice(0, at + bytes) !== text.slice(0, at + bytes))
      throw new Error(`bundle "${name}": the stream's first ${upTo} bytes do not inflate through its end (see makeTrailer)`);
  }
  if (brotliDecompressSync(packed).toString("latin1") !== text) throw new Error("the stream of bundles does not inflate to them");
  const stream = `${streamHeader(buildId)}${base64}\n`;
  // `entry` names the entry's code cache: the launcher's fast start finds it from here (src/fast-start.ts).
  const index = { format: FORMAT.format, build: buildId, entry: entryHash, stream: { bytes: stream.length }, bundles: entries };
  return { buildId, stored: stream.length, index, text: FORMAT.trailerHead + stream + JSON.stringify(index) + `\n${FORMAT.indexTail}\n` };
}

// Node's bootstrap has loaded node:fs and node:path before any script runs. Any other built-in the
// entry imports would be loaded as the entry starts (esbuild requires a module's imports where it
// initialises it), on every hook, used or not: node:os, for one homedir() in a bridged session, cost
// every unbridged hook 0.7M of its 9.5M instructions over node -e 0 (callgrind). The entry loads
// those on first use instead, through an object that requires the module when a property is read.
// The bundles a bridged hook runs on every prompt or Bash call get the same (hook-guard loaded
// node:os for homedir() whether or not it was called). A built-in whose export is a function
// (node:events, node:assert…) stays as it is: the object standing in for it could not be called.
const PRELOADED = new Set(["node:fs", "node:path"]);
const requireHere = createRequire(import.meta.url);
const callable = (id) => typeof requireHere(id) === "function";
const LAZY_BUILTINS_IN = (name) => name.startsWith("hook-") || name === "git-shim";
function lazyBuiltins(code) {
  const strict = /^"use strict";\n?/.exec(code)?.[0];
  if (strict === undefined) throw new Error('esbuild\'s CommonJS output no longer starts with "use strict": see lazyBuiltins in build.mjs');
  return strict + lazyRequires(code.slice(strict.length));
}
/** The requires of built-ins not preloaded, in esbuild's CommonJS output, made lazy (see above). */
function lazyRequires(code) {
  let lazied = 0;
  const out = code.replace(/\brequire\("(node:[a-z_/]+)"\)/g, (call, id) => {
    if (PRELOADED.has(id) || callable(id)) return call;
    lazied++;
    return `__lazyBuiltin(${JSON.stringify(id)})`;
  });
  if (lazied === 0) return code;
  return `var __lazyBuiltin = (id) => { let m; return new Proxy({}, { get: (_, key) => (m ??= require(id))[key] }); };\n${out}`;
}

function listTests(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...listTests(path));
    // Test files and the TypeScript fixtures they run as child processes (test/fixtures/*.ts).
    else if (entry.name.endsWith(".test.ts") || (dir.includes("/fixtures") && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")))
      found.push(path);
  }
  return found;
}

function listFixtures(dir) {
  return readdirSync(dir)
    .filter((n) => n.endsWith(".ts"))
    .map((n) => join(dir, n));
}

mkdirSync(join(root, "dist"), { recursive: true });

const FAST_START = await fastStartCode();
common.define.__FAST_START__ = JSON.stringify(FAST_START);

// 1. The entry, as CommonJS: what src/main.ts imports statically is part of it; every import() is
//    a stub that loads an embedded bundle.
const lazy = new Map();
// Whitespace minified (names kept): V8 scans and pre-parses every byte of the entry on every start,
// the hooks outside a bridged session included (BENCHMARKS.md "Where start-up goes"). Not
// minifySyntax: it prints a string holding "\n" as a template with a real line break, and the
// trailer's first line (bundle-format.json) must occur once in the file, where the trailer starts.
// Minified, esbuild puts the code on the "use strict" line: the steps below expect it on a line of its own.
const entry = lazyBuiltins(
  (
    await buildCjs(join(root, "src/main.ts"), "the entry (src/main.ts)", { minifyWhitespace: true, plugins: [lazyBundlesPlugin(lazy)] })
  ).replace(/^"use strict";\n?/, '"use strict";\n'),
);

// 2. The bundles: one per lazily loaded module (its own copy of what it imports), and the SDK,
//    minified and without Ajv and unused zod schemas (half the size, ~10 ms less to start `mcp`).
//    A bundle's own import() (the CLI's of the Redis store) is a bundle too, found as each is built.
const built = new Map();
for (let pending = [...lazy.keys()]; pending.length > 0; pending = [...lazy.keys()].filter((name) => !built.has(name))) {
  await Promise.all(
    pending.map(async (name) => {
      built.set(name, null);
      const code = await buildCjs(lazy.get(name), `bundle "${name}"`, {
        ...MINIFY,
        plugins: [lazyBundlesPlugin(lazy, true), nodePrefixPlugin],
      });
      built.set(name, LAZY_BUILTINS_IN(name) ? lazyBuiltins(code) : code);
    }),
  );
}
const names = [...lazy.keys()].sort();
const unused = Object.keys(TABLE).filter((name) => name !== SDK_BUNDLE && !lazy.has(name));
if (unused.length > 0) throw new Error(`src/runtime/bundles.json lists bundles no import() loads: ${unused.join(", ")}`);
const bundles = await Promise.all([
  ...names.map(async (name) => [name, built.get(name)]),
  (async () => [
    SDK_BUNDLE,
    await buildCjs(join(root, "src", spec(SDK_BUNDLE).module), "embedded MCP SDK", {
      minify: true,
      plugins: [noAjvPlugin, pureSchemasPlugin],
    }),
  ])(),
]);
// The entry's hash, of its code as compiled, names its code cache (src/runtime/entry-cache.ts).
const ENTRY_HASH = sha(entry).slice(0, 16);
const trailer = await makeTrailer(bundles, ENTRY_HASH);

/**
 * The entry's code, stored as a comment (the body of a function, like the trailer), and the few
 * lines that compile it. V8 parses every byte of code in the file before anything runs: the 29 KB
 * of the entry cost a hook outside a bridged session ~5M instructions (6% of `node -e 0`), more
 * than the bundles' 540 KB of comment (BENCHMARKS.md "Where start-up goes"). So a hook
 * that has nothing to do returns first, having compiled nothing. "Nothing to do" is what
 * src/hooks.ts answers with exit 0 and no output before reading stdin: recv, guard, send or wait,
 * no argument more, no BRIDGE_* variable set but BRIDGE_ROOT, which may be set machine-wide (so no
 * identity, no BRIDGE_BLOCK_GIT_ALL, no unknown name), and for recv no CLAUDE_ENV_FILE (its
 * SessionStart takes the git shim out). test/runtime/prelude.test.ts holds the two to the same answers.
 *
 * Every other run calls `sessionBridgeStart` (entryStarter below): in a bridged session it
 * compiles the entry with V8's code cache under <root>/cache (src/runtime/entry-cache.ts), since
 * there a hook runs on every prompt and tool call; elsewhere as the module's own code
 * (Module.prototype._compile: the same wrapper, require and __filename as the file's). Both are
 * function declarations, which V8 only pre-parses until they are called.
 */
function prelude(code, starter) {
  let esc = "";
  if (code.includes("*/")) for (let n = 0; esc === "" || code.includes(esc); n++) esc = `~${n}~`;
  const head = fill(FORMAT.entryHead, { esc });
  if (head.includes("\n", 1)) throw new Error("bundle-format.json entryHead must be one line");
  const stored = esc ? code.replaceAll("*/", `*${esc}/`) : code;
  return (
    // A hook outside a bridged session: done (see above).
    'if (!(process.argv.length === 4 && process.argv[2] === "hook" && ["recv", "guard", "send", "wait"].includes(process.argv[3]) &&\n' +
    '  !(process.argv[3] === "recv" && process.env.CLAUDE_ENV_FILE) && !Object.keys(process.env).some((k) => k.startsWith("BRIDGE_") && k !== "BRIDGE_ROOT" && process.env[k])))\n' +
    "  sessionBridgeStart(module, require, __filename, __dirname);\n" +
    `function sessionBridgeStart(${STARTER_PARAMS.join(", ")}) {\n${starter}}\n` +
    // The entry's code as compiled: '"use strict";' + "\n" + code, which is `entry` exactly.
    "function sessionBridgeSource() {\n" +
    "  const text = Function.prototype.toString.call(sessionBridgeEntry);\n" +
    `  const code = text.slice(text.indexOf("\\n"), text.length - ${JSON.stringify(ENTRY_TAIL)}.length);\n` +
    `  return '"use strict";' + ${esc ? `code.replaceAll(${JSON.stringify(`*${esc}/`)}, "*/")` : "code"};\n` +
    "}" +
    head +
    "\n" +
    stored +
    ENTRY_TAIL
  );
}
// Not "\n*/}", the trailer's last line: a file cut short after the entry must read as having no index.
const ENTRY_TAIL = "\n*/ }";

// What the prelude's sessionBridgeStart is handed: the file's own module, require and paths.
const STARTER_PARAMS = ["entryModule", "entryRequire", "entryFilename", "entryDirname"];
// The entry's cache is <root>/cache/bundle-entry-…, beside the bundles' (src/runtime/entry-cache.ts).
if (Object.hasOwn(TABLE, "entry"))
  throw new Error('src/runtime/bundles.json: "entry" names the entry\'s own code cache; rename the bundle');

/**
 * The body of the prelude's sessionBridgeStart: the code of src/runtime/entry-cache.ts and what it
 * uses (code-cache.ts's reading half, isBridged, resolveRoot), so there is one implementation of
 * the cache's file, format and checks; minified and tree-shaken, since every start of every hook
 * scans it (BENCHMARKS.md "Where start-up goes"). A bridged guard, or recv that needs no other
 * bundle, first runs from its own bundle's cache without the entry, as install's launcher does
 * (src/fast-start.ts runHookAlone). The entry's hash, of the code as compiled, names its cache.
 * The entry writes the cache (saveEntryCacheSoon, src/main.ts): the code that writes is part of
 * it already, and would only lengthen the prelude.
 */
async function entryStarter() {
  const hash = ENTRY_HASH;
  const [mod, req, filename, dirname] = STARTER_PARAMS;
  // The bundles that keep a code cache, by hash: what runHookAlone looks up (the index's own table,
  // written in here, so the prelude reads nothing from the file to find a hook's cache).
  const cached = Object.fromEntries(
    Object.entries(trailer.index.bundles)
      .filter(([, b]) => b.cache)
      .map(([name, b]) => [name, { hash: b.hash, cache: true }]),
  );
  const contents = `import { isBridged } from "./src/hooks.ts";
import { cacheDir, resolveRoot } from "./src/bus/layout.ts";
import { useCodeCacheFolder } from "./src/runtime/code-cache.ts";
import { runEntryCached } from "./src/runtime/entry-cache.ts";
import { runHookAlone } from "./src/fast-start.ts";
if (isBridged(process.env)) {
  const folder = cacheDir(resolveRoot(process.env));
  useCodeCacheFolder(folder);
  if (!runHookAlone(${JSON.stringify(cached)}, ${req}, ${filename}))
    runEntryCached(folder, ${JSON.stringify(hash)}, ${mod}, ${req}, ${filename}, ${dirname}, sessionBridgeSource);
} else ${mod}._compile(sessionBridgeSource(), ${filename});
`;
  return snippet(contents, "the prelude's starter");
}

// src/hooks.ts's import()s of the hooks are not wanted in a snippet (isBridged alone is): left as
// they are, they are tree-shaken with runHook. Followed, esbuild would wrap every module in a lazy initialiser.
function noDynamicImports() {
  return {
    name: "no-dynamic-imports",
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => (args.kind === "dynamic-import" ? { path: args.path, external: true } : undefined));
    },
  };
}

/** A few lines of src/ bundled flat (the prelude's starter, the launcher's fast start): minified, tree-shaken, built-ins loaded on first use. */
async function snippet(contents, what) {
  const result = await build({
    ...common,
    stdin: { contents, resolveDir: root, sourcefile: what, loader: "js" },
    format: "cjs",
    minify: true,
    write: false,
    metafile: true,
    plugins: [noDynamicImports()],
  });
  assertOnlyNodeImports(result.metafile, what);
  const code = lazyRequires(asciiComments(result.outputFiles[0].text));
  if (/\bimport\(/.test(code)) throw new Error(`${what} kept an import() of src/hooks.ts: see snippet in build.mjs`);
  return code;
}

// 3. The artifacts. The .cjs is the program; the .mjs holds no code of its own.
const cjsOut = join(root, "dist/session-bridge.cjs");
const mjsOut = join(root, "dist/session-bridge.mjs");
// The trailer is the body of a function declared at the end of the file: a function's text is a
// slice of the file's text as Node loaded it, so src/runtime/embedded.ts takes the bundles from
// there (no second read of the file), once the entry's first statement has handed it over. That
// statement follows esbuild's "use strict", which must stay the first one; `typeof` because the
// single executable's main script is the code without the trailer.
if (!entry.startsWith('"use strict";\n'))
  throw new Error('esbuild\'s CommonJS entry no longer starts with "use strict": see where build.mjs hands the trailer over');
const cjs =
  "#!/usr/bin/env node\n" +
  `// session-bridge ${pkg.version} (build ${trailer.buildId}), made by build.mjs from src/main.ts; the embedded bundles follow the code.\n` +
  '"use strict";\n' +
  `typeof sessionBridgeBundles === "function" && (globalThis[Symbol.for(${JSON.stringify(FORMAT.bundlesKey)})] = sessionBridgeBundles);\n` +
  prelude(entry.slice('"use strict";\n'.length), await entryStarter()) +
  trailer.text;
// scripts/build-sea.mjs and the tests find the trailer and the entry by their first lines.
if (
  cjs.indexOf(FORMAT.entryHead.slice(0, FORMAT.entryHead.indexOf("{esc}"))) !==
  cjs.lastIndexOf(FORMAT.entryHead.slice(0, FORMAT.entryHead.indexOf("{esc}")))
)
  throw new Error("the entry's first line (bundle-format.json entryHead) occurs twice in the file");
if (cjs.indexOf(FORMAT.trailerHead) !== cjs.length - trailer.text.length)
  throw new Error(
    "the trailer's first line (bundle-format.json trailerHead) occurs in the code before it: see the entry's minify options in build.mjs",
  );
writeFileSync(cjsOut, cjs);
chmodSync(cjsOut, 0o755);
// Installs made before the entry became CommonJS run `node …/session-bridge.mjs`: removing the file would make their
// hooks fail (a guard that fails lets the command through) until `install` is run again, which,
// run through this file, points Claude Code at the .cjs (src/runtime/self.ts names the .cjs).
writeFileSync(
  mjsOut,
  "#!/usr/bin/env node\n" +
    "// Only for installs that name this file (made before the entry became CommonJS): the program is session-bridge.cjs beside it.\n" +
    "// Run `session-bridge install` again to point Claude Code at it (faster: no ES module loader).\n" +
    'import "./session-bridge.cjs";\n',
);
chmodSync(mjsOut, 0o755);
// The Claude Code plugin this repository carries (plugin/, src/install/plugin.ts) runs its own copy:
// a marketplace added from a clone reads the plugin folder, and a cached plugin holds only that folder.
mkdirSync(join(root, "plugin/lib"), { recursive: true });
writeFileSync(join(root, "plugin/lib/session-bridge.cjs"), cjs);
// The program's fast start, which install's launcher has written in, as a line of sh beside each
// place the program is run from where it is: sourced by the committed plugin/bin/session-bridge
// (src/install/plugin.ts PLUGIN_FAST_START) and by the launcher `install --in-place` writes
// (src/install/home.ts placeInPlace), so it always comes from the program's own build.
const fastStartLine =
  `# session-bridge ${pkg.version}: the fast start of session-bridge.cjs beside it (build.mjs), sourced by the launchers that run it in place\n` +
  `fast='${FAST_START.replace(/'/g, "'\\''")}'\n`;
writeFileSync(join(root, "plugin/lib/fast-start.sh"), fastStartLine);
writeFileSync(join(dirname(cjsOut), "fast-start.sh"), fastStartLine);

if (withTests) {
  rmSync(join(root, "dist/test"), { recursive: true, force: true });
  await build({
    ...common,
    entryPoints: listTests(join(root, "test")),
    outdir: join(root, "dist/test"),
    outbase: join(root, "test"),
    outExtension: { ".js": ".mjs" },
    format: "esm",
    // Tests use devDependencies (the SDK Client, playwright) straight from node_modules.
    packages: "external",
    sourcemap: "inline",
  });
}

if (withBench) {
  // Benchmark workers drive the store in-process (thousands of sends a second).
  await build({
    ...common,
    entryPoints: listFixtures(join(root, "bench/fixtures")),
    outdir: join(root, "dist/bench"),
    outExtension: { ".js": ".mjs" },
    format: "esm",
    // The Redis worker's client (iovalkey) is CommonJS requiring "net": loaded from node_modules.
    packages: "external",
  });
}

const kb = (n) => `${(n / 1024).toFixed(0)} KB`;
const sizes = bundles.map(([name, code]) => `${name} ${kb(code.length)}`).join(", ");
process.stderr.write(
  `built dist/session-bridge.cjs (${kb(Buffer.byteLength(cjs))}: entry ${kb(entry.length)}, bundles ${kb(trailer.stored)} compressed: ${sizes})` +
    (withTests ? " and tests\n" : "\n"),
);
