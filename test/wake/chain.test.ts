// The chain context a prompt writes (src/wake/chain.ts): written straight into the role's folder,
// which is made first only when the write finds it missing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, statSync } from "node:fs";
import { readChainContext, startHumanChain } from "../../src/wake/chain.ts";
import { rolePaths } from "../../src/bus/layout.ts";
import { makeRoot } from "../helpers/cli.ts";

test("a human prompt starts a new chain at hop 0 each time, in the role's folder as it is", (t) => {
  const root = makeRoot(t);
  const paths = rolePaths(root, "shop", "web");
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  const first = startHumanChain(paths);
  assert.deepEqual(readChainContext(paths), first);
  assert.equal(first.hop, 0);
  assert.equal(first.source, "human");
  const second = startHumanChain(paths);
  assert.notEqual(second.chain, first.chain);
  assert.deepEqual(readChainContext(paths), second);
  assert.equal(statSync(paths.chain).mode & 0o777, 0o600);
});

test("a role without its folder (or a root without any) gets them made, private, by the write that needed them", (t) => {
  for (const made of [["root"], ["root", "projects", "shop"], []]) {
    const root = makeRoot(t);
    if (made.length > 0) mkdirSync(made.length === 1 ? root : `${root}/projects/shop`, { recursive: true, mode: 0o700 });
    const paths = rolePaths(root, "shop", "web");
    const context = startHumanChain(paths);
    assert.deepEqual(readChainContext(paths), context, `with ${made.join("/") || "nothing"} there`);
    for (const dir of [root, `${root}/projects`, `${root}/projects/shop`, paths.dir]) assert.equal(statSync(dir).mode & 0o777, 0o700, dir);
  }
});
