import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { WEEK } from "../../src/chain/veBalance.ts";
import { canonicalUrl } from "../../src/gateway/canonicalPath.ts";
import { routeMatcher } from "../../src/gateway/plans.ts";
import { signRequest } from "../../src/gateway/verifySignedRequest.ts";
import { type GatewayHarness, startGatewayHarness, TEST_PLANS } from "./helpers/gatewayHarness.ts";
import { prng } from "./helpers/prng.ts";
import { rawHttp, startRecordingUpstream } from "./helpers/recordingUpstream.ts";

const E18 = 10n ** 18n;
/** Plans generous enough that a test's burst of requests is never limited by rate or quota. */
const ROOMY_PLANS = {
  ...TEST_PLANS,
  plans: TEST_PLANS.plans.map((plan) => ({ ...plan, monthlyQuota: 1_000_000, perMinute: 100_000 })) as never,
};

async function lockFor(h: GatewayHarness, wallet: ReturnType<typeof privateKeyToAccount>, tokens: bigint) {
  const { networkHelpers } = h.connection;
  await h.tmai.write.mint([wallet.address, tokens * E18]);
  await networkHelpers.setBalance(wallet.address, E18);
  await h.tmai.write.approve([h.ve.address, tokens * E18], { account: wallet });
  await h.ve.write.createLock([tokens * E18, BigInt(await networkHelpers.time.latest()) + 52n * WEEK], {
    account: wallet,
  });
  await h.tracker.sync();
  h.clock.ms = Number(await networkHelpers.time.latest()) * 1000;
}

/** Credits the wallet behind `key` has used this month. */
async function creditsUsed(h: GatewayHarness, key: string): Promise<number> {
  return (await h.call("GET", "/v1/me", { headers: { "x-api-key": key } })).body.quota.used;
}

describe("gateway hardening: paths, bodies, headers and the upstream", function () {
  this.timeout(120_000);
  let up: Awaited<ReturnType<typeof startRecordingUpstream>>;
  let h: GatewayHarness;

  beforeEach(async () => {
    up = await startRecordingUpstream();
  });
  afterEach(async () => {
    await h?.close();
    await up.close().catch(() => undefined);
  });

  describe("one canonical path, gated and charged as the upstream serves it", () => {
    const tricky: [target: string, status: number, type?: string][] = [
      ["/v1/data/%77hales", 403, "tier-too-low"],
      ["/v1/data/%72esearch/reports", 403, "tier-too-low"],
      ["/v1/data/research", 403, "tier-too-low"],
      ["/v1/data/x/../whales", 403, "tier-too-low"],
      ["/v1/data/x/%2e%2e/whales", 403, "tier-too-low"],
      ["/v1/data/WHALES", 403, "tier-too-low"],
      ["/v1/data/x\\..\\whales", 400, "bad-path"],
      ["/v1/data/%5cwhales", 400, "bad-path"],
      ["/v1/data/x%2f..%2fwhales", 400, "bad-path"],
      ["/v1/data/%2577hales", 400, "bad-path"],
      ["/v1/data/whales%00", 400, "bad-path"],
      ["/v1/data/whales;v=1", 400, "bad-path"],
      ["/v1/data/%2e%2e/%2e%2e/v1/keys", 400, "bad-path"],
      ["/v1/data/prices/%zz", 400, "bad-path"],
      ["/v1/data/prices/TMAI?q=%zz", 400, "bad-path"],
      ["/v1/data/prices/TMAI?q=%", 400, "bad-path"],
      ["/v1/data/prices/TMAI?q=%E0%A4%A", 400, "bad-path"],
      ["/v1/data/prices/TMAI?q=%uD800", 400, "bad-path"],
      ["/v1/data/prices/TMAI", 200],
      ["/v1/data/./prices//TMAI", 200],
    ];

    it("refuses or gates every tricky path for a Basic key, and the upstream sees only what was allowed", async () => {
      h = await startGatewayHarness({ upstream: up.url });
      const { key } = await h.newKey({ name: "basic" });
      for (const [target, status, type] of tricky) {
        const before = up.received.length;
        const answer = await rawHttp(h.base, "GET", target, { "x-api-key": key });
        expect(answer.status, target).to.equal(status);
        if (type) {
          expect(answer.headers["content-type"], target).to.match(/^application\/problem\+json/);
          expect(JSON.parse(answer.body).type, target).to.equal(`https://docs.tmai.dev/problems/${type}`);
          expect(up.received.length, `${target} reached the upstream`).to.equal(before);
        } else expect(up.received.at(-1)?.url).to.equal("/prices/TMAI");
      }
      expect(await creditsUsed(h, key)).to.equal(2, "only the two served requests were charged");
    });

    it("scopes and prices /v1/data/research like /v1/data/research/… and %73ignals like signals", async () => {
      h = await startGatewayHarness({ upstream: up.url });
      const wallet = privateKeyToAccount(generatePrivateKey());
      await lockFor(h, wallet, 300_000n); // ≈ 597,000 veTMAI: Premium
      const { key } = await h.newKey({ name: "scoped", scopes: ["prices"] }, wallet);
      const signals = await rawHttp(h.base, "GET", "/v1/data/%73ignals", { "x-api-key": key });
      expect(signals.status).to.equal(403);
      expect(JSON.parse(signals.body).type).to.match(/scope-missing$/);
      const all = await h.newKey({ name: "all" }, wallet);
      const research = await rawHttp(h.base, "GET", "/v1/data/research", { "x-api-key": all.key });
      expect(research.status).to.equal(200);
      expect(up.received.at(-1)?.headers["x-tmai-route"]).to.equal("/v1/data/research/");
      expect(await creditsUsed(h, all.key)).to.equal(5, "the research route's cost, not the default route's");
    });

    it("property: whatever path is sent, the upstream serves the route that was gated and charged", async () => {
      h = await startGatewayHarness({ upstream: up.url, plans: ROOMY_PLANS });
      const wallet = privateKeyToAccount(generatePrivateKey());
      await lockFor(h, wallet, 2_000_000n); // ≈ 3,980,000 veTMAI: VIP, so every route is reachable
      const { key } = await h.newKey({ name: "vip" }, wallet);
      const match = routeMatcher(ROOMY_PLANS);
      const pieces = [
        "whales",
        "%77hales",
        "WhAlEs",
        "research",
        "%72esearch",
        "reports",
        "signals",
        "%73ignals",
        "prices",
        "TMAI",
        "..",
        "%2e%2e",
        "%2E.",
        ".",
        "%2e",
        "",
        "x",
        "%2f",
        "%2F",
        "%5c",
        "\\",
        "%25",
        "%2577",
        ";",
        "%3b",
        "%00",
        "%zz",
        "%",
        "%C3%A9",
        "%C0%AF",
        "a%20b",
        "?q=1",
        "?q=%zz",
        "#frag",
      ];
      const random = prng(20_261_202);
      const pick = () => pieces[Math.floor(random() * pieces.length)] as string;
      let served = 0;
      for (let i = 0; i < 300; i++) {
        const target = `/v1/data/${Array.from({ length: 1 + Math.floor(random() * 4) }, pick).join("/")}`;
        const before = up.received.length;
        const answer = await rawHttp(h.base, "GET", target, { "x-api-key": key }).catch(() => undefined);
        if (up.received.length === before) {
          expect(answer?.status ?? 400, target).to.be.oneOf([400, 404]);
          continue;
        }
        served++;
        const seen = up.received.at(-1);
        // Decode what the upstream received the way an upstream would (WHATWG URL, then once per segment).
        const upstreamPath = new URL(seen?.url ?? "", "http://upstream").pathname
          .split("/")
          .map((segment) => decodeURIComponent(segment))
          .join("/");
        expect(match(`/v1/data${upstreamPath}`)?.prefix, `${target} → ${seen?.url}`).to.equal(
          seen?.headers["x-tmai-route"],
        );
        expect(seen?.url, target).to.equal(
          `${canonicalUrl(target).encodedPath.slice("/v1/data".length)}${canonicalUrl(target).query}`,
        );
      }
      expect(served).to.be.greaterThan(30, "enough random paths were served to mean something");
    });
  });

  describe("signed requests sign the body's exact bytes, whatever its type", () => {
    async function signedKey() {
      const created = await h.newKey({ name: "bot", signed: true });
      return { ...created, secret: created.created.secret as string };
    }
    function signedHeaders(
      secret: string,
      method: string,
      target: string,
      body: Buffer | string,
      timestamp: number,
      nonce: string,
    ) {
      return {
        "x-tmai-timestamp": String(timestamp),
        "x-tmai-nonce": nonce,
        "x-tmai-signature": signRequest(secret, method, target, String(timestamp), nonce, body),
      };
    }

    it("accepts a genuine text/plain body, refuses a tampered one, and forwards the exact bytes", async () => {
      h = await startGatewayHarness({ upstream: up.url });
      const { key, secret } = await signedKey();
      const now = Math.floor(h.clock.ms / 1000);
      const body = "amount=10&to=alice";
      const headers = {
        "x-api-key": key,
        "content-type": "text/plain",
        ...signedHeaders(secret, "POST", "/v1/data/echo", body, now, "n-text-1"),
      };
      const genuine = await rawHttp(h.base, "POST", "/v1/data/echo", headers, body);
      expect(genuine.status).to.equal(200);
      expect(up.received.at(-1)?.body.toString()).to.equal(body);
      const tampered = await rawHttp(
        h.base,
        "POST",
        "/v1/data/echo",
        { ...headers, "x-tmai-nonce": "n-text-2" },
        "amount=99&to=mallory",
      );
      expect(tampered.status).to.equal(401);
      expect(JSON.parse(tampered.body).type).to.match(/signature-invalid$/);
    });

    it("signs binary bodies of any type, byte for byte", async () => {
      h = await startGatewayHarness({ upstream: up.url });
      const { key, secret } = await signedKey();
      const body = Buffer.from([0xff, 0x00, 0xfe, 0x80, 0x0a]);
      const now = Math.floor(h.clock.ms / 1000);
      const response = await fetch(`${h.base}/v1/data/echo`, {
        method: "POST",
        headers: {
          "x-api-key": key,
          "content-type": "application/octet-stream",
          ...signedHeaders(secret, "POST", "/v1/data/echo", body, now, "n-bin-1"),
        },
        body,
      });
      expect(response.status).to.equal(200);
      expect(up.received.at(-1)?.body.equals(body)).to.equal(true);
    });

    it("remembers a nonce for as long as its timestamp is accepted, and per key", async () => {
      h = await startGatewayHarness({ upstream: up.url });
      const a = await signedKey();
      const b = await signedKey();
      const start = Math.floor(h.clock.ms / 1000);
      const ahead = signedHeaders(a.secret, "GET", "/v1/data/prices/TMAI", "", start + 30, "edge-nonce");
      const send = (key: string, headers: Record<string, string>) =>
        rawHttp(h.base, "GET", "/v1/data/prices/TMAI", { "x-api-key": key, ...headers });
      expect((await send(a.key, ahead)).status).to.equal(200);
      // 60 s later the timestamp (start + 30) is still within ±30 s: the nonce must still be remembered.
      h.clock.ms += 60_000;
      const replay = await send(a.key, ahead);
      expect(replay.status).to.equal(401);
      expect(JSON.parse(replay.body).type).to.match(/signature-replayed$/);
      // Another key using the same nonce string is not refused because of the first key.
      const other = signedHeaders(b.secret, "GET", "/v1/data/prices/TMAI", "", start + 60, "edge-nonce");
      expect((await send(b.key, other)).status).to.equal(200);
    });
  });

  describe("headers", () => {
    it("forwards an allow-list to the upstream and adds the gateway's own x-tmai-* last", async () => {
      h = await startGatewayHarness({ upstream: up.url });
      const { key, account } = await h.newKey({ name: "k" });
      const answer = await rawHttp(h.base, "GET", "/v1/data/prices/TMAI", {
        "x-api-key": key,
        accept: "application/json",
        "user-agent": "sdk/1.0",
        cookie: "session=secret",
        "x-forwarded-for": "6.6.6.6",
        forwarded: "for=6.6.6.6",
        "x-http-method-override": "DELETE",
        "x-tmai-wallet": "0x000000000000000000000000000000000000dead",
        "x-tmai-tier": "VIP",
        "x-tmai-signature": "abc",
        "x-custom": "1",
        connection: "keep-alive, x-custom",
        "keep-alive": "timeout=5",
        te: "trailers",
        upgrade: "websocket",
        "proxy-authorization": "Basic Zm9vOmJhcg==",
      });
      expect(answer.status).to.equal(200);
      const seen = up.received.at(-1)?.headers ?? {};
      expect(seen).to.include({ accept: "application/json", "user-agent": "sdk/1.0" });
      for (const name of [
        "cookie",
        "x-forwarded-for",
        "forwarded",
        "x-http-method-override",
        "x-tmai-signature",
        "x-api-key",
        "x-custom",
        "keep-alive",
        "te",
        "upgrade",
        "proxy-authorization",
      ])
        expect(seen, name).to.not.have.property(name);
      expect(seen["x-tmai-wallet"]).to.equal(account.address.toLowerCase());
      expect(seen["x-tmai-tier"]).to.equal("Basic");
    });

    it("strips hop-by-hop headers from the upstream's answer, so a client asking to close gets a closed connection", async () => {
      h = await startGatewayHarness({ upstream: up.url });
      up.behaviour.headers = {
        "keep-alive": "timeout=72",
        "x-upstream-hop": "1",
        connection: "x-upstream-hop",
        "x-tmai-tier": "VIP",
        ratelimit: '"minute";r=999',
        "x-kept": "yes",
      };
      const { key } = await h.newKey({ name: "k" });
      const answer = await rawHttp(
        h.base,
        "GET",
        "/v1/data/prices/TMAI",
        { "x-api-key": key, connection: "close" },
        "",
        2_000,
      );
      expect(answer.status).to.equal(200);
      expect(answer.headers).to.not.have.property("keep-alive");
      expect(answer.headers).to.not.have.property("x-upstream-hop");
      expect(answer.headers["x-tmai-tier"]).to.equal(undefined);
      expect(answer.headers.ratelimit).to.match(/"minute";r=9;/, "the gateway's own RateLimit header");
      expect(answer.headers["x-kept"]).to.equal("yes");
      expect(answer.headers.connection).to.equal("close");
      expect(answer.closed).to.equal(true, "the connection was closed as asked");
    });
  });

  describe("the upstream fails, stalls or is overloaded", () => {
    it("answers 502 without internals and charges nothing when the upstream is down", async () => {
      h = await startGatewayHarness({ upstream: up.url });
      const { key } = await h.newKey({ name: "k" });
      await up.close();
      const answer = await h.call("GET", "/v1/data/prices/TMAI", { headers: { "x-api-key": key } });
      expect(answer.status).to.equal(502);
      expect(answer.headers.get("content-type")).to.match(/^application\/problem\+json/);
      expect(answer.body.type).to.match(/upstream-failed$/);
      expect(answer.text).to.not.match(/ECONNREFUSED|127\.0\.0\.1|connect/);
      expect(await creditsUsed(h, key)).to.equal(0);
    });

    it("charges only answers the upstream served: a 404 or a 500 costs nothing", async () => {
      h = await startGatewayHarness({ upstream: up.url });
      const { key } = await h.newKey({ name: "k" });
      const headers = { "x-api-key": key };
      up.behaviour.status = 404;
      expect((await h.call("GET", "/v1/data/prices/NOPE", { headers })).status).to.equal(404);
      up.behaviour.status = 500;
      expect((await h.call("GET", "/v1/data/prices/TMAI", { headers })).status).to.equal(500);
      expect(await creditsUsed(h, key)).to.equal(0);
      up.behaviour.status = 200;
      expect((await h.call("GET", "/v1/data/prices/TMAI", { headers })).status).to.equal(200);
      expect(await creditsUsed(h, key)).to.equal(1);
    });

    it("gives up on a stalled upstream after the timeout with a 504, not charged", async () => {
      h = await startGatewayHarness({ upstream: up.url, upstreamTimeoutMs: 300 });
      const { key } = await h.newKey({ name: "k" });
      up.behaviour.delayMs = 3_000;
      const started = Date.now();
      const answer = await h.call("GET", "/v1/data/prices/TMAI", { headers: { "x-api-key": key } });
      expect(answer.status).to.equal(504);
      expect(answer.body.type).to.match(/upstream-timeout$/);
      expect(Date.now() - started).to.be.lessThan(2_000);
      expect(await creditsUsed(h, key)).to.equal(0);
    });

    it("opens the circuit after repeated failures: later requests are refused at once without reaching the upstream", async () => {
      h = await startGatewayHarness({
        upstream: up.url,
        plans: ROOMY_PLANS,
        upstreamGuard: { volumeThreshold: 5, errorThresholdPercentage: 50, resetTimeoutMs: 60_000 },
      });
      const { key } = await h.newKey({ name: "k" });
      up.behaviour.status = 503;
      for (let i = 0; i < 6; i++) await h.call("GET", "/v1/data/prices/TMAI", { headers: { "x-api-key": key } });
      const reached = up.received.length;
      const refused = await h.call("GET", "/v1/data/prices/TMAI", { headers: { "x-api-key": key } });
      expect(refused.status).to.equal(503);
      expect(refused.body.type).to.match(/upstream-unavailable$/);
      expect(refused.headers.get("retry-after")).to.equal("5");
      expect(up.received.length).to.equal(reached, "the open circuit sent nothing");
      expect(await creditsUsed(h, key)).to.equal(0);
    });

    it("does not open the circuit for clients that hang up, and charges them nothing", async () => {
      h = await startGatewayHarness({
        upstream: up.url,
        plans: ROOMY_PLANS,
        upstreamGuard: { volumeThreshold: 3, errorThresholdPercentage: 50, resetTimeoutMs: 60_000 },
      });
      const { key } = await h.newKey({ name: "k" });
      up.behaviour.delayMs = 300;
      for (let i = 0; i < 6; i++) {
        await fetch(`${h.base}/v1/data/prices/TMAI`, {
          headers: { "x-api-key": key },
          signal: AbortSignal.timeout(50),
        }).catch(() => undefined);
      }
      await new Promise((resolve) => setTimeout(resolve, 400));
      up.behaviour.delayMs = 0;
      const after = await h.call("GET", "/v1/data/prices/TMAI", { headers: { "x-api-key": key } });
      expect(after.status).to.equal(200, "the circuit is still closed");
      expect(await creditsUsed(h, key)).to.equal(1);
    });

    it("bounds the requests waiting for a slow upstream", async () => {
      h = await startGatewayHarness({ upstream: up.url, plans: ROOMY_PLANS, upstreamGuard: { maxInFlight: 2 } });
      const { key } = await h.newKey({ name: "k" });
      up.behaviour.delayMs = 500;
      const answers = await Promise.all(
        Array.from({ length: 4 }, () => h.call("GET", "/v1/data/prices/TMAI", { headers: { "x-api-key": key } })),
      );
      expect(answers.map((a) => a.status).sort()).to.deep.equal([200, 200, 503, 503]);
      expect(await creditsUsed(h, key)).to.equal(2);
    });
  });

  describe("every answer the gateway writes itself is a problem", () => {
    it("turns Fastify's refusals into problems with types of their own", async () => {
      h = await startGatewayHarness({ upstream: up.url });
      const user = await h.signIn();
      const cases: [Promise<{ status: number; headers: Record<string, string>; body: string }>, number, string][] = [
        [rawHttp(h.base, "DELETE", `/v1/keys/${"a".repeat(300)}`, user.auth), 414, "uri-too-long"],
        [rawHttp(h.base, "DELETE", `/v1/keys/${"a".repeat(150)}`, user.auth), 400, "invalid-request"],
        [rawHttp(h.base, "GET", "/v1/%zz", user.auth), 400, "bad-path"],
        [
          rawHttp(h.base, "POST", "/v1/keys", { ...user.auth, "content-type": "text/plain" }, "name=x"),
          415,
          "unsupported-media-type",
        ],
        [
          rawHttp(h.base, "POST", "/v1/keys", { ...user.auth, "content-type": "application/json" }, "{"),
          400,
          "invalid-json",
        ],
        [
          rawHttp(h.base, "POST", "/v1/keys", { ...user.auth, "content-type": "application/json" }, "x".repeat(70_000)),
          413,
          "body-too-large",
        ],
        [rawHttp(h.base, "GET", "/v1/usage?from=yesterday", user.auth), 400, "invalid-request"],
        [rawHttp(h.base, "GET", "/nowhere"), 404, "not-found"],
      ];
      for (const [answer, status, type] of cases) {
        const { status: got, headers, body } = await answer;
        expect(got, type).to.equal(status);
        expect(headers["content-type"], type).to.match(/^application\/problem\+json/);
        const problem = JSON.parse(body);
        expect(problem.type).to.equal(`https://docs.tmai.dev/problems/${type}`);
        expect(problem).to.not.have.property("code");
      }
    });

    it("answers malformed HTTP and oversized headers with problems too", async () => {
      h = await startGatewayHarness({ upstream: up.url });
      const bad = await rawHttp(h.base, "GET", "/v1/me", { "x-bad header": "1" }).catch(() => undefined);
      expect(bad?.status).to.equal(400);
      expect(bad?.headers["content-type"]).to.match(/^application\/problem\+json/);
      const huge = await rawHttp(h.base, "GET", "/v1/me", { "x-big": "a".repeat(20_000) });
      expect(huge.status).to.equal(431);
      expect(JSON.parse(huge.body).type).to.match(/headers-too-large$/);
    });
  });

  it("names a nonce-less signed request's refusal and keeps random bytes out of the nonce store", async () => {
    h = await startGatewayHarness({ upstream: up.url });
    const created = await h.newKey({ name: "bot", signed: true });
    const now = Math.floor(h.clock.ms / 1000);
    const nonce = `bad nonce ${randomBytes(2).toString("hex")}`;
    const answer = await rawHttp(h.base, "GET", "/v1/data/prices/TMAI", {
      "x-api-key": created.key,
      "x-tmai-timestamp": String(now),
      "x-tmai-nonce": nonce,
      "x-tmai-signature": signRequest(created.created.secret, "GET", "/v1/data/prices/TMAI", String(now), nonce, ""),
    });
    expect(answer.status).to.equal(401);
    expect(JSON.parse(answer.body).type).to.match(/signature-missing$/);
  });
});
