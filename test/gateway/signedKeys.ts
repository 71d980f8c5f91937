import { randomBytes } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import { expect } from "chai";
import Fastify from "fastify";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { createSiweMessage } from "viem/siwe";
import { createGateway } from "../../src/gateway/createGateway.ts";
import { DEFAULT_PLANS } from "../../src/gateway/plans.ts";
import { SiweAuth } from "../../src/gateway/SiweAuth.ts";
import { signRequest } from "../../src/gateway/verifySignedRequest.ts";
import { deployGatewayChain } from "./helpers/gatewayFixture.ts";

describe("gateway signed keys (HMAC over method, path, timestamp, nonce and body)", () => {
  it("accepts a genuine signed request and refuses a bad signature, a stale timestamp, a replayed nonce and a changed body", async () => {
    const { client, tracker, chainId } = await deployGatewayChain();
    const upstream = Fastify();
    upstream.all("/*", async (request) => ({ method: request.method, body: request.body ?? null }));
    const upstreamUrl = await upstream.listen({ host: "127.0.0.1", port: 0 });
    const db = new DatabaseSync(":memory:");
    const gateway = await createGateway({
      db,
      tracker,
      siwe: new SiweAuth({ db, client, domain: "127.0.0.1", origin: "http://127.0.0.1", chainId }),
      masterKey: randomBytes(32),
      plans: DEFAULT_PLANS,
      upstream: upstreamUrl,
    });
    const base = await gateway.listen({ host: "127.0.0.1", port: 0 });
    try {
      const wallet = privateKeyToAccount(generatePrivateKey());
      const { nonce } = (await (await fetch(`${base}/v1/auth/nonce`)).json()) as { nonce: string };
      const message = createSiweMessage({
        address: wallet.address,
        domain: "127.0.0.1",
        uri: "http://127.0.0.1/",
        version: "1",
        chainId,
        nonce,
        issuedAt: new Date(),
      });
      const signIn = await fetch(`${base}/v1/auth/verify`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message, signature: await wallet.signMessage({ message }) }),
      });
      const { session } = (await signIn.json()) as { session: string };
      const created = await fetch(`${base}/v1/keys`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${session}` },
        body: JSON.stringify({ name: "bot", signed: true }),
      });
      const { key, secret } = (await created.json()) as { key: string; secret: string };
      expect(secret).to.be.a("string");

      const send = async (
        body: string,
        sign: { timestamp?: number; nonce?: string; signatureBody?: string; secret?: string } = {},
      ) => {
        const timestamp = String(sign.timestamp ?? Math.floor(Date.now() / 1000));
        const requestNonce = sign.nonce ?? randomBytes(8).toString("hex");
        const signature = signRequest(
          sign.secret ?? secret,
          "POST",
          "/v1/data/orders?x=1",
          timestamp,
          requestNonce,
          sign.signatureBody ?? body,
        );
        const response = await fetch(`${base}/v1/data/orders?x=1`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-api-key": key,
            "x-tmai-timestamp": timestamp,
            "x-tmai-nonce": requestNonce,
            "x-tmai-signature": signature,
          },
          body,
        });
        return { status: response.status, json: (await response.json()) as { type?: string; body?: unknown } };
      };
      const body = '{ "side": "buy",  "amount": "1" }';
      const ok = await send(body, { nonce: "n-1" });
      expect(ok.status, JSON.stringify(ok.json)).to.equal(200);
      expect(ok.json.body).to.deep.equal({ side: "buy", amount: "1" });
      expect((await send(body, { nonce: "n-1" })).json.type).to.match(/signature-replayed$/);
      expect((await send(body, { timestamp: Math.floor(Date.now() / 1000) - 31 })).json.type).to.match(
        /signature-stale$/,
      );
      expect((await send(body, { secret: "not the secret" })).json.type).to.match(/signature-invalid$/);
      expect((await send('{"side":"sell","amount":"1"}', { signatureBody: body })).json.type).to.match(
        /signature-invalid$/,
      );
      const unsigned = await fetch(`${base}/v1/data/orders`, { headers: { "x-api-key": key } });
      expect(unsigned.status).to.equal(401);
      expect(((await unsigned.json()) as { type: string }).type).to.match(/signature-missing$/);
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });
});
