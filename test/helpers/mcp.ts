// Drives the built `session-bridge mcp` with the SDK's real Client over stdio, as Claude Code would.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { BIN } from "./bin.ts";

export interface Bridged {
  client: Client;
  transport: StdioClientTransport;
  pid: number;
  stderr(): string;
  /** Calls a tool; returns its text and isError flag. */
  call(
    name: string,
    args?: Record<string, unknown>,
    options?: { signal?: AbortSignal; timeout?: number },
  ): Promise<{ text: string; isError: boolean }>;
  prompt(name: string, args?: Record<string, string>): Promise<string>;
  close(): Promise<void>;
}

/** Starts one server with exactly `env` (plus PATH/HOME from the SDK's safe defaults). */
export async function startServer(env: Record<string, string>): Promise<Bridged> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, "mcp"], env, stderr: "pipe" });
  let stderr = "";
  transport.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: "session-bridge-test", version: "0" });
  await client.connect(transport);
  const pid = transport.pid;
  if (pid === null) throw new Error("server has no pid");
  // As Claude Code does; the server registers its session once the tools are listed, and at the
  // latest before its first tool call, so after this call the role has joined.
  await client.listTools();
  await client.callTool({ name: "bridge_whoami", arguments: {} });
  return {
    client,
    transport,
    pid,
    stderr: () => stderr,
    async call(name, args = {}, options = {}) {
      const result = await client.callTool({ name, arguments: args }, undefined, {
        ...(options.signal && { signal: options.signal }),
        timeout: options.timeout ?? 60_000,
      });
      const content = result.content as { type: string; text: string }[];
      return { text: content.map((c) => c.text).join("\n"), isError: result.isError === true };
    },
    async prompt(name, args = {}) {
      const result = await client.getPrompt({ name, arguments: args });
      const first = result.messages[0]!.content as { type: string; text: string };
      return first.text;
    },
    async close() {
      await client.close().catch(() => {});
    },
  };
}

/** A fresh BRIDGE_ROOT, removed (with every server started through it) by `cleanup`. */
export class Room {
  readonly root = mkdtempSync(join(tmpdir(), "sb-mcp-"));
  readonly servers: Bridged[] = [];
  readonly children: ChildProcess[] = [];

  async join(project: string, role: string, extra: Record<string, string> = {}): Promise<Bridged> {
    const server = await startServer({ BRIDGE_ROOT: this.root, BRIDGE_PROJECT: project, BRIDGE_ROLE: role, ...extra });
    this.servers.push(server);
    return server;
  }

  async start(env: Record<string, string>): Promise<Bridged> {
    const server = await startServer({ BRIDGE_ROOT: this.root, ...env });
    this.servers.push(server);
    return server;
  }

  /** A long-lived process standing in for the claude process (its pid goes in CLAUDE_PID). */
  fakeClaude(): ChildProcess {
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1e6)"], { stdio: "ignore" });
    this.children.push(child);
    return child;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.close()));
    for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    rmSync(this.root, { recursive: true, force: true });
  }
}

export function messageId(sendText: string): string {
  const m = /sent (m[A-Za-z0-9_-]+)/.exec(sendText);
  if (!m) throw new Error(`no message id in: ${sendText}`);
  return m[1]!;
}
