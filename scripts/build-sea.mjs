#!/usr/bin/env node
// Builds dist/session-bridge: a Node single executable (SEA) made of this very node binary with
// dist/session-bridge.cjs injected. Run `node build.mjs` first (`npm run build:sea` does both).
//   node scripts/build-sea.mjs                  stripped node, V8 code cache for the entry
//   node scripts/build-sea.mjs --no-strip       keep node's symbols (~12 MB more on Linux)
//   node scripts/build-sea.mjs --no-code-cache  plain blob
//   node scripts/build-sea.mjs --no-sdk-cache   without the code caches of mcp and its SDK (assets)
//   node scripts/build-sea.mjs --out PATH       write the executable elsewhere
//
// The .cjs is the entry's code followed by the embedded bundles in a trailing comment (build.mjs);
// here the entry alone becomes the SEA's main script and each bundle an asset (src/runtime/embedded.ts
// reads either), so the executable neither scans nor reads what a command does not use.
//
// The executable runs on any machine with the same OS/arch and the libraries node itself needs
// (on Linux: glibc >= 2.28, libstdc++, libgcc_s; see the ldd report at the end). The blob must be
// made by the same node binary it is injected into, so both come from process.execPath.
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { join, relative, resolve } from "node:path";
import { brotliDecompressSync } from "node:zlib";

const root = new URL("..", import.meta.url).pathname;
// The embedded-bundle format, shared with build.mjs and src/runtime/embedded.ts.
const FORMAT = JSON.parse(readFileSync(join(root, "src/runtime/bundle-format.json"), "utf8"));
const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, key) => values[key]);
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const args = process.argv.slice(2);
const FLAGS = ["--no-strip", "--no-code-cache", "--no-sdk-cache"];
const OPTIONS = ["--out"];
for (let i = 0; i < args.length; i++) {
  if (OPTIONS.includes(args[i])) i++;
  else if (!FLAGS.includes(args[i])) fail(`unknown argument "${args[i]}" (known: ${[...FLAGS, ...OPTIONS].join(", ")})`);
}
const flag = (name) => args.includes(name);
function option(name, fallback) {
  const i = args.indexOf(name);
  if (i === -1) return fallback;
  const value = args[i + 1];
  if (value === undefined) fail(`${name} needs a value`);
  return resolve(value);
}

const exe = process.platform === "win32" ? ".exe" : "";
const input = join(root, "dist/session-bridge.cjs");
const out = option("--out", join(root, `dist/session-bridge${exe}`));
const wantStrip = !flag("--no-strip");
const useCodeCache = !flag("--no-code-cache");
const withSdkCache = !flag("--no-sdk-cache");

// The fuse is the string Node searches its own binary for to decide whether a blob was injected.
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

function fail(message) {
  process.stderr.write(`build-sea: ${message}\n`);
  process.exit(1);
}

function run(cmd, argv, what) {
  const r = spawnSync(cmd, argv, { encoding: "utf8" });
  if (r.error) fail(`${what}: cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${what}: \`${cmd} ${argv.join(" ")}\` exited ${r.status ?? r.signal}\n${r.stderr}${r.stdout}`);
  return r;
}

const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

if (!existsSync(input)) fail(`${relative(process.cwd(), input)} is missing; run \`node build.mjs\` first (or \`npm run build:sea\`)`);
if (!["linux", "darwin", "win32"].includes(process.platform)) fail(`single executables are not supported on ${process.platform}`);

mkdirSync(join(root, "dist"), { recursive: true });
const work = mkdtempSync(join(root, "dist", ".sea-"));
// fail() exits without unwinding, so the scratch folder goes on exit rather than in a finally.
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

// 1. The blob: the entry script, V8's code cache for it, each embedded bundle as an asset, and as
//    others V8's code caches of `mcp` and its SDK (src/runtime/code-cache.ts), so `mcp` is fast from the first run.
const blob = join(work, "sea-prep.blob");
const config = join(work, "sea-config.json");
const { main, assets } = splitBundles(join(work, "bundles"));
if (withSdkCache)
  for (const [name, file] of await makeMcpCodeCaches(join(work, "mcp-run"))) assets[fill(FORMAT.seaCacheAsset, { name })] = file;
writeFileSync(config, JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, useCodeCache, assets }, null, 2));
run(process.execPath, ["--experimental-sea-config", config], "making the SEA blob");

// 2. A copy of this node, stripped of symbols if strip works on it. Stripping must happen before
//    injection: strip rewrites the section table and the injected note would no longer be found
//    (the result segfaults at startup).
const target = join(work, `session-bridge${exe}`);
copyFileSync(process.execPath, target);
chmodSync(target, 0o755);
const nodeSize = statSync(target).size;
let stripped = false;
if (wantStrip && process.platform === "linux") {
  const s = spawnSync("strip", ["--strip-all", target], { encoding: "utf8" });
  const works = s.status === 0 && spawnSync(target, ["-p", "process.version"], { encoding: "utf8" }).stdout?.trim() === process.version;
  if (works) stripped = true;
  else {
    // A missing strip or a binary it damages costs size, not correctness: start again from the original.
    process.stderr.write(`build-sea: strip ${s.error ? "is not available" : "did not give a working node"}; keeping the symbols\n`);
    copyFileSync(process.execPath, target);
  }
}
if (process.platform === "darwin") run("codesign", ["--remove-signature", target], "removing the signature");

// 3. Inject the blob where Node looks for it, and flip the fuse.
//    postject runs as a child: its ELF library prints a dozen harmless "Can't find string offset
//    for section name '.note.100'" warnings per run, shown only if the injection fails.
const postject = createRequire(import.meta.url).resolve("postject/dist/cli.js");
run(
  process.execPath,
  [
    postject,
    target,
    "NODE_SEA_BLOB",
    blob,
    "--sentinel-fuse",
    SEA_FUSE,
    ...(process.platform === "darwin" ? ["--macho-segment-name", "NODE_SEA"] : []),
  ],
  "injecting the blob with postject",
);
if (process.platform === "darwin") run("codesign", ["--sign", "-", target], "ad-hoc signing");
chmodSync(target, 0o755);

// 4. Check it before it replaces the previous build: --version is the entry, `hook` with a wrong
//    name reaches the dispatcher, `root --help` loads an embedded bundle from the assets.
const v = spawnSync(target, ["--version"], { encoding: "utf8" });
if (v.status !== 0 || v.stdout !== `${pkg.version}\n`) {
  fail(
    `the executable answered --version with ${JSON.stringify(v.stdout)} (exit ${v.status ?? v.signal}), expected "${pkg.version}\\n"\n${v.stderr ?? ""}`,
  );
}
const h = spawnSync(target, ["root", "--help"], { encoding: "utf8" });
if (h.status !== 0 || !h.stdout.includes("usage: session-bridge"))
  fail(`the executable could not run \`root --help\` (exit ${h.status ?? h.signal}):\n${h.stderr}`);
renameSync(target, out);

const size = statSync(out).size;
process.stderr.write(
  `built ${relative(process.cwd(), out) || out} (${mb(size)}; node ${mb(nodeSize)}` +
    `${stripped ? ", stripped" : ""}, blob ${(statSync(blob).size / 1024).toFixed(0)} KB` +
    `${useCodeCache ? " with code cache" : ""}${withSdkCache ? ", and mcp's and the SDK's" : ""})\n`,
);
if (process.platform === "linux") reportSharedLibraries(out);

// Splits the .cjs into the entry (the SEA's main script) and one asset per embedded bundle, plus
// the index (src/runtime/embedded.ts reads them by these names).
function splitBundles(dir) {
  mkdirSync(dir);
  const text = readFileSync(input, "latin1");
  const head = text.indexOf(FORMAT.trailerHead);
  const end = text.lastIndexOf(`\n${FORMAT.indexTail}`);
  const indexAt = text.lastIndexOf("\n", end - 1) + 1;
  if (head === -1 || end === -1) fail(`${relative(process.cwd(), input)} has no embedded bundles; rebuild it with \`node build.mjs\``);
  const index = JSON.parse(text.slice(indexAt, end));
  // The main script is the entry's code itself: the .cjs keeps it as a comment that its first lines
  // compile (build.mjs "prelude"); here V8's code cache of the main script covers it instead.
  const ENTRY_TAIL = "\n*/ }";
  const entryPrefix = FORMAT.entryHead.slice(0, FORMAT.entryHead.indexOf("{esc}"));
  const entryAt = text.indexOf(entryPrefix);
  if (entryAt === -1 || entryAt > head) fail(`${relative(process.cwd(), input)} has no entry where build.mjs puts it; rebuild it`);
  const lineEnd = text.indexOf("\n", entryAt + 1);
  const esc = text.slice(entryAt + entryPrefix.length, lineEnd);
  const stored = text.slice(lineEnd, head - ENTRY_TAIL.length);
  if (text.slice(head - ENTRY_TAIL.length, head) !== ENTRY_TAIL)
    fail(`${relative(process.cwd(), input)}: the entry does not end where the trailer starts; rebuild it`);
  const main = join(dir, "main.cjs");
  writeFileSync(main, `"use strict";${esc ? stored.replaceAll(`*${esc}/`, "*/") : stored}\n`, "latin1");
  const assets = { [FORMAT.seaIndexAsset]: join(dir, "index.json") };
  writeFileSync(assets[FORMAT.seaIndexAsset], JSON.stringify(index));
  for (const [name, entry] of Object.entries(index.bundles)) {
    const raw = text.slice(indexAt - entry.before, indexAt - entry.before + entry.bytes);
    const header = fill(FORMAT.bundleHeader, { name, build: index.build });
    if (!raw.startsWith(header)) fail(`bundle "${name}" is not where the index of ${relative(process.cwd(), input)} says; rebuild it`);
    const code = raw.slice(header.length);
    const file = join(dir, `${name}.js`);
    writeFileSync(
      file,
      entry.z ? brotliDecompressSync(Buffer.from(code, "base64")) : entry.esc ? code.replaceAll(`*${entry.esc}/`, "*/") : code,
      "latin1",
    );
    assets[fill(FORMAT.seaBundleAsset, { name })] = file;
  }
  return { main, assets };
}

// Runs the real `mcp` of the .cjs once under this node (the same V8 as the executable), as a
// bridge role: the handshake, then a tools/call that loads the SDK. The server writes V8's code
// cache of its own bundle into <BRIDGE_ROOT>/cache as it starts, and the SDK's after the call (so
// that one holds what the call compiled too; src/runtime/code-cache.ts). Returns [bundle name, file] pairs.
async function makeMcpCodeCaches(dir) {
  const bridgeRoot = join(dir, "root");
  const cacheDir = join(bridgeRoot, "cache");
  const requests = [
    {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "build-sea", version: "0" } },
    },
    { jsonrpc: "2.0", method: "notifications/initialized" },
    { jsonrpc: "2.0", id: 2, method: "tools/list" },
    { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "bridge_whoami", arguments: {} } },
  ];
  // The root exists, as it does for any bridge role that ran before: no root, no cache.
  mkdirSync(bridgeRoot, { recursive: true, mode: 0o700 });
  const env = { PATH: process.env.PATH, HOME: dir, BRIDGE_ROOT: bridgeRoot, BRIDGE_PROJECT: "build", BRIDGE_ROLE: "sea" };
  const child = spawn(process.execPath, [input, "mcp"], { env, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  child.stdin.write(requests.map((m) => JSON.stringify(m) + "\n").join(""));
  const caches = () =>
    (existsSync(cacheDir) ? readdirSync(cacheDir) : []).flatMap((f) => {
      const name = f.match(/^bundle-(.+)-[0-9a-f]{16}-.*\.v8cache$/)?.[1];
      return name ? [[name, join(cacheDir, f)]] : [];
    });
  const deadline = Date.now() + 30_000;
  while (!caches().some(([name]) => name === "mcp-sdk") && child.exitCode === null && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 10));
  child.stdin.end();
  const code = await new Promise((r) => (child.exitCode !== null ? r(child.exitCode) : child.on("close", r)));
  const found = caches();
  const names = found.map(([name]) => name).sort();
  if (code !== 0 || !out.includes('"id":3') || names.join() !== "mcp,mcp-sdk") {
    fail(
      `making the MCP code caches: \`${input} mcp\` exited ${code} leaving caches for [${names.join(", ")}], expected mcp and mcp-sdk; use --no-sdk-cache to build without them\n${err}`,
    );
  }
  return found;
}

// The executable needs what node needs. Say so at build time, so nobody ships it to a musl box.
function reportSharedLibraries(file) {
  const r = spawnSync("ldd", [file], { encoding: "utf8" });
  // No ldd (e.g. a minimal container) only loses this report.
  if (r.status !== 0) return;
  const libs = [...r.stdout.matchAll(/^\s*(\S+\.so[.\d]*)/gm)].map((m) => m[1]).filter((l) => !/(^|\/)(linux-vdso|ld-linux)/.test(l));
  process.stderr.write(`  needs: ${libs.join(", ")}\n`);
}
