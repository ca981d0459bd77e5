// The embedded bundles are one brotli stream sliced out of the text Node loaded (src/runtime/embedded.ts):
// a hook never opens its own file again. This test file is an ES module with no __filename, so
// reading the file is not even possible here: only the loaded text can answer.
import { test } from "node:test";
import type { TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import zlib from "node:zlib";
import { BIN } from "../helpers/bin.ts";
import { cleanEnv } from "../helpers/cli.ts";
import { storedBundle } from "../../src/runtime/embedded.ts";
import type { BundleIndex } from "../../src/runtime/embedded.ts";
import FORMAT from "../../src/runtime/bundle-format.json" with { type: "json" };

/** The .cjs's trailer taken apart: its index, and the stream's header line and base64. */
function trailer(text: string) {
  const end = text.lastIndexOf(`\n${FORMAT.indexTail}`);
  const indexAt = text.lastIndexOf("\n", end - 1) + 1;
  const index = JSON.parse(text.slice(indexAt, end)) as BundleIndex;
  const streamAt = indexAt - index.stream.bytes;
  const stream = text.slice(streamAt, indexAt);
  const header = stream.slice(0, stream.indexOf("\n") + 1);
  return { index, header, base64: stream.slice(header.length, -1), before: text.slice(0, streamAt), after: text.slice(end) };
}

test("every bundle comes, from one inflate of the text Node loaded, as exactly the code it was built from", () => {
  const text = readFileSync(BIN, "latin1");
  const { index, header } = trailer(text);
  assert.equal(index.format, FORMAT.format);
  assert.equal(header, FORMAT.streamHeader.replace("{build}", index.build));
  // What the .cjs hands over: the function at its end, whose body is the trailer.
  const bundles = new Function(`return ${text.slice(text.indexOf(FORMAT.trailerHead) + 1)}`)() as () => void;
  assert.equal(bundles.name, "sessionBridgeBundles");
  const key = Symbol.for(FORMAT.bundlesKey);
  (globalThis as Record<symbol, unknown>)[key] = bundles;
  // The same object embedded.ts requires: each inflate of the stream is counted.
  const inflate = zlib.brotliDecompressSync;
  let inflates = 0;
  zlib.brotliDecompressSync = ((...args: Parameters<typeof inflate>) => {
    inflates++;
    return inflate(...args);
  }) as typeof inflate;
  try {
    const names = Object.keys(index.bundles);
    assert.ok(names.length >= 14, names.join());
    for (const name of names) {
      const bundle = storedBundle(name);
      const code = bundle.code();
      // The hash names the bundle's code cache, and build.mjs took it of the code it built.
      assert.equal(createHash("sha256").update(code, "latin1").digest("hex").slice(0, 16), bundle.entry.hash, name);
      assert.equal(code.length, bundle.entry.bytes, name);
    }
    assert.equal(inflates, 1, "the stream is inflated once for all the bundles");
    assert.match(storedBundle("hook-guard").code(), /hookGuard/);
    assert.match(storedBundle("cli").code(), /runCli/);
    assert.equal(storedBundle("hook-guard").entry.cache, true, "the hooks keep a code cache");
  } finally {
    zlib.brotliDecompressSync = inflate;
    delete (globalThis as Record<symbol, unknown>)[key];
  }
});

/** Runs `roles --help` (the CLI's bundle, which keeps no code cache, so it inflates) of a copy of the .cjs edited by `edit`. */
function runDamaged(
  t: TestContext,
  edit: (parts: ReturnType<typeof trailer>) => void,
): { status: number | null; stderr: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), "sb-embedded-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "session-bridge.cjs");
  copyFileSync(BIN, file);
  const parts = trailer(readFileSync(file, "latin1"));
  edit(parts);
  const { before, header, base64, index, after } = parts;
  index.stream.bytes = header.length + parts.base64.length + 1;
  writeFileSync(file, `${before}${header}${base64}\n${JSON.stringify(index)}${after}`, "latin1");
  const r = spawnSync(process.execPath, [file, "roles", "--help"], { encoding: "utf8", env: cleanEnv() });
  return { status: r.status, stderr: r.stderr, file };
}

const damagedError = (file: string, problem: string): RegExp =>
  new RegExp(
    `^session-bridge: E_IO: ${file.replaceAll(/[.*+?^${}()|[\]\\/]/g, "\\$&")} is damaged: ${problem}; rebuild it \\(npm run build\\) or reinstall it\n`,
    "m",
  );

test("an unedited copy runs: the edits below are what breaks it", (t) => {
  const r = runDamaged(t, () => {});
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, "");
});

test("a stream cut short says the file is damaged and to rebuild it", (t) => {
  const r = runDamaged(t, (parts) => {
    parts.base64 = parts.base64.slice(0, 4 * Math.floor(parts.base64.length / 8));
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, damagedError(r.file, "its stream of embedded bundles does not inflate \\(unexpected end of file\\)"));
});

test("a stream that inflates to another length than the index says is damaged", (t) => {
  const r = runDamaged(t, (parts) => {
    parts.index.stream.size += 1;
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, damagedError(r.file, "its stream of embedded bundles inflates to \\d+ bytes, not \\d+"));
});

test("an index of another format, or that misplaces a bundle or the stream, is damaged", (t) => {
  const format = runDamaged(t, (parts) => {
    parts.index.format = FORMAT.format - 1;
  });
  assert.equal(format.status, 1);
  assert.match(format.stderr, damagedError(format.file, "its index of embedded bundles has an unknown format"));
  const misplaced = runDamaged(t, (parts) => {
    parts.index.bundles.cli!.at += 1;
  });
  assert.equal(misplaced.status, 1);
  assert.match(misplaced.stderr, damagedError(misplaced.file, 'bundle "cli" is not where the index says'));
  const stream = runDamaged(t, (parts) => {
    parts.header = parts.header.replace("bundles", "bundle");
  });
  assert.equal(stream.status, 1);
  assert.match(stream.stderr, damagedError(stream.file, "its stream of embedded bundles is not where the index says .*"));
});
