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

test("every bundle comes, from the text Node loaded, as exactly the code it was built from, inflating only what it needs", () => {
  const text = readFileSync(BIN, "latin1");
  const { index, header } = trailer(text);
  assert.equal(index.format, FORMAT.format);
  assert.equal(header, FORMAT.streamHeader.replace("{build}", index.build));
  // What the .cjs hands over: the function at its end, whose body is the trailer.
  const bundles = new Function(`return ${text.slice(text.indexOf(FORMAT.trailerHead) + 1)}`)() as () => void;
  assert.equal(bundles.name, "sessionBridgeBundles");
  const key = Symbol.for(FORMAT.bundlesKey);
  (globalThis as Record<symbol, unknown>)[key] = bundles;
  // The same object embedded.ts requires: each inflate of the stream is counted, with its length.
  const inflate = zlib.brotliDecompressSync;
  const inflated: number[] = [];
  zlib.brotliDecompressSync = ((...args: Parameters<typeof inflate>) => {
    const out = inflate(...args);
    inflated.push(out.length);
    return out;
  }) as typeof inflate;
  try {
    const names = Object.keys(index.bundles);
    assert.ok(names.length >= 14, names.join());
    const end = (name: string): number => index.bundles[name]!.at + index.bundles[name]!.bytes + 1;
    assert.match(storedBundle("cli").code(), /runCli/);
    // The CLI's bundle comes second in the stream (src/runtime/bundles.json): only the first two are inflated.
    assert.deepEqual(inflated, [end("cli")]);
    assert.match(storedBundle("hook-git-shim").code(), /./);
    assert.equal(inflated.length, 1, "the bundle before it needs no inflate of its own");
    // The last first: one more inflate, of everything, and then none.
    for (const name of names.reverse()) {
      const bundle = storedBundle(name);
      const code = bundle.code();
      // The hash names the bundle's code cache, and build.mjs took it of the code it built.
      assert.equal(createHash("sha256").update(code, "latin1").digest("hex").slice(0, 16), bundle.entry.hash, name);
      assert.equal(code.length, bundle.entry.bytes, name);
    }
    assert.deepEqual(inflated, [end("cli"), end(names[0]!)]);
    assert.match(storedBundle("hook-guard").code(), /hookGuard/);
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

test("a stream cut short, or that does not inflate, says the file is damaged and to rebuild it", (t) => {
  const short = runDamaged(t, (parts) => {
    // Cut inside what the CLI's bundle needs: the decoder stops short of its end.
    parts.base64 = parts.base64.slice(0, 4 * Math.floor(parts.index.bundles.cli!.upTo / 6));
  });
  assert.equal(short.status, 1);
  assert.match(short.stderr, damagedError(short.file, 'its stream of embedded bundles inflates to \\d+ bytes, short of bundle "cli"'));
  const broken = runDamaged(t, (parts) => {
    // 0x11: a window size brotli reserves (RFC 7932 9.1), so the decoder refuses the stream's first byte.
    const bytes = Buffer.from(parts.base64, "base64");
    bytes[0] = 0x11;
    parts.base64 = bytes.toString("base64");
  });
  assert.equal(broken.status, 1);
  assert.match(broken.stderr, damagedError(broken.file, "its stream of embedded bundles does not inflate \\(.+\\)"));
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
