// Another local user, and links planted in the root (docs/architecture.md "The store" 4 and 8). As root (CI),
// `nobody` stands in for the other user: it can read nothing of the store, even where a careless
// chmod opened the folders, and cannot plant anything in it; a root owned by someone else is refused.
// A symbolic link planted at any path of the layout is refused or left unused, never followed: the
// file or folder it points to is never written, and nothing is read through it.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import type { TestContext } from "node:test";
import { receive, sendMessage } from "../../src/bus.ts";
import { startHumanChain } from "../../src/wake/chain.ts";
import { updateSettings } from "../../src/settings/file.ts";
import { rolePaths } from "../../src/bus/layout.ts";
import { registerSession } from "../../src/bus/sessions.ts";
import { bridge, makeRoot } from "../helpers/cli.ts";
import { isRoot, NOBODY, probeReadsAs, traversable } from "../helpers/users.ts";
import { spawnSync } from "node:child_process";

/** A store with every kind of file: inboxes, cursor, receipts, history, a session, chain, settings. */
function fill(root: string): void {
  const web = { root, project: "shop", role: "web" };
  const api = { root, project: "shop", role: "api" };
  receive(web, { by: "setup" });
  for (let i = 0; i < 30; i++)
    sendMessage({
      identity: api,
      to: "web",
      body: `m${i} ${"p".repeat(200)}`,
      stamp: { chain: "c1", hop: 0 },
      limits: { maxBodyBytes: 1 << 20, fsync: false },
    });
  receive(web, { by: "setup", compactBytes: 4096 });
  sendMessage({
    identity: api,
    to: "web",
    body: "unread one",
    stamp: { chain: "c1", hop: 0 },
    limits: { maxBodyBytes: 1 << 20, fsync: false },
  });
  registerSession(rolePaths(root, "shop", "web"), { pid: process.pid, cwd: "/work" });
  startHumanChain(rolePaths(root, "shop", "web"));
  updateSettings(root, (o) => void (o.compactBytes = 4096));
}

function store(t: TestContext): { root: string; files: string[]; dirs: string[] } {
  const root = makeRoot(t);
  fill(root);
  const files: string[] = [];
  const dirs: string[] = [];
  const walk = (p: string): void => {
    const st = lstatSync(p);
    if (st.isDirectory()) {
      dirs.push(p);
      for (const name of readdirSync(p)) walk(join(p, name));
    } else files.push(p);
  };
  walk(root);
  return { root, files, dirs };
}

test("private: folders 0700 and files 0600 owned by us, so another local user can read nothing, even with the folders opened", (t) => {
  const { root, files, dirs } = store(t);
  assert.ok(
    files.some((f) => f.includes("/history/")) &&
      files.some((f) => f.includes("/sessions/")) &&
      files.some((f) => f.endsWith("receipts.jsonl")),
    "the store has every kind of file",
  );
  const uid = process.getuid!();
  for (const d of dirs) assert.deepEqual([(statSync(d).mode & 0o777).toString(8), statSync(d).uid], ["700", uid], d);
  for (const f of files) assert.deepEqual([(statSync(f).mode & 0o777).toString(8), statSync(f).uid], ["600", uid], f);
  if (!isRoot()) return t.skip("not root: cannot act as another user (the modes above are the proof)");
  traversable(dirname(root));
  // As created: the root folder itself stops them.
  const closed = probeReadsAs(NOBODY, [root, ...files]);
  assert.deepEqual(
    Object.entries(closed).filter(([, v]) => v !== "EACCES"),
    [],
    "nothing readable by another user",
  );
  // A careless chmod opens every folder for traversal: the files themselves still stop them.
  for (const d of dirs) chmodSync(d, 0o711);
  const opened = probeReadsAs(NOBODY, files);
  assert.deepEqual(
    Object.entries(opened).filter(([, v]) => v !== "EACCES"),
    [],
    "no file readable by another user",
  );
  // Nor can they plant anything: writing into a role folder is refused.
  const plant = spawnSync(
    process.execPath,
    ["-e", `require("fs").writeFileSync(process.argv[1], "x")`, join(rolePaths(root, "shop", "web").dir, "planted")],
    { ...NOBODY, encoding: "utf8" },
  );
  assert.match(plant.stderr, /EACCES/);
});

test("a bridge root owned by another user is refused with a clear error, and nothing is written into it", (t) => {
  if (!isRoot()) return t.skip("not root: cannot give a folder to another user");
  const root = makeRoot(t);
  mkdirSync(root, { mode: 0o777 });
  chownSync(root, NOBODY.uid, NOBODY.gid);
  const r = bridge(["send", "web", "hi", "--queue"], { root, project: "shop", role: "api" });
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    new RegExp(
      `bridge root "${root.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}" belongs to uid 65534, not to you \\(uid 0\\); set BRIDGE_ROOT to a folder of your own`,
    ),
  );
  assert.deepEqual(readdirSync(root), []);
});

interface Planted {
  /** Where the link goes, relative to the role folder (or "root"/"projects"/"project"). */
  at: string;
  /** A folder link (else a file link). */
  dir?: boolean;
}

const PLANTS: Planted[] = [
  { at: "root", dir: true },
  { at: "projects", dir: true },
  { at: "project", dir: true },
  { at: "role", dir: true },
  { at: "inbox.jsonl" },
  { at: "cursor.json" },
  { at: "receipts.jsonl" },
  { at: "lock" },
  { at: "chain.json" },
  { at: "wake.json" },
  { at: "sessions", dir: true },
  { at: "history", dir: true },
  { at: "bridge-settings.json" },
];

test("a symbolic link planted anywhere in the layout is never followed: what it points to is never written, nothing is read through it", (t) => {
  for (const plant of PLANTS) {
    const scratch = dirname(makeRoot(t));
    const root = join(scratch, "bridge");
    const as = (role: string, env: Record<string, string> = {}) => ({ root, project: "shop", role, env: { CLAUDECODE: "1", ...env } });
    // A real store first: api has written to web, web has read some, with history.
    fill(root);
    // The target: a decoy with the same shape, outside the root.
    const decoy = join(scratch, "decoy");
    mkdirSync(decoy);
    const web = rolePaths(root, "shop", "web");
    const path =
      { root, projects: join(root, "projects"), project: join(root, "projects", "shop"), role: web.dir }[plant.at] ??
      (plant.at === "bridge-settings.json" ? join(root, plant.at) : join(web.dir, plant.at));
    let target: string;
    if (plant.dir) {
      // Move the real folder out and link to it: every byte of it is the decoy now.
      target = join(decoy, "dir");
      spawnSync("mv", [path, target]);
    } else {
      target = join(decoy, "file");
      writeFileSync(
        target,
        plant.at.endsWith(".json")
          ? JSON.stringify({ ino: 1, offset: 0, chain: "cdecoy", hop: 0, enabled: true, recent: [] })
          : '{"id":"mdecoy","ts":"x","project":"shop","from":"evil","to":"web","body":"decoy","chain":"c","hop":0}\n',
      );
      rmSync(path, { recursive: true, force: true });
    }
    symlinkSync(target, path);
    const snapshot = (): string => {
      const out: string[] = [];
      const walk = (p: string): void => {
        const st = lstatSync(p);
        out.push(`${p} ${st.size} ${st.mtimeMs}`);
        if (st.isDirectory()) for (const n of readdirSync(p).sort()) walk(join(p, n));
      };
      walk(decoy);
      return out.join("\n");
    };
    const before = snapshot();
    const outputs: string[] = [];
    // What writes (send, recv, the hook) and what reads every kind of file (tail: history; whoami:
    // sessions, chain, settings) through the built binary, as a user or Claude Code runs it.
    for (const [args, role, extra] of [
      [["send", "web", "new"], "api", {}],
      [["tail", "--json"], "web", {}],
      [["whoami", "--json"], "web", {}],
      [["recv", "--json"], "web", {}],
      [["hook", "recv"], "web", { CLAUDE_PID: String(process.pid) }],
    ] as [string[], string, Record<string, string>][]) {
      const r = bridge(args, {
        ...as(role, extra),
        input: args[0] === "hook" ? JSON.stringify({ hook_event_name: "UserPromptSubmit", prompt: "hi" }) : "",
      });
      const what = `${plant.at} linked: ${args.join(" ")}`;
      assert.ok(r.status === 0 || r.status === 1, `${what}: exit ${r.status}\n${r.stderr}`);
      if (r.status === 1) assert.match(r.stderr, /E_SYMLINK|symbolic link|E_CONFIG/, `${what}: the refusal names the link\n${r.stderr}`);
      // A file link points at a decoy; a folder link at the real folder moved out: either way,
      // what is behind the link must not show.
      const behind =
        plant.at === "sessions"
          ? /"\/work"|in \/work/
          : plant.at === "history"
            ? /m2 p/
            : plant.dir
              ? /unread one|m2 p/
              : /decoy|mdecoy|cdecoy/;
      assert.doesNotMatch(r.stdout, behind, `${what}: read through the link\n${r.stdout}`);
      outputs.push(`${what}: ${r.status}`);
    }
    assert.equal(snapshot(), before, `${plant.at} linked: the link's target was modified`);
    assert.deepEqual(readdirSync(scratch).sort(), ["bridge", "decoy"], `${plant.at} linked: nothing created next to the root`);
  }
});

test("a settings file replaced by a link or a folder does not stop messaging; the guard fails closed on it", (t) => {
  const root = makeRoot(t);
  const as = (role: string) => ({ root, project: "shop", role });
  bridge(["recv"], as("web"));
  const config = join(root, "bridge-settings.json");
  // A FIFO would block a reader forever: it is refused before anything is read, like a folder.
  for (const kind of ["link", "folder", "fifo"]) {
    rmSync(config, { recursive: true, force: true });
    if (kind === "link") {
      writeFileSync(join(root, "..", "elsewhere.json"), "{}");
      symlinkSync(join(root, "..", "elsewhere.json"), config);
    } else if (kind === "fifo") assert.equal(spawnSync("mkfifo", [config]).status, 0);
    else mkdirSync(config);
    const sent = bridge(["send", "web", `via ${kind}`], as("api"));
    assert.equal(sent.status, 0, sent.stderr);
    assert.match(sent.stderr, /warning: .*bridge-settings\.json cannot be read \((E_SYMLINK|E_IO): .*\).*using the defaults/);
    const hook = bridge(["hook", "recv"], { ...as("web"), input: JSON.stringify({ hook_event_name: "UserPromptSubmit", prompt: "hi" }) });
    assert.match(JSON.parse(hook.stdout).hookSpecificOutput.additionalContext, new RegExp(`via ${kind}`));
    const guard = bridge(["hook", "guard"], { ...as("web"), input: JSON.stringify({ tool_name: "Bash", tool_input: { command: "ls" } }) });
    assert.equal(
      JSON.parse(guard.stdout).hookSpecificOutput.permissionDecision,
      "deny",
      "a settings file that cannot be read may hide deny patterns: fail closed",
    );
  }
  // Nothing was written through the link.
  assert.equal(readFileSync(join(root, "..", "elsewhere.json"), "utf8"), "{}");
});
