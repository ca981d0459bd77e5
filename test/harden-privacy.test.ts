// Another local user, and links planted in the root (DESIGN.md "Storage" 4 and 8). As root (CI),
// `nobody` stands in for the other user: it can read nothing of the store, even where a careless
// chmod opened the folders, and cannot plant anything in it; a root owned by someone else is refused.
// A symbolic link planted at any path of the layout is refused or left unused, never followed: the
// file or folder it points to is never written, and nothing is read through it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { TestContext } from "node:test";
import { receive, sendMessage } from "../src/bus.ts";
import { startHumanChain } from "../src/chain.ts";
import { updateSettings } from "../src/config.ts";
import { rolePaths } from "../src/layout.ts";
import { registerSession } from "../src/sessions.ts";
import { bridge, makeRoot } from "./helpers/cli.ts";
import { isRoot, NOBODY, probeReadsAs, traversable } from "./helpers/users.ts";
import { spawnSync } from "node:child_process";

test("a settings file replaced by a link or a folder does not stop messaging; the guard fails closed on it", (t) => {
  const root = makeRoot(t);
  const as = (role: string) => ({ root, project: "shop", role });
  bridge(["recv"], as("web"));
  const config = join(root, "spawner.config.json");
  for (const kind of ["link", "folder"]) {
    rmSync(config, { recursive: true, force: true });
    if (kind === "link") {
      writeFileSync(join(root, "..", "elsewhere.json"), "{}");
      symlinkSync(join(root, "..", "elsewhere.json"), config);
    } else mkdirSync(config);
    const sent = bridge(["send", "web", `via ${kind}`], as("api"));
    assert.equal(sent.status, 0, sent.stderr);
    assert.match(sent.stderr, /warning: .*spawner\.config\.json cannot be read \((E_SYMLINK|EISDIR): .*\).*using the defaults/);
    const hook = bridge(["hook", "recv"], { ...as("web"), input: JSON.stringify({ hook_event_name: "UserPromptSubmit", prompt: "hi" }) });
    assert.match(JSON.parse(hook.stdout).hookSpecificOutput.additionalContext, new RegExp(`via ${kind}`));
    const guard = bridge(["hook", "guard"], { ...as("web"), input: JSON.stringify({ tool_name: "Bash", tool_input: { command: "ls" } }) });
    assert.equal(JSON.parse(guard.stdout).hookSpecificOutput.permissionDecision, "deny", "a settings file that cannot be read may hide deny patterns: fail closed");
  }
  // Nothing was written through the link.
  assert.equal(readFileSync(join(root, "..", "elsewhere.json"), "utf8"), "{}");
});
