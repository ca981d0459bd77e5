// Send throughput for bench/run.mjs: one writer, then four at once into one inbox, through the
// real store (locks included); afterwards every sent id must be received exactly once.
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { BIN, REPO, envFor, scratch } from "./lib.mjs";

const WORKER = join(REPO, "dist/bench/send-worker.mjs");

function runWorker(root, from, count) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, root, "bench", from, "sink", String(count)], {
      stdio: ["ignore", "pipe", "inherit"],
      env: envFor("inherited"),
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`send worker exited ${code}`))));
  });
}

function drain(root) {
  const r = spawnSync(process.execPath, [BIN, "recv", "--json"], {
    env: envFor("inherited", { BRIDGE_ROOT: root, BRIDGE_PROJECT: "bench", BRIDGE_ROLE: "sink" }),
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  if (r.status !== 0) throw new Error(`recv failed: ${r.stderr}`);
  return JSON.parse(r.stdout).messages.map((m) => m.id);
}

function exactlyOnce(sentIds, receivedIds) {
  const got = new Set(receivedIds);
  return got.size === receivedIds.length && sentIds.length === receivedIds.length && sentIds.every((id) => got.has(id));
}

/** msg/s for one writer (`perWriter1` sends) and four writers (`perWriter4` each, wall clock). */
export async function throughput(perWriter1, perWriter4) {
  const one = scratch("send1");
  const single = await runWorker(one, "w1", perWriter1);
  const singleOk = exactlyOnce(single.ids, drain(one));

  const four = scratch("send4");
  const started = performance.now();
  const results = await Promise.all([1, 2, 3, 4].map((n) => runWorker(four, `w${n}`, perWriter4)));
  const wallMs = performance.now() - started;
  const sent4 = results.reduce((n, r) => n + r.sent, 0);
  const fourOk = exactlyOnce(
    results.flatMap((r) => r.ids),
    drain(four),
  );
  return {
    one: { perSecond: (single.sent / single.ms) * 1000, sent: single.sent, exactlyOnce: singleOk },
    four: { perSecond: (sent4 / wallMs) * 1000, sent: sent4, exactlyOnce: fourOk },
  };
}
