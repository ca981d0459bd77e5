// Running the built binary the way a user does, against a private temp root per test.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { BIN } from "./bin.ts";
import { waitFor } from "./poll.ts";

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  json<T = any>(): T;
}

/** A fresh bridge root (and a scratch folder around it) removed when the test ends. */
export function makeRoot(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "sb-test-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "bridge");
}

/** Environment for the binary: only what a test sets, never the developer's own BRIDGE_* or CLAUDE_*. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("BRIDGE_") && !k.startsWith("CLAUDE") && k !== "TMUX" && k !== "TMUX_PANE") env[k] = v;
  }
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

export interface As {
  root: string;
  project?: string;
  role?: string;
  env?: Record<string, string | undefined>;
  input?: string | Buffer;
}

export function bridge(args: string[], as: As): Run {
  const env = cleanEnv({ BRIDGE_ROOT: as.root, BRIDGE_PROJECT: as.project, BRIDGE_ROLE: as.role, ...as.env });
  const r = spawnSync(process.execPath, [BIN, ...args], { env, encoding: "utf8", input: as.input ?? "", timeout: 60_000 });
  return wrap(r.status, r.stdout, r.stderr);
}

function wrap(status: number | null, stdout: string, stderr: string): Run {
  return {
    status,
    stdout,
    stderr,
    json() {
      try {
        return JSON.parse(stdout);
      } catch {
        throw new Error(`stdout is not JSON (exit ${status}):\n${stdout}\nstderr:\n${stderr}`);
      }
    },
  };
}

/** Starts the binary in the background; `waitFor` resolves when stdout matches, with a deadline. */
export function bridgeAsync(args: string[], as: As) {
  const env = cleanEnv({ BRIDGE_ROOT: as.root, BRIDGE_PROJECT: as.project, BRIDGE_ROLE: as.role, ...as.env });
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    exited,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    waitFor: (pattern: RegExp, deadlineMs = 10_000) =>
      waitUntil(
        () => pattern.test(stdout),
        deadlineMs,
        () => `stdout never matched ${pattern}; stdout:\n${stdout}\nstderr:\n${stderr}`,
      ),
  };
}

export async function waitUntil(check: () => boolean, deadlineMs: number, describe: () => string): Promise<void> {
  await waitFor("a condition", check, deadlineMs, describe);
}
