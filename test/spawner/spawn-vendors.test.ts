// The spawn driver per vendor, from files only: which CLI a role's run uses, what stops it (not on
// PATH, our hooks missing or, for Codex, not approved), which closed session `resume` continues
// (never one a live process holds), and the command line each CLI gets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rolePaths } from "../../src/bus/layout.ts";
import type { RolePaths } from "../../src/bus/layout.ts";
import { endSession, registerSession } from "../../src/bus/sessions.ts";
import { defaultSettings, effectiveRole } from "../../src/settings/schema.ts";
import type { EffectiveRole } from "../../src/settings/schema.ts";
import { planSpawn } from "../../src/spawner/drivers/spawn.ts";
import { describeSpawnTarget, resolveSpawnTarget } from "../../src/spawner/drivers/spawn-target.ts";
import type { SpawnTarget } from "../../src/spawner/drivers/spawn-target.ts";
import { codexTrustKey } from "../../src/agents/codex/config.ts";

interface Box {
  dir: string;
  root: string;
  cwd: string;
  bin: string;
  env: NodeJS.ProcessEnv;
  paths: RolePaths;
}

function withBox(fn: (box: Box) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), "sb-spawnv-"));
    const box: Box = {
      dir,
      root: join(dir, "bridge"),
      cwd: join(dir, "work"),
      bin: join(dir, "bin"),
      env: { PATH: join(dir, "bin"), CODEX_HOME: join(dir, "codex"), GEMINI_CLI_HOME: join(dir, "ghome") },
      paths: rolePaths(join(dir, "bridge"), "shop", "api"),
    };
    for (const d of [box.cwd, box.bin, join(dir, "codex"), join(dir, "ghome", ".gemini")]) mkdirSync(d, { recursive: true });
    try {
      await fn(box);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

function onPath(box: Box, name: string): void {
  writeFileSync(join(box.bin, name), "#!/bin/sh\nexit 0\n");
  chmodSync(join(box.bin, name), 0o755);
}

const hook = (name: string, agent: string) => `'/usr/bin/node' '/opt/sb/session-bridge.cjs' hook ${name} --agent ${agent}`;

function codexHooks(box: Box, o: { guard?: boolean } = {}): void {
  const hooks: Record<string, unknown[]> = {
    UserPromptSubmit: [{ hooks: [{ type: "command", command: hook("recv", "codex"), timeout: 15 }] }],
  };
  if (o.guard !== false) hooks.PreToolUse = [{ matcher: "Bash", hooks: [{ type: "command", command: hook("guard", "codex") }] }];
  writeFileSync(join(box.dir, "codex", "hooks.json"), JSON.stringify({ hooks }));
}

function approve(box: Box, events: string[]): void {
  const hooksPath = join(box.dir, "codex", "hooks.json");
  const text = events.map(
    (e) => `[hooks.state.${JSON.stringify(codexTrustKey(hooksPath, e, 0, 0))}]\ntrusted_hash = "sha256:${"0".repeat(64)}"\n`,
  );
  writeFileSync(join(box.dir, "codex", "config.toml"), text.join("\n"));
}

function geminiHooks(box: Box, o: { guard?: boolean } = {}): void {
  const hooks: Record<string, unknown[]> = { BeforeAgent: [{ hooks: [{ type: "command", command: hook("recv", "gemini") }] }] };
  if (o.guard !== false)
    hooks.BeforeTool = [{ matcher: "run_shell_command", hooks: [{ type: "command", command: hook("guard", "gemini") }] }];
  writeFileSync(join(box.dir, "ghome", ".gemini", "settings.json"), JSON.stringify({ hooks }));
}

function role(box: Box, patch: Partial<EffectiveRole> = {}): EffectiveRole {
  return { ...effectiveRole(defaultSettings(), "shop", "api"), cwd: box.cwd, ...patch };
}

/** What Claude Code's Bash tool gives a daemon started there (docs/claude-code.md "Environment"): one session's. */
const CLAUDE_SESSION_ENV = {
  CLAUDECODE: "1",
  CLAUDE_PID: "4242",
  CLAUDE_CODE_SESSION_ID: "s-other",
  CLAUDE_CODE_ENTRYPOINT: "cli",
  CLAUDE_CODE_SESSION_ATTENDED: "1",
  CLAUDE_CODE_MESSAGING_SOCKET: "/tmp/cc-socks/4242.sock",
  CLAUDE_CODE_MESSAGING_TOKEN: "tok",
  CLAUDE_CODE_CHILD_SESSION: "1",
  CLAUDE_JOB_DIR: "/tmp/job",
  CLAUDE_ENV_FILE: "/home/u/.claude/session-env/s-other/sessionstart-hook-0.sh",
  CLAUDE_PROJECT_DIR: "/src/other",
};
/** What a user configures for every run: kept. */
const USER_ENV = { CLAUDE_CONFIG_DIR: "/home/u/.claude-work", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1", ANTHROPIC_API_KEY: "k" };

const reason = (r: ReturnType<typeof resolveSpawnTarget>): string => (r.ok ? "ok" : r.reason);
const target = (r: ReturnType<typeof resolveSpawnTarget>): SpawnTarget => {
  assert.ok(r.ok, reason(r));
  return r.spawn;
};

/** A live process standing in for a session's CLI, and one that has exited. */
async function processes(): Promise<{ live: number; dead: number; stop(): void }> {
  const child = spawn("sleep", ["60"], { stdio: "ignore" });
  const gone = spawn("true", [], { stdio: "ignore" });
  await new Promise((resolve) => gone.once("exit", resolve));
  return { live: child.pid!, dead: gone.pid!, stop: () => child.kill() };
}

test(
  "the run's CLI: the role's agent setting, else its newest session record, else claude; one missing from PATH is refused by name",
  withBox(async (box) => {
    assert.match(reason(resolveSpawnTarget(box.paths, role(box), box.env)), /^claude \(the CLI of shop\/api: no session of the role yet/);
    onPath(box, "claude");
    assert.equal(target(resolveSpawnTarget(box.paths, role(box), box.env)).agent, "claude");
    const procs = await processes();
    try {
      registerSession(box.paths, { pid: procs.dead, agent: "codex", sessionId: "th-1" });
      assert.match(
        reason(resolveSpawnTarget(box.paths, role(box), box.env)),
        /^codex \(the CLI of shop\/api: the agent of its newest session \(pid \d+\)\) is not on the daemon's PATH \(.*\); install it/,
      );
      onPath(box, "gemini");
      geminiHooks(box);
      const byName = target(resolveSpawnTarget(box.paths, role(box, { agent: "gemini" }), box.env));
      assert.deepEqual([byName.agent, byName.agentWhy], ["gemini", "set by name (projects.shop.roles.api.agent)"]);
      // spawner status leaves PATH to the daemon, but says what else stops the run.
      assert.match(reason(resolveSpawnTarget(box.paths, role(box), box.env, true)), /^not spawning codex for shop\/api: no `hook recv/);
    } finally {
      procs.stop();
    }
  }),
);

test(
  "codex: refused without our recv or guard hook, or while Codex has no approval recorded for them; allowed once approved",
  withBox((box) => {
    onPath(box, "codex");
    const r = () => reason(resolveSpawnTarget(box.paths, role(box, { agent: "codex" }), box.env));
    assert.match(
      r(),
      /^not spawning codex for shop\/api: no `hook recv --agent codex` on UserPromptSubmit in .*hooks\.json, so the run would not get its mail; run `session-bridge install --agent codex`/,
    );
    codexHooks(box, { guard: false });
    assert.match(r(), /no `hook guard --agent codex` on PreToolUse \(Bash\) in .*, so nothing would deny git commit\/push\/reset/);
    codexHooks(box);
    assert.match(
      r(),
      /Codex skips hooks nobody approved, without a word, and UserPromptSubmit hook recv and PreToolUse hook guard have no approval in .*config\.toml; start `codex` once and choose "Trust all and continue"/,
    );
    approve(box, ["UserPromptSubmit"]);
    assert.match(r(), /and PreToolUse hook guard has no approval/);
    approve(box, ["UserPromptSubmit", "PreToolUse"]);
    assert.equal(r(), "ok");
    writeFileSync(join(box.dir, "codex", "hooks.json"), "{ not json");
    assert.match(r(), /hooks\.json is not valid JSON; run `session-bridge install --agent codex`/);
  }),
);

test(
  "gemini: refused without our BeforeAgent recv or BeforeTool guard in its user settings",
  withBox((box) => {
    onPath(box, "gemini");
    const r = () => reason(resolveSpawnTarget(box.paths, role(box, { agent: "gemini" }), box.env));
    assert.match(r(), /^not spawning gemini for shop\/api: no `hook recv --agent gemini` on BeforeAgent in .*settings\.json/);
    geminiHooks(box, { guard: false });
    assert.match(r(), /no `hook guard --agent gemini` on BeforeTool \(run_shell_command\)/);
    // A guard written for another CLI does not count: its deny shape would fail open here.
    writeFileSync(
      join(box.dir, "ghome", ".gemini", "settings.json"),
      JSON.stringify({
        hooks: {
          BeforeAgent: [{ hooks: [{ command: hook("recv", "gemini") }] }],
          BeforeTool: [{ matcher: "run_shell_command", hooks: [{ command: hook("guard", "claude") }] }],
        },
      }),
    );
    assert.match(r(), /no `hook guard --agent gemini`/);
    geminiHooks(box);
    assert.equal(r(), "ok");
  }),
);

test(
  "resume: the newest closed session of the role's CLI; never one a live process holds; another folder or none means a fresh run",
  withBox(async (box) => {
    onPath(box, "claude");
    const procs = await processes();
    try {
      const resume = () => target(resolveSpawnTarget(box.paths, role(box, { resume: true }), box.env));
      assert.match(resume().resumeNote!, /^no earlier claude session of the role to resume: a fresh run/);
      registerSession(box.paths, { pid: procs.live, sessionId: "S-open", cwd: box.cwd });
      assert.match(
        resume().resumeNote!,
        /^its last session S-open is open in live pid \d+ \(resuming it would start a copy\): a fresh run/,
      );
      endSession(box.paths, procs.live);
      const closed = resume();
      assert.equal(closed.resume?.sessionId, "S-open", "a session whose process ended it is closed");
      assert.equal(describeSpawnTarget(closed), `claude -p in ${box.cwd}, resuming its claude session S-open`);
      registerSession(box.paths, { pid: procs.dead, sessionId: "S-elsewhere", cwd: "/elsewhere" });
      assert.match(resume().resumeNote!, /its last session S-elsewhere ran in \/elsewhere, not in the role's cwd/);
      // Without resume nothing is looked up.
      const fresh = target(resolveSpawnTarget(box.paths, role(box), box.env));
      assert.deepEqual([fresh.resume, fresh.resumeNote], [undefined, undefined]);
    } finally {
      procs.stop();
    }
  }),
);

test(
  "plans: codex exec [resume ID] with stdin closed, gemini -p with its approval mode, our tools and --resume, claude -p --resume; never admin",
  withBox((box) => {
    const settings = defaultSettings();
    const base = {
      root: "/r",
      settings,
      chain: "c1",
      hop: 1,
      self: ["/bin/sb"],
      env: { PATH: "/bin", BRIDGE_ADMIN: "1", GEMINI_SESSION_ID: "x", ...CLAUDE_SESSION_ENV, ...USER_ENV },
    };
    const t = (agent: SpawnTarget["agent"], resume?: string): SpawnTarget => ({
      agent,
      agentWhy: "test",
      path: `/bin/${agent}`,
      cwd: box.cwd,
      ...(resume && { resume: { sessionId: resume, pid: 1, lastSeen: "" } }),
    });
    const codex = planSpawn({ ...base, role: role(box, { model: "m1" }), target: t("codex") });
    assert.deepEqual(
      [codex.command, codex.args, codex.input],
      ["codex", ["exec", "--skip-git-repo-check", "--model", "m1", settings.nudgePrompt], undefined],
    );
    const codexResume = planSpawn({ ...base, role: role(box), target: t("codex", "th-9") });
    assert.deepEqual(codexResume.args, ["exec", "resume", "--skip-git-repo-check", "th-9", settings.nudgePrompt]);
    assert.equal(codexResume.resumed, "codex session th-9");
    const gemini = planSpawn({ ...base, role: role(box), target: t("gemini", "g-1") });
    assert.equal(gemini.command, "gemini");
    assert.deepEqual(gemini.args.slice(0, 4), ["-p", settings.nudgePrompt, "--approval-mode", "auto_edit"]);
    assert.match(gemini.args[5]!, /^mcp_session-bridge_bridge_send,.*mcp_session-bridge_bridge_whoami/);
    assert.doesNotMatch(gemini.args[5]!, /bridge_set|bridge_settings|bridge_mode/);
    assert.deepEqual(gemini.args.slice(6), ["--resume", "g-1"]);
    assert.equal(gemini.env.GEMINI_CLI_NO_RELAUNCH, "true");
    assert.equal(gemini.env.GEMINI_SESSION_ID, undefined);
    const plan = planSpawn({ ...base, role: role(box, { permissionMode: "plan" }), target: t("gemini") });
    assert.equal(plan.args[3], "plan");
    const claude = planSpawn({ ...base, role: role(box), target: t("claude", "S-1") });
    assert.deepEqual(claude.args.slice(-2), ["--resume", "S-1"]);
    assert.equal(claude.input, settings.nudgePrompt + "\n");
    for (const p of [codex, gemini, claude]) {
      assert.equal(p.env.BRIDGE_ADMIN, undefined);
      assert.equal(p.env.BRIDGE_HOP, "2");
      // The Claude Code session the daemon was started from is no part of the run; the user's settings are.
      for (const name of Object.keys(CLAUDE_SESSION_ENV)) assert.equal(p.env[name], undefined, `${p.command} got ${name}`);
      for (const [name, value] of Object.entries(USER_ENV)) assert.equal(p.env[name], value, `${p.command} lost ${name}`);
    }
  }),
);
