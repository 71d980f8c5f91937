import { DatabaseSync } from "node:sqlite";
import { expect } from "chai";
import { createClient } from "redis";
import { ApiKeyStore, KeyLimitError } from "../../src/gateway/ApiKeyStore.ts";
import { AuditLog } from "../../src/gateway/AuditLog.ts";
import { ClientLimiter, clientKey } from "../../src/gateway/ClientLimiter.ts";
import { RedisUsageStore } from "../../src/gateway/RedisUsageStore.ts";
import { SqliteUsageStore } from "../../src/gateway/SqliteUsageStore.ts";
import { type GatewayHarness, startGatewayHarness } from "./helpers/gatewayHarness.ts";
import { PrivateRedis } from "./helpers/redis.ts";

const rows = (h: GatewayHarness, table: string) =>
  (h.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

describe("gateway limits on what anyone can do without credentials", function () {
  this.timeout(60_000);
  let h: GatewayHarness;
  afterEach(async () => h?.close());

  it("limits sign-in nonces per client address: the 31st in a minute is a 429 and writes no row", async () => {
    h = await startGatewayHarness();
    const before = rows(h, "siwe_nonces");
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await h.call("GET", "/v1/auth/nonce")).status);
    expect(statuses.filter((s) => s === 200)).to.have.length(30);
    const refused = await h.call("GET", "/v1/auth/nonce");
    expect(refused.status).to.equal(429);
    expect(refused.body.type).to.match(/client-rate-limited$/);
    expect(Number(refused.headers.get("retry-after"))).to.be.within(1, 60);
    expect(rows(h, "siwe_nonces") - before).to.equal(30);
    h.clock.ms += 60_000;
    expect((await h.call("GET", "/v1/auth/nonce")).status).to.equal(200, "a new minute, a new allowance");
  });

  it("believes X-Forwarded-For only from a trusted proxy", async () => {
    h = await startGatewayHarness({ trustProxy: ["127.0.0.1"], clientLimits: { signInPerMinute: 2 } });
    const from = (ip: string) => h.call("GET", "/v1/auth/nonce", { headers: { "x-forwarded-for": ip } });
    expect([
      (await from("1.1.1.1")).status,
      (await from("1.1.1.1")).status,
      (await from("1.1.1.1")).status,
    ]).to.deep.equal([200, 200, 429]);
    expect((await from("2.2.2.2")).status).to.equal(200, "another client behind the proxy has its own allowance");
    await h.close();

    h = await startGatewayHarness({ clientLimits: { signInPerMinute: 2 } });
    const spoofed = (ip: string) => h.call("GET", "/v1/auth/nonce", { headers: { "x-forwarded-for": ip } });
    expect([
      (await spoofed("1.1.1.1")).status,
      (await spoofed("2.2.2.2")).status,
      (await spoofed("3.3.3.3")).status,
    ]).to.deep.equal([200, 200, 429], "without a trusted proxy the header is ignored");
  });

  it("writes at most the allowed failures to the audit log however many unknown keys are tried", async () => {
    h = await startGatewayHarness();
    const before = rows(h, "audit_log");
    const statuses = new Map<number, number>();
    for (let i = 0; i < 200; i++) {
      const { status } = await h.call("GET", "/v1/data/prices/TMAI", { headers: { "x-api-key": `tmai_unknown${i}` } });
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    expect(Object.fromEntries(statuses)).to.deep.equal({ 401: 30, 429: 170 });
    expect(rows(h, "audit_log") - before).to.equal(30);
  });

  it("keeps serving a valid key from an address that failed too often", async () => {
    h = await startGatewayHarness({ clientLimits: { failuresPerMinute: 1 } });
    const { key } = await h.newKey({ name: "k" });
    for (let i = 0; i < 3; i++) await h.call("GET", "/v1/me", { headers: { "x-api-key": `tmai_bad${i}` } });
    expect((await h.call("GET", "/v1/me", { headers: { "x-api-key": key } })).status).to.equal(200);
  });

  it("signs out: DELETE /v1/auth/session ends the session at once", async () => {
    h = await startGatewayHarness();
    const user = await h.signIn();
    expect((await h.call("GET", "/v1/keys", { headers: user.auth })).status).to.equal(200);
    expect((await h.call("DELETE", "/v1/auth/session", { headers: user.auth })).status).to.equal(204);
    const after = await h.call("GET", "/v1/keys", { headers: user.auth });
    expect(after.status).to.equal(401);
    expect(after.body.type).to.match(/session-required$/);
  });

  it("caps the live keys of a wallet (a rotation at the cap still works)", async () => {
    h = await startGatewayHarness({ maxKeysPerWallet: 3 });
    const user = await h.signIn();
    const create = () => h.call("POST", "/v1/keys", { headers: user.auth, body: { name: "k" } });
    const [first] = [await create(), await create(), await create()];
    const fourth = await create();
    expect(fourth.status).to.equal(409);
    expect(fourth.body.type).to.match(/key-limit$/);
    expect(fourth.body.detail).to.include("revoke one");
    const rotated = await h.call("POST", `/v1/keys/${first?.body.id}/rotate`, { headers: user.auth, body: {} });
    expect(rotated.status).to.equal(201);
    expect((await h.call("DELETE", `/v1/keys/${first?.body.id}`, { headers: user.auth })).status).to.equal(204);
    expect((await create()).status).to.equal(409, "the rotated key's replacement counts");
  });

  it("answers /readyz 200 'degraded' during an RPC outage and 503 only while draining", async () => {
    const lifecycle = { draining: false };
    h = await startGatewayHarness({ lifecycle });
    expect((await h.call("GET", "/readyz")).body).to.deep.include({ status: "ready", chain: true, store: true });
    h.setRpcDown(true);
    await h.tracker.sync();
    const degraded = await h.call("GET", "/readyz");
    expect(degraded.status).to.equal(200);
    expect(degraded.body).to.deep.include({ status: "degraded", chain: false });
    lifecycle.draining = true;
    expect((await h.call("GET", "/readyz")).status).to.equal(503);
    expect((await h.call("GET", "/livez")).status).to.equal(200);
  });
});

describe("gateway readiness when Redis lost its counters", function () {
  this.timeout(60_000);

  it("says so in /readyz (degraded, with the time) and in /metrics, and that the Redis is not durable", async () => {
    const redis = await PrivateRedis.start();
    const store = new RedisUsageStore(redis.url, "tmai:ready-test:");
    await store.connect();
    const h = await startGatewayHarness({ store });
    try {
      const ready = await h.call("GET", "/readyz");
      expect(ready.body).to.deep.include({ status: "ready", storeDurable: false });
      const admin = createClient({ url: redis.url });
      await admin.connect();
      await admin.flushAll();
      await admin.close();
      const after = await h.call("GET", "/readyz");
      expect(after.status).to.equal(200);
      expect(after.body.status).to.equal("degraded");
      expect(after.body.countersLostAt).to.match(/^\d{4}-\d{2}-\d{2}T/);
      const metrics = (await h.call("GET", "/metrics")).text;
      expect(metrics).to.match(/tmai_gateway_usage_counters_lost_timestamp_seconds \d+/);
      expect(metrics).to.match(/tmai_gateway_store_durable 0/);
    } finally {
      await h.close();
      await store.close();
      await redis.stop();
    }
  });
});

describe("gateway retention and bounded memory", () => {
  it("prunes audit entries past their retention and keys dead long enough", () => {
    const db = new DatabaseSync(":memory:");
    const audit = new AuditLog(db);
    for (const at of [100, 200, 300])
      audit.record({ at, event: "auth.failed", wallet: null, keyId: null, detail: "x" });
    expect(audit.prune(250)).to.equal(2);
    expect(audit.list().map((entry) => entry.at)).to.deep.equal([300]);

    const keys = new ApiKeyStore(db, Buffer.alloc(32, 1), { maxLivePerWallet: 2 });
    const wallet = "0x00000000000000000000000000000000000000aa";
    const a = keys.create(wallet, { name: "a" }, 1_000);
    keys.create(wallet, { name: "b", expiresAt: 1_500 }, 1_000);
    expect(() => keys.create(wallet, { name: "c" }, 1_000)).to.throw(KeyLimitError);
    keys.create(wallet, { name: "c" }, 2_000); // b expired: a slot is free
    keys.revoke(wallet, a.id, 3_000);
    expect(keys.prune(2_500)).to.equal(1, "b expired before 2,500; a was revoked after");
    expect(keys.list(wallet).map((key) => key.name)).to.deep.equal(["a", "c"]);
  });

  it("keeps at most maxWallets months in memory in the SQLite store, reading a forgotten one back exactly", async () => {
    const store = new SqliteUsageStore(":memory:", { maxWallets: 3 });
    const plan = { name: "Basic", monthlyQuota: 50, perMinute: 1_000 };
    const at = Date.UTC(2027, 5, 15);
    await store.decide("0xfirst", "k", plan, 7, at);
    for (let i = 0; i < 20; i++) await store.peek(`0x${i}`, plan, at);
    expect(store.walletsInMemory).to.equal(3);
    expect((await store.peek("0xfirst", plan, at)).quota.used).to.equal(7);
    await store.close();
  });

  it("forgets the least recently seen clients past its bound", () => {
    const limiter = new ClientLimiter({ limit: 1, windowSeconds: 60, maxClients: 3 });
    for (const client of ["a", "b", "c", "d"]) expect(limiter.hit(client, 0)).to.equal(0);
    expect(limiter.size).to.equal(3);
    expect(limiter.hit("d", 1)).to.equal(59, "d is remembered");
    expect(limiter.hit("a", 1)).to.equal(0, "a was forgotten");
  });

  it("keys clients by IPv4 address and IPv6 /64", () => {
    expect(clientKey("203.0.113.7")).to.equal("203.0.113.7");
    expect(clientKey("::ffff:203.0.113.7")).to.equal("203.0.113.7");
    expect(clientKey("2001:db8:1:2:aaaa::1")).to.equal("2001:db8:1:2::/64");
    expect(clientKey("2001:db8:1:2:bbbb:cccc:dddd:eeee")).to.equal("2001:db8:1:2::/64");
    expect(clientKey("2001:db8::1")).to.equal("2001:db8:0:0::/64");
  });
});
