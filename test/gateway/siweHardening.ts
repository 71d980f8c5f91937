import { DatabaseSync } from "node:sqlite";
import { expect } from "chai";
import { network } from "hardhat";
import { createPublicClient, custom, type EIP1193RequestFn, type PublicClient } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { createSiweMessage } from "viem/siwe";
import { SiweAuth, SiweCapacityError, SiweError } from "../../src/gateway/SiweAuth.ts";

/** A sign-in service for https://api.tmai.test whose chain client counts its RPC calls. */
async function countedSiwe(options: { maxOutstandingNonces?: number; maxSessionsPerWallet?: number } = {}) {
  const connection = await network.create();
  const calls: string[] = [];
  const request: EIP1193RequestFn = async (args) => {
    calls.push(args.method);
    return connection.provider.request(args as never) as never;
  };
  const client = createPublicClient({ chain: hardhat, transport: custom({ request }) }) as PublicClient;
  const chainId = await client.getChainId();
  const db = new DatabaseSync(":memory:");
  const auth = new SiweAuth({
    db,
    client,
    domain: "api.tmai.test",
    origin: "https://api.tmai.test",
    chainId,
    ...options,
  });
  calls.length = 0;
  return { auth, db, calls, chainId };
}

async function failureOf(attempt: Promise<unknown>): Promise<string | undefined> {
  return attempt.then(
    () => undefined,
    (error: unknown) => (error instanceof SiweError ? error.failure : String(error)),
  );
}

describe("gateway sign-in hardening", function () {
  this.timeout(60_000);
  const wallet = privateKeyToAccount(generatePrivateKey());
  const now = 1_900_000_000;

  async function signed(
    chainId: number,
    nonce: string,
    overrides: Partial<Parameters<typeof createSiweMessage>[0]> = {},
  ) {
    const message = createSiweMessage({
      address: wallet.address,
      domain: "api.tmai.test",
      uri: "https://api.tmai.test/v1/auth",
      version: "1",
      chainId,
      nonce,
      issuedAt: new Date(now * 1000),
      ...overrides,
    });
    return { message, signature: await wallet.signMessage({ message }) };
  }

  it("checks the nonce before the signature: an unknown nonce costs no RPC call", async () => {
    const { auth, calls, chainId } = await countedSiwe();
    // A smart-wallet-shaped signature would need eth_call (ERC-6492); with an unknown nonce it is never checked.
    const { message } = await signed(chainId, "unknownnonce1234");
    const failure = await failureOf(auth.verify(message, `0x${"ab".repeat(200)}`, now));
    expect(failure).to.equal("bad-nonce");
    expect(calls).to.deep.equal([]);
    // A forged signature does not burn the owner's nonce.
    const nonce = auth.issueNonce(now);
    const genuine = await signed(chainId, nonce);
    const forged = await privateKeyToAccount(generatePrivateKey()).signMessage({ message: genuine.message });
    expect(await failureOf(auth.verify(genuine.message, forged, now))).to.equal("bad-signature");
    expect((await auth.verify(genuine.message, genuine.signature, now)).wallet).to.equal(wallet.address);
  });

  for (const uri of [
    "https://api.tmai.test.attacker.io/v1/auth",
    "https://api.tmai.test@attacker.io/",
    "http://api.tmai.test/v1/auth",
    "https://api.tmai.test:8443/",
    "javascript:alert(1)",
    "urn:tmai:api.tmai.test",
  ]) {
    it(`refuses a message whose uri is ${uri}`, async () => {
      const { auth, chainId, calls } = await countedSiwe();
      const { message, signature } = await signed(chainId, auth.issueNonce(now), { uri });
      expect(await failureOf(auth.verify(message, signature, now))).to.equal("wrong-uri");
      expect(calls).to.deep.equal([]);
    });
  }

  it("refuses unparseable times instead of letting NaN pass every comparison", async () => {
    const { auth, chainId } = await countedSiwe();
    const { message } = await signed(chainId, auth.issueNonce(now));
    for (const [field, bad] of [
      ["Issued At", "yesterday"],
      ["Issued At", "2026-13-45T99:99:99Z"],
    ] as const) {
      const broken = message.replace(/Issued At: .*/, `${field}: ${bad}`);
      const signature = await wallet.signMessage({ message: broken });
      expect(await failureOf(auth.verify(broken, signature, now)), bad).to.equal("invalid-message");
    }
    const expiring = `${message}\nExpiration Time: never`;
    expect(await failureOf(auth.verify(expiring, await wallet.signMessage({ message: expiring }), now))).to.equal(
      "invalid-message",
    );
  });

  it("ends the session at the message's expirationTime when that comes first", async () => {
    const { auth, chainId } = await countedSiwe();
    const { message, signature } = await signed(chainId, auth.issueNonce(now), {
      expirationTime: new Date((now + 300) * 1000),
    });
    const session = await auth.verify(message, signature, now);
    expect(session.expiresAt).to.equal(now + 300);
    expect(auth.session(session.session, now + 299)).to.equal(wallet.address);
    expect(auth.session(session.session, now + 300)).to.equal(undefined);
  });

  it("caps the outstanding nonces and the sessions of a wallet, and prunes what expired", async () => {
    const { auth, db, chainId } = await countedSiwe({ maxOutstandingNonces: 3, maxSessionsPerWallet: 2 });
    const count = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    const nonces = [auth.issueNonce(now), auth.issueNonce(now), auth.issueNonce(now)];
    expect(() => auth.issueNonce(now)).to.throw(SiweCapacityError);
    const sessions: string[] = [];
    for (const nonce of nonces) {
      const { message, signature } = await signed(chainId, nonce);
      sessions.push((await auth.verify(message, signature, now)).session);
    }
    expect(sessions.map((token) => auth.session(token, now) !== undefined)).to.deep.equal([false, true, true]);
    expect(auth.revokeSession(sessions[2] as string)).to.equal(true);
    expect(auth.session(sessions[2] as string, now)).to.equal(undefined);
    auth.issueNonce(now);
    expect(count("siwe_nonces")).to.equal(1);
    expect(auth.prune(now + 86_400)).to.equal(2, "the expired nonce and the expired session");
    expect([count("siwe_nonces"), count("sessions")]).to.deep.equal([0, 0]);
  });
});
