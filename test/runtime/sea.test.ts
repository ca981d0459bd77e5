// Both shipped artifacts — `node dist/session-bridge.cjs` and the single executable
// dist/session-bridge — must behave the same where a user (or Claude Code) meets them: the CLI,
// the hooks, the MCP server and install; so must dist/session-bridge.mjs, which only forwards to
// the .cjs for installs made before the entry became CommonJS, and whose `install` moves them to the
// .cjs. The executable is built here (~3 s) when it is missing or older than its input, the .cjs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { BIN, REPO } from "../helpers/bin.ts";
import { cleanEnv, makeRoot } from "../helpers/cli.ts";
import { cliArgs, isSea, selfCommand } from "../../src/runtime/self.ts";
import { BridgeError } from "../../src/lib/errors.ts";
import FORMAT from "../../src/runtime/bundle-format.json" with { type: "json" };

const SEA = join(REPO, process.platform === "win32" ? "dist/session-bridge.exe" : "dist/session-bridge");
const SEA_INPUT = BIN;
const FORWARDER = join(REPO, "dist/session-bridge.mjs");
const VERSION = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string }).version;

/** Builds the executable if it is stale; a reason to skip when this platform has none. */
function ensureSea(): string | undefined {
  if (!["linux", "darwin", "win32"].includes(process.platform)) return `Node has no single executables on ${process.platform}`;
  const stale = !existsSync(SEA) || statSync(SEA).mtimeMs < statSync(SEA_INPUT).mtimeMs;
  if (stale) {
    const r = spawnSync(process.execPath, [join(REPO, "scripts/build-sea.mjs")], { cwd: REPO, encoding: "utf8", timeout: 120_000 });
    assert.equal(r.status, 0, `scripts/build-sea.mjs failed:\n${r.stderr}`);
  }
  return undefined;
}

const seaSkip = ensureSea();
/** argv: how the artifact is run; copies: what `install` run through it puts in the stable home (src/install/home.ts). */
const artifacts: { name: string; argv: string[]; copies: string[]; skip?: string }[] = [
  { name: "node dist/session-bridge.cjs", argv: [process.execPath, BIN], copies: ["session-bridge", "session-bridge.cjs"] },
  {
    name: "node dist/session-bridge.mjs (forwards to the .cjs)",
    argv: [process.execPath, FORWARDER],
    copies: ["session-bridge", "session-bridge.cjs"],
  },
  { name: "dist/session-bridge (SEA)", argv: [SEA], copies: ["session-bridge"], ...(seaSkip ? { skip: seaSkip } : {}) },
];

function run(argv: string[], args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}) {
  return spawnSync(argv[0]!, [...argv.slice(1), ...args], {
    encoding: "utf8",
    timeout: 20_000,
    env: options.env ?? cleanEnv(),
    input: options.input ?? "",
  });
}

const as = (root: string, role?: string, extra: Record<string, string> = {}) =>
  cleanEnv({ BRIDGE_ROOT: root, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: role, ...extra });

for (const artifact of artifacts) {
  const skip = artifact.skip ?? false;
  const bin = artifact.argv;

  test(`${artifact.name}: --version prints the package version and nothing else`, { skip }, () => {
    const r = run(bin, ["--version"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${VERSION}\n`);
    // A SEA built without disableExperimentalSEAWarning would print a warning here.
    assert.equal(r.stderr, "");
  });

  test(`${artifact.name}: --help prints our usage on stdout`, { skip }, () => {
    const r = run(bin, ["--help"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^session-bridge ${VERSION.replaceAll(".", "\\.")}: `));
    assert.match(r.stdout, /usage: session-bridge <command>/);
    assert.equal(r.stderr, "");
  });

  test(`${artifact.name}: node's own flags reach us as arguments`, { skip }, () => {
    // If node parsed `-e`, this would evaluate code and exit 0 instead of naming an unknown command.
    const r = run(bin, ["-e", "process.exit(0)"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown command "-e"/);
  });

  test(`${artifact.name}: send, then recv, from the shell`, { skip }, (t) => {
    const root = makeRoot(t);
    assert.equal(run(bin, ["whoami"], { env: as(root, "web") }).status, 0);
    const sent = run(bin, ["send", "--queue", "web", "the API is ready", "--json"], { env: as(root, "backend") });
    assert.equal(sent.status, 0, sent.stderr);
    const id = (JSON.parse(sent.stdout) as { id: string }).id;
    const got = run(bin, ["recv", "--json"], { env: as(root, "web") });
    assert.equal(got.status, 0, got.stderr);
    assert.deepEqual(
      (JSON.parse(got.stdout) as { messages: { id: string; body: string }[] }).messages.map((m) => [m.id, m.body]),
      [[id, "the API is ready"]],
    );
    // A usage error thrown inside the CLI's bundle keeps its exit code 2 in the entry.
    assert.equal(run(bin, ["recv", "--bogus"], { env: as(root, "web") }).status, 2);
  });

  test(`${artifact.name}: hook recv injects unread mail as JSON; not bridged it prints nothing`, { skip }, (t) => {
    const root = makeRoot(t);
    assert.equal(run(bin, ["send", "--queue", "web", "deploy is green"], { env: as(root, "backend") }).status, 0);
    const prompt = JSON.stringify({ hook_event_name: "UserPromptSubmit", prompt: "status?", session_id: "s1" });
    const r = run(bin, ["hook", "recv"], { env: as(root, "web"), input: prompt });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { hookSpecificOutput: { hookEventName: string; additionalContext: string } };
    assert.equal(out.hookSpecificOutput.hookEventName, "UserPromptSubmit");
    assert.match(out.hookSpecificOutput.additionalContext, /deploy is green/);
    const unbridged = run(bin, ["hook", "recv"], { env: cleanEnv({ BRIDGE_ROOT: root }), input: prompt });
    assert.deepEqual([unbridged.status, unbridged.stdout, unbridged.stderr], [0, "", ""]);
  });

  test(`${artifact.name}: hook guard denies git push with Claude Code's JSON`, { skip }, (t) => {
    const root = makeRoot(t);
    const input = JSON.stringify({ hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: { command: "git push origin main" } });
    const r = run(bin, ["hook", "guard"], { env: as(root, "web"), input });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { hookSpecificOutput: { permissionDecision: string; permissionDecisionReason: string } };
    assert.equal(out.hookSpecificOutput.permissionDecision, "deny");
    assert.match(out.hookSpecificOutput.permissionDecisionReason, /git push/);
  });

  test(`${artifact.name}: mcp answers initialize, tools/list and a tools/call`, { skip }, async (t) => {
    const root = makeRoot(t);
    const answers = await mcpSession(bin, as(root, "web"), [{ name: "bridge_whoami", arguments: {} }]);
    assert.equal((answers.get(1) as { serverInfo: { name: string } }).serverInfo.name, "session-bridge");
    const tools = (answers.get(2) as { tools: { name: string }[] }).tools.map((tool) => tool.name);
    assert.ok(tools.includes("bridge_send") && tools.includes("bridge_whoami"), tools.join(", "));
    assert.match(JSON.stringify(answers.get(3)), /you are role \\"web\\" of bridge project \\"shop\\"/);
  });

  test(`${artifact.name}: install --config-dir points Claude Code's hooks and MCP server at this artifact`, { skip }, (t) => {
    const root = makeRoot(t);
    const config = join(root, "..", "claude-config");
    const r = run(bin, ["install", "--config-dir", config], {
      env: cleanEnv({ BRIDGE_ROOT: root, HOME: join(root, ".."), PATH: "/usr/bin:/bin", XDG_DATA_HOME: "" }),
    });
    assert.equal(r.status, 0, r.stderr);
    // install copies the artifact to a stable home and registers the copy (src/install/home.ts).
    const self = join(root, "..", ".local/share/session-bridge/bin/session-bridge");
    // Run through the old .mjs, the .cjs it forwards to is what gets copied.
    assert.deepEqual(readdirSync(dirname(self)).sort(), artifact.copies);
    const settings = JSON.parse(readFileSync(join(config, "settings.json"), "utf8")) as {
      hooks: Record<string, { hooks: { command: string }[] }[]>;
    };
    assert.equal(settings.hooks.UserPromptSubmit?.[0]?.hooks[0]?.command, `exec ${self} hook recv`);
    assert.equal(settings.hooks.PreToolUse?.[0]?.hooks[0]?.command, `exec ${self} hook guard`);
    const server = (
      JSON.parse(readFileSync(join(config, ".claude.json"), "utf8")) as { mcpServers: Record<string, { command: string; args: string[] }> }
    ).mcpServers["session-bridge"];
    assert.deepEqual([server?.command, ...(server?.args ?? [])], [self, "mcp"]);
    // And the hook command it wrote runs, as Claude Code runs it (docs/claude-code.md "Process").
    const hook = spawnSync("/bin/sh", ["-c", settings.hooks.PreToolUse![0]!.hooks[0]!.command], {
      encoding: "utf8",
      env: cleanEnv(),
      input: "{}",
    });
    assert.deepEqual([hook.status, hook.stdout], [0, ""]);
  });
}

test("mcp: the .cjs caches its bundle's and the SDK's compiled code under <root>/cache; the executable brings its own", async (t) => {
  const root = makeRoot(t);
  const cache = join(root, "cache");
  const files = () =>
    existsSync(cache)
      ? readdirSync(cache)
          .filter((f) => f.endsWith(".v8cache"))
          .sort()
      : [];
  const sdk = () => files().filter((f) => f.startsWith("bundle-mcp-sdk-"));
  await mcpSession([process.execPath, BIN], as(root, "web"), []);
  assert.deepEqual(sdk(), [], "no tool call, no SDK loaded, nothing of it cached");
  // The root exists now (the session record): the server caches its own bundle as it starts, and
  // the SDK's once the first tool call is answered.
  await mcpSession([process.execPath, BIN], as(root, "web"), [{ name: "bridge_whoami", arguments: {} }], {
    waitFor: () => sdk().length === 1,
  });
  assert.deepEqual(
    files().map((f) => f.replace(/-[0-9a-f]{16}-.*$/, "")),
    ["bundle-mcp", "bundle-mcp-sdk"],
  );
  assert.equal(statSync(cache).mode & 0o777, 0o700);
  for (const f of files()) assert.equal(statSync(join(cache, f)).mode & 0o777, 0o600, f);
  if (!seaSkip) {
    const other = makeRoot(t);
    await mcpSession([SEA], as(other, "web"), []);
    await mcpSession([SEA], as(other, "web"), [{ name: "bridge_whoami", arguments: {} }]);
    assert.equal(existsSync(join(other, "cache")), false, "the executable's build-time caches were used");
  }
});

test("mcp: a damaged SDK code cache is reported, ignored and rewritten, never run", async (t) => {
  const root = makeRoot(t);
  const cache = join(root, "cache");
  const call = [{ name: "bridge_whoami", arguments: {} }];
  const cached = () => (existsSync(cache) ? readdirSync(cache).filter((f) => f.startsWith("bundle-mcp-sdk-")) : []);
  await mcpSession([process.execPath, BIN], as(root, "web"), call, { waitFor: () => cached().length === 1 });
  const file = join(cache, cached()[0]!);
  const good = readFileSync(file);
  // Flip bytes deep in V8's payload, past every header V8 checks: V8 itself would accept this
  // cache and crash (SIGSEGV) on it, so only our checksum stands between the two.
  const bad = Buffer.from(good);
  for (let i = 5000; i < 5100; i++) bad[i] = bad[i]! ^ 0xff;
  writeFileSync(file, bad);
  const stderr: string[] = [];
  await mcpSession([process.execPath, BIN], as(root, "web"), call, { stderr, waitFor: () => !readFileSync(file).equals(bad) });
  assert.match(stderr.join(""), /ignoring the damaged MCP SDK code cache/);
  const again: string[] = [];
  await mcpSession([process.execPath, BIN], as(root, "web"), call, { stderr: again });
  assert.doesNotMatch(again.join(""), /code cache/, "the rewritten cache is accepted silently");
});

test("a binary whose embedded bundles were cut off says it is damaged; its hooks still pass through", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "sb-damaged-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const copy = join(dir, "session-bridge.cjs");
  copyFileSync(BIN, copy);
  const text = readFileSync(copy, "latin1");
  assert.ok(text.includes(FORMAT.trailerHead));
  writeFileSync(copy, text.slice(0, text.indexOf(FORMAT.trailerHead) + 1), "latin1");
  const r = spawnSync(process.execPath, [copy, "roles"], { encoding: "utf8", env: cleanEnv({ BRIDGE_PROJECT: "shop" }) });
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /session-bridge\.cjs is damaged: its index of embedded bundles is missing .*; rebuild it \(npm run build\) or reinstall it/,
  );
  const hook = spawnSync(process.execPath, [copy, "hook", "guard"], { encoding: "utf8", env: cleanEnv(), input: "{}" });
  assert.deepEqual([hook.status, hook.stdout, hook.stderr], [0, "", ""]);
});

test("runtime: outside the CommonJS build (no __filename) selfCommand() refuses to guess which file runs", () => {
  // This test file is an ES module: the case of a build that lost its CommonJS wrapper.
  assert.equal(isSea(), false);
  assert.throws(
    () => selfCommand(),
    (err: unknown) =>
      err instanceof BridgeError && err.code === "E_IO" && /cannot tell which file is running \(no __filename\)/.test(err.message),
  );
  assert.deepEqual(cliArgs(), process.argv.slice(2));
});

interface McpOptions {
  stderr?: string[];
  /** Keep the server running after the last answer until this holds (deadline 15 s). */
  waitFor?: () => boolean;
}

/**
 * Runs `mcp` through the handshake, tools/list and the given tool calls (ids 3, 4, …), then hangs
 * up; resolves with the results by id once the server exited 0. Deadline 15 s.
 */
function mcpSession(
  argv: string[],
  env: NodeJS.ProcessEnv,
  calls: { name: string; arguments: object }[],
  options: McpOptions = {},
): Promise<Map<number, unknown>> {
  const last = 2 + calls.length;
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, [...argv.slice(1), "mcp"], { stdio: ["pipe", "pipe", "pipe"], env });
    const answers = new Map<number, unknown>();
    let out = "";
    let err = "";
    let poll: NodeJS.Timeout | undefined;
    const deadline = setTimeout(() => {
      clearInterval(poll);
      child.kill("SIGKILL");
      reject(new Error(`mcp did not finish within 15 s\nstdout: ${out}\nstderr: ${err}`));
    }, 15_000);
    child.stderr.on("data", (d: Buffer) => (err += d));
    child.stdout.on("data", (d: Buffer) => {
      out += d;
      for (const line of out.split("\n").slice(0, -1)) {
        const message = JSON.parse(line) as { id?: number; result?: unknown; error?: unknown };
        if (typeof message.id === "number") answers.set(message.id, message.result ?? message.error);
      }
      if (answers.has(last) && poll === undefined) {
        // Hanging up is how a client ends a stdio server; it must then exit 0.
        poll = setInterval(() => {
          if (options.waitFor && !options.waitFor()) return;
          clearInterval(poll);
          child.stdin.end();
        }, 5);
      }
    });
    child.on("close", (code) => {
      clearTimeout(deadline);
      options.stderr?.push(err);
      if (code !== 0 || !answers.has(last)) reject(new Error(`mcp exited ${code}\nstdout: ${out}\nstderr: ${err}`));
      else resolve(answers);
    });
    const requests = [
      {
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "test", version: "0" } },
      },
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { jsonrpc: "2.0", id: 2, method: "tools/list" },
      ...calls.map((params, i) => ({ jsonrpc: "2.0", id: 3 + i, method: "tools/call", params })),
    ];
    child.stdin.write(requests.map((m) => JSON.stringify(m) + "\n").join(""));
  });
}
