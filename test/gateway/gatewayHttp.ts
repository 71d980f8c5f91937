import { randomBytes } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import { expect } from "chai";
import Fastify from "fastify";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { createSiweMessage } from "viem/siwe";
import { WEEK } from "../../src/chain/veBalance.ts";
import { createGateway } from "../../src/gateway/createGateway.ts";
import { DEFAULT_PLANS } from "../../src/gateway/plans.ts";
import { SiweAuth } from "../../src/gateway/SiweAuth.ts";
import { deployGatewayChain } from "./helpers/gatewayFixture.ts";
import { type CallResult, jsonCaller } from "./helpers/gatewayHarness.ts";

const E18 = 10n ** 18n;

describe("gateway over HTTP (real servers, in-process chain, SQLite)", () => {
  it("signs in, manages keys, serves /v1/me, proxies data within tier, quota and rate, with problem+json refusals", async () => {
    const { connection, tmai, ve, client, tracker, chainId } = await deployGatewayChain();
    const { networkHelpers } = connection;
    // The example upstream: echoes what the gateway forwarded.
    const upstream = Fastify();
    upstream.get("/*", async (request) => ({ path: request.url, headers: request.headers }));
    const upstreamUrl = await upstream.listen({ host: "127.0.0.1", port: 0 });

    let clock = Date.now();
    const db = new DatabaseSync(":memory:");
    const plans = {
      ...DEFAULT_PLANS,
      routes: [
        { prefix: "/v1/data/premium/", minTier: 2, cost: 1 },
        { prefix: "/v1/data/", minTier: 0, cost: 1 },
      ],
    };
    const gateway = await createGateway({
      db,
      tracker,
      siwe: new SiweAuth({ db, client, domain: "127.0.0.1", origin: "http://127.0.0.1", chainId }),
      masterKey: randomBytes(32),
      plans,
      upstream: upstreamUrl,
      now: () => clock,
    });
    const base = await gateway.listen({ host: "127.0.0.1", port: 0 });
    const call = jsonCaller(base);

    try {
      // Sign in with a fresh wallet.
      const wallet = privateKeyToAccount(generatePrivateKey());
      const { body: nonceBody } = await call("GET", "/v1/auth/nonce");
      const message = createSiweMessage({
        address: wallet.address,
        domain: "127.0.0.1",
        uri: "http://127.0.0.1/v1/auth",
        version: "1",
        chainId,
        nonce: nonceBody.nonce,
        issuedAt: new Date(clock),
      });
      const signed = await call("POST", "/v1/auth/verify", {
        body: { message, signature: await wallet.signMessage({ message }) },
      });
      expect(signed.status).to.equal(200);
      const session = { authorization: `Bearer ${signed.body.session}` };
      const replay = await call("POST", "/v1/auth/verify", {
        body: { message, signature: await wallet.signMessage({ message }) },
      });
      expect(replay.status).to.equal(401);
      expect(replay.headers.get("content-type")).to.include("application/problem+json");
      expect(replay.body.type).to.match(/siwe-bad-nonce$/);

      // Keys: created once, listed without the secret, usable for data.
      expect((await call("POST", "/v1/keys", { body: { name: "x" } })).status).to.equal(401);
      const created = await call("POST", "/v1/keys", { headers: session, body: { name: "laptop" } });
      expect(created.status).to.equal(201);
      const key = created.body.key as string;
      const listed = await call("GET", "/v1/keys", { headers: session });
      expect(JSON.stringify(listed.body)).to.not.include(key);
      expect(listed.body.keys).to.have.length(1);

      const me = await call("GET", "/v1/me", { headers: { "x-api-key": key } });
      expect(me.body).to.deep.include({ level: 0, tier: "Basic", apiDiscountPercent: 0 });
      expect(me.body.quota).to.deep.include({ limit: 50, used: 0, remaining: 50 });

      // Data through the proxy: the key is removed, the wallet and tier are added, RateLimit headers are set.
      const data = await call("GET", "/v1/data/prices?symbol=TMAI", { headers: { "x-api-key": key } });
      expect(data.status).to.equal(200);
      expect(data.body.path).to.equal("/prices?symbol=TMAI");
      expect(data.body.headers).to.not.have.property("x-api-key");
      expect(data.body.headers["x-tmai-wallet"]).to.equal(wallet.address.toLowerCase());
      expect(data.body.headers["x-tmai-tier"]).to.equal("Basic");
      expect(data.headers.get("ratelimit-policy")).to.include('"month";q=50');
      expect(data.headers.get("ratelimit")).to.match(/"minute";r=9;t=\d+, "month";r=49;t=\d+/);

      // Above the wallet's tier: 403 naming the tier needed.
      const premium = await call("GET", "/v1/data/premium/signals", { headers: { "x-api-key": key } });
      expect(premium.status).to.equal(403);
      expect(premium.body).to.deep.include({ requiredTier: "Premium", currentTier: "Basic" });

      // The minute's rate (10 for Basic) runs out first: 429 with Retry-After.
      let limited: CallResult | undefined;
      for (let i = 0; i < 10 && !limited; i++) {
        const r = await call("GET", "/v1/data/prices", { headers: { "x-api-key": key } });
        if (r.status === 429) limited = r;
      }
      expect(limited?.body.type).to.match(/rate-limited$/);
      expect(Number(limited?.headers.get("retry-after"))).to.be.within(1, 60);

      // Then the month's quota: 50 calls in all.
      let exhausted: CallResult | undefined;
      for (let minute = 1; minute <= 6 && !exhausted; minute++) {
        clock += 60_000;
        for (let i = 0; i < 10 && !exhausted; i++) {
          const r = await call("GET", "/v1/data/prices", { headers: { "x-api-key": key } });
          if (r.status === 429) exhausted = r;
        }
      }
      expect(exhausted?.body.type).to.match(/quota-exhausted$/);
      expect((await call("GET", "/v1/me", { headers: { "x-api-key": key } })).body.quota.used).to.equal(50);

      // Locking moves the wallet to Premium at once; the month's usage carries over.
      await tmai.write.mint([wallet.address, 300_000n * E18]);
      await networkHelpers.setBalance(wallet.address, E18);
      await tmai.write.approve([ve.address, 300_000n * E18], { account: wallet });
      await ve.write.createLock([300_000n * E18, BigInt(await networkHelpers.time.latest()) + 52n * WEEK], {
        account: wallet,
      });
      await tracker.sync();
      clock = Number(await networkHelpers.time.latest()) * 1000;
      const upgraded = await call("GET", "/v1/me", { headers: { "x-api-key": key } });
      expect(upgraded.body).to.deep.include({ level: 4, tier: "Premium", apiDiscountPercent: 18 });
      expect(upgraded.body.quota).to.deep.include({ limit: 50_000, used: 50 });
      expect((await call("GET", "/v1/data/premium/signals", { headers: { "x-api-key": key } })).status).to.equal(200);

      // Revocation is immediate; malformed input is a 4xx problem, never a 5xx.
      expect((await call("DELETE", `/v1/keys/${created.body.id}`, { headers: session })).status).to.equal(204);
      const revoked = await call("GET", "/v1/data/prices", { headers: { "x-api-key": key } });
      expect(revoked.status).to.equal(401);
      expect(revoked.body.type).to.match(/key-revoked$/);
      expect((await call("POST", "/v1/auth/verify", { body: "{not json" })).status).to.equal(400);
      expect((await call("POST", "/v1/auth/verify", { body: { message: "hi" } })).status).to.equal(400);
      expect((await call("POST", "/v1/keys", { headers: session, body: { name: "" } })).status).to.equal(400);
      expect((await call("GET", "/v1/data/prices", { headers: { "x-api-key": "tmai_\u00e9\u00e9" } })).status).to.equal(
        401,
      );
      expect((await call("GET", "/nowhere")).status).to.equal(404);
      expect((await call("GET", "/healthz")).body).to.deep.equal({ ok: true });
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });
});
