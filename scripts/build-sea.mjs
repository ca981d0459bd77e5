#!/usr/bin/env node
// Builds dist/session-bridge: a Node single executable (SEA) made of this very node binary with
// dist/session-bridge.cjs injected. Run `node build.mjs` first (`npm run build:sea` does both).
//   node scripts/build-sea.mjs                  stripped node, V8 code cache for the main script
//   node scripts/build-sea.mjs --no-strip       keep node's symbols (~12 MB more on Linux)
//   node scripts/build-sea.mjs --no-code-cache  plain blob
//   node scripts/build-sea.mjs --no-sdk-cache   without the embedded MCP SDK's code cache (asset)
//   node scripts/build-sea.mjs --main F --out P another CommonJS entry / output path (benchmarks;
//                                                F must answer `__mcp-probe` unless --no-sdk-cache)
//   node scripts/build-sea.mjs --snapshot ...    F builds a V8 startup snapshot (v8.startupSnapshot) at
//                                                build time; Node 20 then ignores the code cache
//
// The executable runs on any machine with the same OS/arch and the libraries node itself needs
// (on Linux: glibc >= 2.28, libstdc++, libgcc_s; see the ldd report at the end). The blob must be
// made by the same node binary it is injected into, so both come from process.execPath.
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative, resolve } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const args = process.argv.slice(2);
const FLAGS = ["--no-strip", "--no-code-cache", "--no-sdk-cache", "--snapshot"];
const OPTIONS = ["--main", "--out"];
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
const main = option("--main", join(root, "dist/session-bridge.cjs"));
const out = option("--out", join(root, `dist/session-bridge${exe}`));
const wantStrip = !flag("--no-strip");
const useSnapshot = flag("--snapshot");
// With a snapshot the code cache is redundant and Node 20 warns; it is in the snapshot already.
const useCodeCache = !flag("--no-code-cache") && !useSnapshot;
const withSdkCache = !flag("--no-sdk-cache") && !useSnapshot;
// Only the real entry answers --version with our version; other entries (benchmarks) are not checked.
const checkVersion = !args.includes("--main");

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

if (!existsSync(main)) fail(`${relative(process.cwd(), main)} is missing; run \`node build.mjs\` first (or \`npm run build:sea\`)`);
if (!["linux", "darwin", "win32"].includes(process.platform)) fail(`single executables are not supported on ${process.platform}`);

mkdirSync(join(root, "dist"), { recursive: true });
const work = mkdtempSync(join(root, "dist", ".sea-"));
// fail() exits without unwinding, so the scratch folder goes on exit rather than in a finally.
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

// 1. The blob: the entry script, V8's code cache for its top level, and as an asset V8's code cache
//    of the embedded MCP SDK (src/sdk-loader.ts), so `mcp` starts fast from the first run.
const blob = join(work, "sea-prep.blob");
const config = join(work, "sea-config.json");
const assets = withSdkCache ? { "mcp-sdk.v8cache": makeSdkCodeCache(join(work, "sdk-cache")) } : {};
writeFileSync(
  config,
  JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, useCodeCache, useSnapshot, assets }, null, 2),
);
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
  [postject, target, "NODE_SEA_BLOB", blob, "--sentinel-fuse", SEA_FUSE, ...(process.platform === "darwin" ? ["--macho-segment-name", "NODE_SEA"] : [])],
  "injecting the blob with postject",
);
if (process.platform === "darwin") run("codesign", ["--sign", "-", target], "ad-hoc signing");
chmodSync(target, 0o755);

// 4. Check it before it replaces the previous build.
if (checkVersion) {
  const v = spawnSync(target, ["--version"], { encoding: "utf8" });
  if (v.status !== 0 || v.stdout !== `${pkg.version}\n`) {
    fail(`the executable answered --version with ${JSON.stringify(v.stdout)} (exit ${v.status ?? v.signal}), expected "${pkg.version}\\n"\n${v.stderr ?? ""}`);
  }
}
renameSync(target, out);

const size = statSync(out).size;
process.stderr.write(
  `built ${relative(process.cwd(), out) || out} (${mb(size)}; node ${mb(nodeSize)}` +
    `${stripped ? ", stripped" : ""}, blob ${(statSync(blob).size / 1024).toFixed(0)} KB` +
    `${useCodeCache ? " with code cache" : ""}${withSdkCache ? " and the SDK's" : ""}${useSnapshot ? " with a startup snapshot" : ""})\n`,
);
if (process.platform === "linux") reportSharedLibraries(out);

// Runs the entry's MCP probe once under this node, the same V8 as the executable, answering
// initialize and tools/list so that the cache also holds the functions that path compiles.
function makeSdkCodeCache(dir) {
  const requests = [
    { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "build-sea", version: "0" } } },
    { jsonrpc: "2.0", method: "notifications/initialized" },
    { jsonrpc: "2.0", id: 2, method: "tools/list" },
  ];
  const r = spawnSync(process.execPath, [main, "__mcp-probe", "--code-cache", dir], {
    input: requests.map((m) => JSON.stringify(m) + "\n").join(""),
    encoding: "utf8",
    timeout: 30_000,
  });
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".v8cache")) : [];
  if (r.status !== 0 || !r.stdout.includes('"id":2') || files.length !== 1) {
    fail(`making the MCP SDK code cache: \`${main} __mcp-probe\` exited ${r.status ?? r.signal} with ${files.length} cache files; use --no-sdk-cache to build without it\n${r.stderr}`);
  }
  return join(dir, files[0]);
}

// The executable needs what node needs. Say so at build time, so nobody ships it to a musl box.
function reportSharedLibraries(file) {
  const r = spawnSync("ldd", [file], { encoding: "utf8" });
  // No ldd (e.g. a minimal container) only loses this report.
  if (r.status !== 0) return;
  const libs = [...r.stdout.matchAll(/^\s*(\S+\.so[.\d]*)/gm)].map((m) => m[1]).filter((l) => !/(^|\/)(linux-vdso|ld-linux)/.test(l));
  process.stderr.write(`  needs: ${libs.join(", ")}\n`);
}
