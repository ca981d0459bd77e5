// Names behave the same on every file system (src/bus/names.ts): a name differing only in case
// from an existing project or role is refused naming the existing one, your own role in another
// case is still yourself, and Windows' device names never become folders. The same scenario runs
// on an ordinary Linux folder and on a real case-insensitive one (test/helpers/case-insensitive.ts),
// and must give the same answers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { nameProblem, validateName } from "../../src/bus/names.ts";
import { BridgeError } from "../../src/lib/errors.ts";
import { bridge, makeRoot } from "../helpers/cli.ts";
import { mountCaseInsensitive } from "../helpers/case-insensitive.ts";

test("Windows device names (with or without an extension) and a trailing dot are refused; ordinary names pass", () => {
  for (const bad of ["con", "CON", "nul.txt", "Aux", "com1", "LPT9.log", "prn.tar.gz", "com0", "web.", "web.."]) {
    assert.throws(
      () => validateName("role", bad),
      (e: unknown) => e instanceof BridgeError && e.code === "E_BAD_NAME" && e.message.includes(JSON.stringify(bad)),
      bad,
    );
  }
  assert.match(nameProblem("nul.txt") ?? "", /"nul" is a device name on Windows/);
  assert.match(nameProblem("web.") ?? "", /may not end with '\.'.*"web\." and "web" would be one folder/);
  for (const good of ["web", "console", "com10", "lpt", "nullable", "aux-api", "con_1", "v1.2", "a"]) {
    assert.equal(validateName("role", good), good);
  }
});

interface Outcome {
  step: string;
  status: number | null;
  said: string;
}

/** The same steps on a root: every answer, with the root's own path taken out. */
function scenario(root: string): { outcomes: Outcome[]; folders: Record<string, string[]> } {
  const outcomes: Outcome[] = [];
  const step = (name: string, args: string[], project: string, role: string | undefined): void => {
    const r = bridge(args, { root, project, ...(role !== undefined && { role }) });
    const said = (r.status === 0 ? r.stdout : r.stderr)
      .split(root)
      .join("<root>")
      .replace(/\b[mc][0-9a-z]{16,}\b/g, "<id>")
      .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, "<time>")
      .split("\n")[0]!;
    outcomes.push({ step: name, status: r.status, said });
  };
  step("frontend joins", ["recv"], "shop", "frontend");
  step("backend joins", ["recv"], "shop", "backend");
  step("send to Frontend", ["send", "Frontend", "hi"], "shop", "backend");
  step("queue for FRONTEND", ["send", "--queue", "FRONTEND", "hi"], "shop", "backend");
  step("send to frontend", ["send", "frontend", "GET /users"], "shop", "backend");
  step("frontend reads", ["recv"], "shop", "frontend");
  step("web joins", ["recv"], "shop", "web");
  step("web sends to Web", ["send", "Web", "to myself"], "shop", "web");
  step("web's unread", ["peek"], "shop", "web");
  step("Web joins", ["recv"], "shop", "Web");
  step("project Shop", ["recv"], "Shop", "web");
  step("roles of Shop", ["roles"], "Shop", undefined);
  step("queue for con", ["send", "--queue", "con", "x"], "shop", "backend");
  step("role nul.txt", ["recv"], "shop", "nul.txt");
  step("queue for web.", ["send", "--queue", "web.", "x"], "shop", "backend");
  step("roles of shop", ["roles"], "shop", undefined);
  const projects = join(root, "projects");
  const folders = Object.fromEntries(readdirSync(projects).map((p) => [p, readdirSync(join(projects, p)).sort()]));
  return { outcomes, folders };
}

function expectRules(result: ReturnType<typeof scenario>, where: string): void {
  const by = Object.fromEntries(result.outcomes.map((o) => [o.step, o]));
  const refused = (step: string, pattern: RegExp): void => {
    assert.notEqual(by[step]!.status, 0, `${where}: ${step} should be refused: ${by[step]!.said}`);
    assert.match(by[step]!.said, pattern, `${where}: ${step}`);
  };
  refused(
    "send to Frontend",
    /E_BAD_NAME: role "Frontend" differs only in case from the existing role "frontend" of project "shop".*use "frontend"/,
  );
  refused("queue for FRONTEND", /E_BAD_NAME: role "FRONTEND" differs only in case from the existing role "frontend"/);
  refused("web sends to Web", /E_SELF_SEND: "Web" is your own role "web" \(names that differ only in case are one name\)/);
  refused("Web joins", /E_BAD_NAME: role "Web" differs only in case from the existing role "web"/);
  refused("project Shop", /E_BAD_NAME: project "Shop" differs only in case from the existing project "shop"/);
  refused("roles of Shop", /E_BAD_NAME: project "Shop"/);
  refused("queue for con", /E_BAD_NAME: invalid role name "con": "con" is a device name on Windows/);
  refused("role nul.txt", /E_BAD_NAME: invalid role name "nul.txt"/);
  refused("queue for web.", /E_BAD_NAME: invalid role name "web\.": a name may not end with '\.'/);
  assert.match(by["frontend reads"]!.said, /from backend/, `${where}: the mail sent to "frontend" arrived`);
  assert.match(by["web's unread"]!.said, /no unread messages|^$/i, `${where}: nothing was written into web's own inbox`);
  assert.deepEqual(result.folders, { shop: ["backend", "frontend", "web"] }, `${where}: no second folder for any name`);
}

test("case twins are refused naming the existing spelling, on a case-sensitive folder and on a case-insensitive one alike", (t: TestContext) => {
  const linux = scenario(makeRoot(t));
  expectRules(linux, "case-sensitive folder");
  const mount = mountCaseInsensitive(t);
  if ("skip" in mount) {
    t.diagnostic(`case-insensitive half skipped: ${mount.skip}`);
    if (process.env.CI) assert.fail(`CI must run the case-insensitive half: ${mount.skip}`);
    return;
  }
  const root = join(mount.dir, "bridge");
  mkdirSync(root, { mode: 0o700 });
  const mac = scenario(root);
  expectRules(mac, "case-insensitive folder");
  assert.deepEqual(mac.outcomes, linux.outcomes, "the same answers on both file systems");
});
