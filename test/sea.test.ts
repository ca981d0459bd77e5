// Both shipped artifacts — `node dist/session-bridge.mjs` and the single executable
// dist/session-bridge — must behave the same from the command line. The executable is built here
// (~3 s) when it is missing or older than its input, dist/session-bridge.cjs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN, REPO } from "./helpers/bin.ts";
import { cliArgs, isSea, selfCommand } from "../src/runtime.ts";

const SEA = join(REPO, process.platform === "win32" ? "dist/session-bridge.exe" : "dist/session-bridge");
const SEA_INPUT = join(REPO, "dist/session-bridge.cjs");
const VERSION = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string }).version;

function ensureSea(): string | undefined {
  if (!["linux", "darwin", "win32"].includes(process.platform)) return `no single executables on ${process.platform}`;
  const stale = !existsSync(SEA) || statSync(SEA).mtimeMs < statSync(SEA_INPUT).mtimeMs;
  if (stale) {
    const r = spawnSync(process.execPath, [join(REPO, "scripts/build-sea.mjs")], { cwd: REPO, encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, `scripts/build-sea.mjs failed:\n${r.stderr}`);
  }
  return undefined;
}

const seaSkip = ensureSea();
const artifacts: { name: string; argv: string[]; skip?: string }[] = [
  { name: "node dist/session-bridge.mjs", argv: [process.execPath, BIN] },
  { name: "dist/session-bridge (SEA)", argv: [SEA], ...(seaSkip ? { skip: seaSkip } : {}) },
];

function run(argv: string[], args: string[]) {
  return spawnSync(argv[0]!, [...argv.slice(1), ...args], { encoding: "utf8", timeout: 20_000 });
}

for (const artifact of artifacts) {
  test(`${artifact.name}: --version prints the package version and nothing else`, { skip: artifact.skip ?? false }, () => {
    const r = run(artifact.argv, ["--version"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${VERSION}\n`);
    // A SEA built without disableExperimentalSEAWarning would print a warning here.
    assert.equal(r.stderr, "");
  });

  test(`${artifact.name}: --help prints our usage on stdout`, { skip: artifact.skip ?? false }, () => {
    const r = run(artifact.argv, ["--help"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^session-bridge ${VERSION.replaceAll(".", "\\.")}: `));
    assert.match(r.stdout, /usage: session-bridge <command>/);
    assert.equal(r.stderr, "");
  });

  test(`${artifact.name}: node's own flags reach us as arguments`, { skip: artifact.skip ?? false }, () => {
    // If node parsed `-e`, this would evaluate code and exit 0 instead of naming an unknown command.
    const r = run(artifact.argv, ["-e", "process.exit(0)"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown command "-e"/);
  });

  test(`${artifact.name}: the embedded MCP SDK loads and answers tools/list, with and without a code cache`, { skip: artifact.skip ?? false }, async () => {
    assert.equal((await listProbeTools(artifact.argv, ["__mcp-probe"])).length, 12);
    const cache = mkdtempSync(join(tmpdir(), "sb-sea-cache-"));
    try {
      for (const round of ["first", "second"]) {
        const tools = await listProbeTools(artifact.argv, ["__mcp-probe", "--code-cache", cache]);
        assert.equal(tools.length, 12, `${round} run`);
        // The script writes its cache after the first tools/list; the executable brings one along
        // (an asset made at build time) and has no reason to write any.
        const expected = artifact.argv[0] === SEA ? 0 : 1;
        assert.equal(readdirSync(cache).filter((f) => f.endsWith(".v8cache")).length, expected, `${round} run`);
      }
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
}

test("a damaged code cache is reported, ignored and rewritten, never run", async () => {
  const cache = mkdtempSync(join(tmpdir(), "sb-cache-damage-"));
  try {
    await listProbeTools([process.execPath, BIN], ["__mcp-probe", "--code-cache", cache]);
    const [name] = readdirSync(cache);
    const file = join(cache, name!);
    const good = readFileSync(file);
    // Flip bytes deep in V8's payload, past every header V8 checks: V8 itself would accept this
    // cache and crash (SIGSEGV) on it, so only our checksum stands between the two.
    const bad = Buffer.from(good);
    for (let i = 5000; i < 5100; i++) bad[i] = bad[i]! ^ 0xff;
    writeFileSync(file, bad);
    const stderr: string[] = [];
    assert.equal((await listProbeTools([process.execPath, BIN], ["__mcp-probe", "--code-cache", cache], stderr)).length, 12);
    assert.match(stderr.join(""), /ignoring the damaged MCP SDK code cache/);
    assert.notDeepEqual(readFileSync(file), bad, "the damaged cache is replaced");
    const again: string[] = [];
    await listProbeTools([process.execPath, BIN], ["__mcp-probe", "--code-cache", cache], again);
    assert.equal(again.join(""), "", "the rewritten cache is accepted silently");
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

test("runtime: under node, selfCommand() is node plus this script's real path", () => {
  assert.equal(isSea(), false);
  assert.deepEqual(selfCommand(), [process.execPath, realpathSync(process.argv[1]!)]);
  assert.deepEqual(cliArgs(), process.argv.slice(2));
});

/** Starts the probe, sends initialize + tools/list, resolves with the tool list (deadline 15 s). */
function listProbeTools(argv: string[], args: string[], stderr: string[] = []): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, [...argv.slice(1), ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    const deadline = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no tools/list answer within 15 s\nstdout: ${out}\nstderr: ${err}`));
    }, 15_000);
    let tools: unknown[] | undefined;
    child.stderr.on("data", (d: Buffer) => (err += d));
    child.stdout.on("data", (d: Buffer) => {
      out += d;
      const line = out.split("\n").find((l) => l.includes('"id":2'));
      if (line && !tools) {
        tools = (JSON.parse(line) as { result?: { tools?: unknown[] } }).result?.tools ?? [];
        // Hanging up is how a client ends a stdio server; the probe must then exit 0.
        child.stdin.end();
      }
    });
    child.on("close", (code) => {
      clearTimeout(deadline);
      stderr.push(err);
      if (code !== 0 || !tools) reject(new Error(`probe exited ${code}\nstdout: ${out}\nstderr: ${err}`));
      else resolve(tools);
    });
    child.stdin.write(
      [
        { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "test", version: "0" } } },
        { jsonrpc: "2.0", method: "notifications/initialized" },
        { jsonrpc: "2.0", id: 2, method: "tools/list" },
      ]
        .map((m) => JSON.stringify(m) + "\n")
        .join(""),
    );
  });
}
