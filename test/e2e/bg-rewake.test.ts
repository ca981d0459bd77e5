// The rewake Stop hook in a `claude --bg` session: no daemon and no tmux, only `hook wait` (asyncRewake)
// wakes the idle background session when another role writes to it. Claude Code 2.1.328 runs --bg
// sessions with CLAUDE_CODE_ENTRYPOINT=cli and CLAUDE_CODE_SESSION_ATTENDED=0, so `hook wait` must arm
// there (src/hooks.ts isHeadless only steps aside for entrypoint sdk-cli, i.e. `claude -p`).
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startBackgroundSession } from "./background.ts";
import { bgSupervisorDir, makeSandbox } from "./claude.ts";
import { lastUserText, reply, requestText, startModelServer, type ModelServer } from "./model-server.ts";
import { bridgeOk, installBridge, readJson, roleDir, spawnerStatus, waitFor } from "./bridge.ts";

let server: ModelServer;
before(async () => {
  server = await startModelServer();
});
after(() => server.close());

test("rewake: an idle `claude --bg` session joined through --settings env is woken by `hook wait` when mail arrives, no daemon", async (t) => {
  const box = makeSandbox(t, { baseUrl: server.url });
  const root = join(box.root, "bridge");
  installBridge(box, { rewake: true });
  const human = { ...box.env, BRIDGE_ROOT: root };
  bridgeOk(human, ["spawner", "on"]);
  server.script("bg-rewake", (req) => (/MAIL-FOR-BG/.test(requestText(req)) ? reply("BG-WOKEN") : reply("BG-READY")));
  // The launching shell's BRIDGE_* would not reach the session: --settings env does (test/e2e/background.ts).
  await startBackgroundSession(t, box, server, { root, project: "shop", role: "bg", route: "bg-rewake", prompt: "BG-START" });
  // Where the supervisor keeps its sockets, outside TMPDIR: the sandbox's cleanup removes that folder too.
  assert.ok(existsSync(join(bgSupervisorDir(box.configDir), "control.sock")), `no ${bgSupervisorDir(box.configDir)}/control.sock`);

  // The first turn has ended once its waiter holds the role; nobody types and no daemon runs.
  const waiterFile = join(roleDir(root, "shop", "bg"), "waiter.json");
  const waiter = await waitFor("the armed waiter of the background session", () => existsSync(waiterFile) && readJson(waiterFile), 30_000);
  // The waiter runs as a --bg session's hook: unattended, entrypoint cli (read from its own environment).
  const waiterEnv = readFileSync(`/proc/${waiter.pid}/environ`, "latin1").split("\0");
  assert.deepEqual(waiterEnv.filter((l) => /^CLAUDE_CODE_(SESSION_ATTENDED|ENTRYPOINT)=/.test(l)).sort(), [
    "CLAUDE_CODE_ENTRYPOINT=cli",
    "CLAUDE_CODE_SESSION_ATTENDED=0",
  ]);
  assert.equal(spawnerStatus(human).daemon.running, false);

  const mark = server.mark();
  const sent = JSON.parse(bridgeOk(human, ["send", "--json", "--queue", "--project", "shop", "--role", "api", "bg", "MAIL-FOR-BG"]));
  const woken = await server.waitForRequest((r) => r.kind === "turn" && r.route === "bg-rewake", 30_000, { after: mark });
  const wake = lastUserText(woken);
  assert.match(
    wake,
    /Stop hook blocking error from command "Stop": \[session-bridge\] Not an error: 1 new message from "api" woke this session/,
  );
  assert.ok(wake.includes(`id="${sent.id}" from="api"`) && wake.includes("MAIL-FOR-BG"), wake);
  assert.match(bridgeOk(human, ["status", "--project", "shop", sent.id]), /bg: read at \S+ by hook wait \(rewake/);
  // The woken turn's end arms a new waiter for the next mail.
  await waitFor("the re-armed waiter", () => existsSync(waiterFile) && readJson(waiterFile)?.pid !== waiter.pid, 30_000);
  assert.equal(spawnerStatus(human).daemon.running, false);
  assert.deepEqual(
    server.unscripted.map((r) => r.seq),
    [],
  );
});
