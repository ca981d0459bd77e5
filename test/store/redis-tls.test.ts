// rediss://: the store over TLS to a redis-server whose certificate is signed by a CA made here
// with openssl. With the CA (BRIDGE_REDIS_CA) the bus works; without it the connection is refused
// as untrusted, a clear E_STORE, nothing sent.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { BridgeError } from "../../src/lib/errors.ts";
import { openStore } from "../../src/store/store.ts";
import { freePort, startRedis } from "../helpers/redis.ts";

const LIMITS = { maxBodyBytes: 262144, fsync: false };
const READ = { by: "test", compactBytes: 0, historyFiles: 0 };
const as = (role: string) => ({ root: "/x", project: "shop", role });

function makeCa(dir: string): { ca: string; cert: string; key: string } {
  const run = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  run(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=session-bridge test CA",
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
  );
  run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr");
  writeFileSync(join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1\n");
  run(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    "ext.cnf",
    "-out",
    "server.crt",
  );
  return { ca: join(dir, "ca.crt"), cert: join(dir, "server.crt"), key: join(dir, "server.key") };
}

test("rediss:// with the CA works; without it the certificate is refused and nothing is sent", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "sb-tls-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { ca, cert, key } = makeCa(dir);
  const tlsPort = await freePort();
  await startRedis(t, [
    "--tls-port",
    String(tlsPort),
    "--tls-cert-file",
    cert,
    "--tls-key-file",
    key,
    "--tls-ca-cert-file",
    ca,
    "--tls-auth-clients",
    "no",
  ]);
  const url = `rediss://127.0.0.1:${tlsPort}`;
  const store = await openStore("/x", { BRIDGE_URL: url, BRIDGE_REDIS_CA: ca });
  t.after(() => store.close());
  await store.receive(as("web"), READ);
  const sent = await store.send({
    identity: as("api"),
    to: "web",
    body: "encrypted on the wire",
    stamp: { chain: "c", hop: 0 },
    limits: LIMITS,
  });
  assert.deepEqual(
    (await store.receive(as("web"), READ)).messages.map((m) => m.id),
    [sent.message.id],
  );

  const untrusted = await openStore("/x", { BRIDGE_URL: url });
  await assert.rejects(
    untrusted.send({ identity: as("api"), to: "web", body: "x", stamp: { chain: "c", hop: 0 }, limits: LIMITS }),
    (err: unknown) =>
      err instanceof BridgeError &&
      err.code === "E_STORE" &&
      /self[- ]signed|unable to verify|certificate/i.test(err.message) &&
      /nothing was sent/.test(err.message),
  );
  await untrusted.close();
  assert.equal((await store.peek(as("web"))).messages.length, 0);
});
