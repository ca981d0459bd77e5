// Bus figures: send throughput (1 and 4 writers, locks included, exactly-once checked) and the
// cost of `recv` with 0 and 100 unread messages behind 100,000 old ones.
import { spawn } from "node:child_process";
import { appendFileSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, NODE_BASELINE, REPO, benchEnv, interleaved, median, scratch } from "./lib.mjs";

const WORKER = join(REPO, "dist/bench/send-worker.mjs");

function line(i, unread) {
  return JSON.stringify({ id: `mbench${unread ? "u" : "o"}${i}`, ts: new Date().toISOString(), project: "bench", from: "src", to: "sink", body: `old message ${i}: the quick brown fox jumps over the lazy dog`, chain: "cbench", hop: 0 }) + "\n";
}

/** A role whose inbox holds `old` consumed messages (the cursor at their end). */
function seedRole(root, role, old) {
  const dir = join(root, "projects", "bench", role);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const inbox = join(dir, "inbox.jsonl");
  const chunk = [];
  for (let i = 0; i < old; i++) chunk.push(line(i, false));
  writeFileSync(inbox, chunk.join(""), { mode: 0o600 });
  const st = statSync(inbox);
  writeFileSync(join(dir, "cursor.json"), JSON.stringify({ ino: st.ino, offset: st.size }), { mode: 0o600 });
  return inbox;
}

export function recvCases(root, rounds) {
  mkdirSync(join(root, "projects", "bench", "src"), { recursive: true, mode: 0o700 });
  seedRole(root, "empty", 0);
  seedRole(root, "old0", 100_000);
  const inbox100 = seedRole(root, "old100", 100_000);
  let batch = 0;
  const recv = (role) => ({ cmd: process.execPath, args: [BIN, "recv"], env: benchEnv({ BRIDGE_ROOT: root, BRIDGE_PROJECT: "bench", BRIDGE_ROLE: role }) });
  const samples = interleaved(
    [
      NODE_BASELINE,
      { name: "recv, 0 unread, empty inbox", ...recv("empty") },
      { name: "recv, 0 unread, 100,000 old", ...recv("old0") },
      {
        name: "recv, 100 unread, 100,000 old",
        ...recv("old100"),
        before: () => {
          const lines = [];
          for (let i = 0; i < 100; i++) lines.push(line(`${batch}-${i}`, true));
          batch++;
          appendFileSync(inbox100, lines.join(""));
        },
      },
    ],
    rounds,
  );
  return samples;
}

function runWorker(root, from, count) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, root, "bench", from, "sink", String(count)], { stdio: ["ignore", "pipe", "inherit"], env: benchEnv() });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`send worker exited ${code}`))));
  });
}

async function drain(root) {
  const { spawnSync } = await import("node:child_process");
  const r = spawnSync(process.execPath, [BIN, "recv", "--json"], { env: benchEnv({ BRIDGE_ROOT: root, BRIDGE_PROJECT: "bench", BRIDGE_ROLE: "sink" }), encoding: "utf8", maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`recv failed: ${r.stderr}`);
  return JSON.parse(r.stdout).messages.map((m) => m.id);
}

function exactlyOnce(sentIds, receivedIds) {
  const got = new Set(receivedIds);
  return got.size === receivedIds.length && sentIds.length === receivedIds.length && sentIds.every((id) => got.has(id));
}

export async function throughput(perWriter1, perWriter4) {
  const one = scratch("send1");
  const single = await runWorker(one, "w1", perWriter1);
  const singleOk = exactlyOnce(single.ids, await drain(one));

  const four = scratch("send4");
  const started = performance.now();
  const results = await Promise.all([1, 2, 3, 4].map((n) => runWorker(four, `w${n}`, perWriter4)));
  const wallMs = performance.now() - started;
  const fourOk = exactlyOnce(results.flatMap((r) => r.ids), await drain(four));
  return {
    one: { perSecond: (single.sent / single.ms) * 1000, sent: single.sent, exactlyOnce: singleOk },
    four: { perSecond: (results.reduce((n, r) => n + r.sent, 0) / wallMs) * 1000, sent: results.reduce((n, r) => n + r.sent, 0), exactlyOnce: fourOk },
  };
}

export { median };
