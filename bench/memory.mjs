// Peak resident memory (VmHWM) of the long-lived processes, for bench/run.mjs: `mcp` once it has
// answered tools/list and again after a few tool calls (the SDK loaded), and the wake daemon
// idle while it watches 50 roles.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, envFor, memoryOf, runner, scratch, until } from "./lib.mjs";

export async function mcpMemory(artifact) {
  const root = scratch("mem-mcp");
  mkdirSync(join(root, "projects", "bench", "api"), { recursive: true, mode: 0o700 });
  const env = envFor("inherited", { BRIDGE_ROOT: root, BRIDGE_PROJECT: "bench", BRIDGE_ROLE: "web" });
  const [cmd, ...prefix] = runner(artifact);
  const child = spawn(cmd, [...prefix, "mcp"], { env, stdio: ["pipe", "pipe", "ignore"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  const send = (m) => child.stdin.write(JSON.stringify({ jsonrpc: "2.0", ...m }) + "\n");
  const answered = (id) => () => out.split("\n").some((l) => l.startsWith("{") && JSON.parse(l).id === id);
  try {
    send({
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "bench", version: "0" } },
    });
    send({ method: "notifications/initialized" });
    send({ id: 2, method: "tools/list" });
    await until("tools/list", answered(2));
    const listed = memoryOf(child.pid);
    const calls = [
      ["bridge_whoami", {}],
      ["bridge_roles", {}],
      ["bridge_send", { to: "api", body: "the schema changed" }],
      ["bridge_recv", {}],
      ["bridge_tail", {}],
    ];
    calls.forEach(([name, args], i) => send({ id: 10 + i, method: "tools/call", params: { name, arguments: args } }));
    await until("the tool calls", answered(10 + calls.length - 1));
    return { listed, called: memoryOf(child.pid) };
  } finally {
    child.kill("SIGTERM");
  }
}

export async function daemonMemory(roles) {
  const root = scratch("mem-daemon");
  const env = envFor("inherited", { BRIDGE_ROOT: root });
  const cli = (...args) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { env, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`session-bridge ${args.join(" ")}: ${r.stderr}`);
  };
  cli("spawner", "on");
  for (let i = 0; i < roles; i++) {
    const dir = join(root, "projects", `p${i % 5}`, `role${i}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, "inbox.jsonl"), "", { mode: 0o600 });
  }
  const log = join(root, "spawner", "log.jsonl");
  const daemon = spawn(process.execPath, [BIN, "spawner", "run"], { env: { ...env, BRIDGE_SPAWNER_RESCAN_MS: "200" }, stdio: "ignore" });
  try {
    await until("the daemon to start", () => existsSync(log) && readFileSync(log, "utf8").includes('"start"'));
    // A few rescans of every role, then idle.
    await new Promise((r) => setTimeout(r, 1500));
    return memoryOf(daemon.pid);
  } finally {
    daemon.kill("SIGTERM");
  }
}
