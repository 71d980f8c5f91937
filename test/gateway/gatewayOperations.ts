import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { expect } from "chai";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { createSiweMessage } from "viem/siwe";
import { DEFAULT_THRESHOLDS } from "../../src/chain/stakingLevel.ts";
import { veBalanceAt, WEEK } from "../../src/chain/veBalance.ts";
import { AuditLog } from "../../src/gateway/AuditLog.ts";
import { createGateway } from "../../src/gateway/createGateway.ts";
import { createExampleDataApi } from "../../src/gateway/exampleDataApi.ts";
import { RedisUsageStore } from "../../src/gateway/RedisUsageStore.ts";
import { SiweAuth } from "../../src/gateway/SiweAuth.ts";
import { TierTracker } from "../../src/gateway/TierTracker.ts";
import { signRequest } from "../../src/gateway/verifySignedRequest.ts";
import { deployGatewayChain } from "./helpers/gatewayFixture.ts";
import { type GatewayHarness, startGatewayHarness, TEST_PLANS } from "./helpers/gatewayHarness.ts";
import { PrivateRedis, REDIS_URL } from "./helpers/redis.ts";

const E18 = 10n ** 18n;

/** Gives `wallet` a lock of `tokens` TMAI for `weeks` weeks on the harness's chain. */
async function lockFor(
  h: GatewayHarness,
  wallet: ReturnType<typeof privateKeyToAccount>,
  tokens: bigint,
  weeks: bigint,
) {
  const { networkHelpers } = h.connection;
  await h.tmai.write.mint([wallet.address, tokens * E18]);
  await networkHelpers.setBalance(wallet.address, E18);
  await h.tmai.write.approve([h.ve.address, tokens * E18], { account: wallet });
  await h.ve.write.createLock([tokens * E18, BigInt(await networkHelpers.time.latest()) + weeks * WEEK], {
    account: wallet,
  });
}

describe("gateway operations over HTTP (outages, tiers over time, usage, metrics, logs)", function () {
  this.timeout(60_000);

  it("keeps serving from the last known tiers when the RPC is down, and drops a decayed tier on time with no RPC call", async () => {
    const h = await startGatewayHarness();
    try {
      const wallet = privateKeyToAccount(generatePrivateKey());
      // 300,000 TMAI for 52 weeks ≈ 597,000 veTMAI: level 4 (Premium).
      await lockFor(h, wallet, 300_000n, 52n);
      await h.tracker.sync();
      h.clock.ms = Number(await h.connection.networkHelpers.time.latest()) * 1000;
      const { key } = await h.newKey({ name: "laptop" }, wallet);
      const premium = await h.call("GET", "/v1/data/research/reports", { headers: { "x-api-key": key } });
      expect(premium.status).to.equal(200);
      expect(premium.body.caller.tier).to.equal("Premium");
      const rpcCalls = h.tracker.rpcCalls;

      // The chain goes away: a sync fails, requests are still served from memory, marked stale; /readyz says so.
      h.setRpcDown(true);
      expect(await h.tracker.sync()).to.equal(false);
      const during = await h.call("GET", "/v1/data/research/reports", { headers: { "x-api-key": key } });
      expect(during.status).to.equal(200);
      expect(during.headers.get("x-tmai-tier-stale")).to.equal("true");
      const me = await h.call("GET", "/v1/me", { headers: { "x-api-key": key } });
      expect(me.body).to.deep.include({ tier: "Premium", stale: true });
      // Degraded, not unready: every instance sees the same outage, and stale tiers are the documented behaviour.
      const ready = await h.call("GET", "/readyz");
      expect(ready.status).to.equal(200);
      expect(ready.body).to.deep.include({ status: "degraded", chain: false, store: true });
      // A wallet never seen is served as Basic (stale) at once, without trying the chain.
      const stranger = await h.newKey({ name: "new" });
      const unknown = await h.call("GET", "/v1/data/prices/TMAI", { headers: { "x-api-key": stranger.key } });
      expect(unknown.status).to.equal(200);
      expect(unknown.headers.get("x-tmai-tier-stale")).to.equal("true");
      expect(h.tracker.rpcCalls).to.equal(rpcCalls + 1, "only the failed sync tried the chain");
      h.setRpcDown(false);
      expect(await h.tracker.sync()).to.equal(true);
      expect((await h.call("GET", "/readyz")).body.status).to.equal("ready");

      // Decay: move the gateway's clock to the second the balance falls below level 4's threshold.
      const lock = (await h.tracker.standing(wallet.address, BigInt(Math.floor(h.clock.ms / 1000)))).lock;
      let t = BigInt(Math.floor(h.clock.ms / 1000));
      while (veBalanceAt(lock, t) >= DEFAULT_THRESHOLDS[3]) t += 3_600n;
      while (veBalanceAt(lock, t - 1n) < DEFAULT_THRESHOLDS[3]) t -= 1n;
      const before = h.tracker.rpcCalls;
      h.clock.ms = Number(t - 1n) * 1000;
      expect((await h.call("GET", "/v1/me", { headers: { "x-api-key": key } })).body.tier).to.equal("Premium");
      h.clock.ms = Number(t) * 1000;
      const decayed = await h.call("GET", "/v1/data/research/reports", { headers: { "x-api-key": key } });
      expect(decayed.status).to.equal(403);
      expect(decayed.body).to.deep.include({ requiredTier: "Premium", currentTier: "Advanced" });
      expect(decayed.body.veTMAINeeded).to.match(/^0\.\d+$/);
      expect(h.tracker.rpcCalls).to.equal(before, "no RPC call on the request path");
    } finally {
      await h.close();
    }
  });

  it("moves a wallet up a tier when it tops up its lock, from the synced event, with no RPC call on the request path", async () => {
    const h = await startGatewayHarness();
    try {
      const wallet = privateKeyToAccount(generatePrivateKey());
      await lockFor(h, wallet, 100_000n, 52n); // ≈ 199,000 veTMAI: level 2, Advanced
      await h.tracker.sync();
      h.clock.ms = Number(await h.connection.networkHelpers.time.latest()) * 1000;
      const { key } = await h.newKey({ name: "k" }, wallet);
      const headers = { "x-api-key": key };
      const before = await h.call("GET", "/v1/data/research/reports", { headers });
      expect(before.status).to.equal(403);
      expect(before.body).to.deep.include({ requiredTier: "Premium", currentTier: "Advanced" });
      await h.tmai.write.mint([wallet.address, 200_000n * E18]);
      await h.tmai.write.approve([h.ve.address, 200_000n * E18], { account: wallet });
      await h.ve.write.increaseAmount([200_000n * E18], { account: wallet });
      await h.tracker.sync();
      const calls = h.tracker.rpcCalls;
      const after = await h.call("GET", "/v1/data/research/reports", { headers });
      expect(after.status).to.equal(200);
      expect(after.body.caller.tier).to.equal("Premium");
      expect((await h.call("GET", "/v1/me", { headers })).body).to.deep.include({ level: 4, tier: "Premium" });
      expect(h.tracker.rpcCalls).to.equal(calls);
    } finally {
      await h.close();
    }
  });

  it("applies the Redis outage policy — paid routes fail closed, free routes are served unmetered — and recovers", async () => {
    const redis = await PrivateRedis.start();
    const store = new RedisUsageStore(redis.url);
    await store.connect();
    const h = await startGatewayHarness({ store });
    try {
      const payer = privateKeyToAccount(generatePrivateKey());
      await lockFor(h, payer, 100_000n, 52n); // level 2: Advanced
      await h.tracker.sync();
      const { key } = await h.newKey({ name: "k" }, payer);
      const headers = { "x-api-key": key };
      const metered = await h.call("GET", "/v1/data/signals", { headers });
      expect(metered.status).to.equal(200);
      expect(metered.headers.get("ratelimit")).to.match(/"minute";r=59;/);

      await redis.stop();
      const paid = await h.call("GET", "/v1/data/signals", { headers });
      expect(paid.status).to.equal(503);
      expect(paid.body.type).to.match(/store-unavailable$/);
      expect(paid.headers.get("retry-after")).to.equal("5");
      const free = await h.call("GET", "/v1/data/prices/TMAI", { headers });
      expect(free.status).to.equal(200);
      expect(free.headers.get("x-tmai-usage-unmetered")).to.equal("true");
      expect(free.headers.get("ratelimit")).to.equal(null);
      const me = await h.call("GET", "/v1/me", { headers });
      expect(me.status).to.equal(200);
      expect(me.body.quota).to.equal(null);
      expect((await h.call("GET", "/readyz")).body).to.deep.include({ status: "degraded", chain: true, store: false });
      const metrics = (await h.call("GET", "/metrics")).text;
      expect(metrics).to.match(/tmai_gateway_store_errors_total\{store="redis"\} [3-9]/);

      // Redis comes back (empty, without the script): the client reconnects and metering resumes.
      await redis.resume();
      let ready = false;
      for (let i = 0; i < 50 && !ready; i++) {
        ready = (await h.call("GET", "/readyz")).body.store === true;
        if (!ready) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(ready).to.equal(true);
      // That Redis kept nothing (no AOF): the instance says its counters were lost this month.
      expect((await h.call("GET", "/readyz")).body).to.deep.include({ status: "degraded", storeDurable: false });
      const after = await h.call("GET", "/v1/data/signals", { headers });
      expect(after.status).to.equal(200);
      expect(after.headers.get("ratelimit")).to.match(/"minute";r=59;/);
    } finally {
      await h.close();
      await store.close();
      await redis.stop();
    }
  });

  it("runs as two instances sharing one SQLite file and one Redis: sign-in, keys, revocation and counters are shared", async () => {
    const chain = await deployGatewayChain();
    const upstream = await createExampleDataApi();
    const upstreamUrl = await upstream.listen({ host: "127.0.0.1", port: 0 });
    const file = path.join(mkdtempSync(path.join(tmpdir(), "gateways-")), "gateway.sqlite");
    const prefix = `test:${randomBytes(6).toString("hex")}:`;
    const masterKey = randomBytes(32);
    const instances = await Promise.all(
      [0, 1].map(async () => {
        const db = new DatabaseSync(file);
        const store = new RedisUsageStore(REDIS_URL, prefix);
        await store.connect();
        const tracker = new TierTracker({
          client: chain.client,
          votingEscrow: chain.ve.address,
          stakingScore: chain.score.address,
        });
        await tracker.start();
        const app = await createGateway({
          db,
          tracker,
          siwe: new SiweAuth({
            db,
            client: chain.client,
            domain: "127.0.0.1",
            origin: "http://127.0.0.1",
            chainId: chain.chainId,
          }),
          masterKey,
          plans: TEST_PLANS,
          upstream: upstreamUrl,
          store,
        });
        return { app, db, store, base: await app.listen({ host: "127.0.0.1", port: 0 }) };
      }),
    );
    const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];
    const json = async (response: Response) => ({
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as Record<string, string>,
    });
    try {
      const wallet = privateKeyToAccount(generatePrivateKey());
      const { nonce } = (await json(await fetch(`${a.base}/v1/auth/nonce`))).body;
      const message = createSiweMessage({
        address: wallet.address,
        domain: "127.0.0.1",
        uri: "http://127.0.0.1/v1/auth",
        version: "1",
        chainId: chain.chainId,
        nonce: nonce as string,
        issuedAt: new Date(),
      });
      const signedIn = await json(
        await fetch(`${b.base}/v1/auth/verify`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ message, signature: await wallet.signMessage({ message }) }),
        }),
      );
      expect(signedIn.status).to.equal(200, "a nonce from one instance signs in at the other");
      const session = { authorization: `Bearer ${signedIn.body.session}`, "content-type": "application/json" };
      const created = await json(
        await fetch(`${a.base}/v1/keys`, { method: "POST", headers: session, body: '{"name":"k"}' }),
      );
      expect(created.status).to.equal(201, "a session from one instance works at the other");
      const headers = { "x-api-key": created.body.key as string };
      const first = await json(await fetch(`${b.base}/v1/data/prices/TMAI`, { headers }));
      const second = await json(await fetch(`${a.base}/v1/data/prices/TMAI`, { headers }));
      expect([first.status, second.status]).to.deep.equal([200, 200]);
      expect(first.headers.get("ratelimit")).to.match(/"minute";r=9;/);
      expect(second.headers.get("ratelimit")).to.match(/"minute";r=8;/, "one wallet, one counter across instances");
      const revoked = await fetch(`${b.base}/v1/keys/${created.body.id}`, { method: "DELETE", headers: session });
      expect(revoked.status).to.equal(204);
      const refused = await json(await fetch(`${a.base}/v1/data/prices/TMAI`, { headers }));
      expect(refused.body.type).to.match(/key-revoked$/);
    } finally {
      for (const instance of instances) {
        await instance.app.close();
        await instance.store.close();
        instance.db.close();
      }
      await upstream.close();
    }
  });

  it("reports per-key daily usage, counts requests in /metrics, audits key events, and never logs a key, secret or session", async () => {
    const h = await startGatewayHarness();
    try {
      // Two UTC days, 12 hours apart (one session lasts a day).
      const day1 = Date.UTC(2027, 2, 31, 18);
      const day2 = Date.UTC(2027, 3, 1, 6);
      h.clock.ms = day1;
      const user = await h.signIn();
      const plain = await h.call("POST", "/v1/keys", { headers: user.auth, body: { name: "plain" } });
      const signed = await h.call("POST", "/v1/keys", { headers: user.auth, body: { name: "signed", signed: true } });
      const secrets = [user.session, plain.body.key, signed.body.key, signed.body.secret] as string[];
      expect(secrets.every((s) => typeof s === "string" && s.length >= 32)).to.equal(true);

      // Traffic on two days through both keys, in every way a key can be presented.
      for (let i = 0; i < 3; i++)
        await h.call("GET", "/v1/data/prices/TMAI", { headers: { "x-api-key": plain.body.key } });
      await h.call("GET", "/v1/data/prices/ETH", { headers: { authorization: `Bearer ${plain.body.key}` } });
      h.clock.ms = day2;
      const timestamp = String(Math.floor(h.clock.ms / 1000));
      const body = JSON.stringify({ hello: "wörld" });
      const signature = signRequest(signed.body.secret, "POST", "/v1/data/echo", timestamp, "n-1", body);
      const signedCall = await h.call("POST", "/v1/data/echo", {
        headers: {
          "x-api-key": signed.body.key,
          "x-tmai-timestamp": timestamp,
          "x-tmai-nonce": "n-1",
          "x-tmai-signature": signature,
        },
        body,
      });
      expect(signedCall.status).to.equal(200);
      expect(signedCall.body.body).to.deep.equal({ hello: "wörld" });
      // Failed authentications: a wrong key, a replayed signed request, a key in the query string, a bad session.
      await h.call("GET", "/v1/data/prices/TMAI", { headers: { "x-api-key": `${plain.body.key}x` } });
      await h.call("POST", "/v1/data/echo", {
        headers: {
          "x-api-key": signed.body.key,
          "x-tmai-timestamp": timestamp,
          "x-tmai-nonce": "n-1",
          "x-tmai-signature": signature,
        },
        body,
      });
      await h.call("GET", `/v1/data/prices/TMAI?api_key=${plain.body.key}`);
      await h.call("GET", "/v1/keys", { headers: { authorization: `Bearer ${user.session}x` } });
      const rotated = await h.call("POST", `/v1/keys/${plain.body.id}/rotate`, {
        headers: user.auth,
        body: { graceSeconds: 60 },
      });
      secrets.push(rotated.body.key);
      expect((await h.call("DELETE", `/v1/keys/${signed.body.id}`, { headers: user.auth })).status).to.equal(204);

      const usage = await h.call("GET", "/v1/usage?from=2027-03-30&to=2027-04-02", { headers: user.auth });
      expect(usage.status).to.equal(200);
      const byId = Object.fromEntries(usage.body.keys.map((k: { id: string; days: unknown[] }) => [k.id, k.days]));
      expect(byId[plain.body.id]).to.deep.equal([{ day: "2027-03-31", requests: 4, credits: 4, refused: 0 }]);
      expect(byId[signed.body.id]).to.deep.equal([{ day: "2027-04-01", requests: 1, credits: 1, refused: 0 }]);
      expect(byId[rotated.body.id]).to.deep.equal([]);
      expect(usage.body.keys).to.have.length(3);
      expect(
        (await h.call("GET", "/v1/usage?from=2027-04-02&to=2027-03-30", { headers: user.auth })).body.type,
      ).to.match(/bad-range$/);
      expect((await h.call("GET", "/v1/usage?from=2020-01-01&to=2027-01-01", { headers: user.auth })).status).to.equal(
        400,
      );
      expect((await h.call("GET", "/v1/usage?from=yesterday", { headers: user.auth })).status).to.equal(400);
      expect((await h.call("GET", "/v1/usage")).status).to.equal(401);

      const metrics = (await h.call("GET", "/metrics")).text;
      expect(metrics).to.include('tmai_gateway_requests_total{route="/v1/data/",tier="Basic",outcome="ok"} 5');
      expect(metrics).to.include('outcome="signature-replayed"');
      expect(metrics).to.match(/tmai_gateway_rpc_calls_total \d+/);
      expect(metrics).to.match(/tmai_gateway_tier_lookups_total\{result="hit"\} [4-9]/);
      expect(metrics).to.include("tmai_gateway_request_duration_seconds_bucket");

      const audit = new AuditLog(h.db).list();
      const events = audit.map((entry) => `${entry.event}:${entry.detail.split(" ")[0]}`);
      expect(events).to.include.members([
        `key.created:tmai_${plain.body.key.slice(5, 13)}`,
        "key.rotated:replaced",
        "key.revoked:",
        "auth.failed:key-unknown",
        "auth.failed:signature-replayed",
        "auth.failed:session-invalid",
      ]);
      const logs = h.logs();
      expect(logs).to.include('"audit"');
      for (const secret of secrets) expect(logs).to.not.include(secret);
      expect(logs).to.include("tmai_[redacted]");
    } finally {
      await h.close();
    }
  });
});
