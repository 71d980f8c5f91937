import { DatabaseSync } from "node:sqlite";
import { expect } from "chai";
import { network } from "hardhat";
import type { PublicClient } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { createSiweMessage } from "viem/siwe";
import { SiweAuth, SiweError } from "../../src/gateway/SiweAuth.ts";

describe("gateway sign-in with Ethereum (EIP-4361)", () => {
  it("signs in once per nonce and refuses wrong domain, uri, chain, expired or forged messages with a cause", async () => {
    const { viem } = await network.create();
    const client = (await viem.getPublicClient()) as unknown as PublicClient;
    const chainId = await client.getChainId();
    const auth = new SiweAuth({
      db: new DatabaseSync(":memory:"),
      client,
      domain: "api.tmai.test",
      origin: "https://api.tmai.test",
      chainId,
    });
    const wallet = privateKeyToAccount(generatePrivateKey());
    const now = Math.floor(Date.now() / 1000);
    const sign = async (overrides: Partial<Parameters<typeof createSiweMessage>[0]> = {}) => {
      const message = createSiweMessage({
        address: wallet.address,
        domain: "api.tmai.test",
        uri: "https://api.tmai.test/v1/auth",
        version: "1",
        chainId,
        nonce: auth.issueNonce(now),
        issuedAt: new Date(now * 1000),
        ...overrides,
      });
      return { message, signature: await wallet.signMessage({ message }) };
    };
    const refused = async (attempt: Promise<unknown>, failure: string) => {
      const error = await attempt.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(SiweError);
      expect((error as SiweError).failure).to.equal(failure);
    };

    const good = await sign();
    const session = await auth.verify(good.message, good.signature, now);
    expect(session.wallet).to.equal(wallet.address);
    expect(auth.session(session.session, now + 10)).to.equal(wallet.address);
    expect(auth.session(session.session, now + 86_400)).to.equal(undefined, "sessions expire");
    expect(auth.session("forged", now)).to.equal(undefined);
    await refused(auth.verify(good.message, good.signature, now), "bad-nonce");

    let s = await sign({ domain: "evil.example" });
    await refused(auth.verify(s.message, s.signature, now), "wrong-domain");
    s = await sign({ uri: "https://evil.example/login" });
    await refused(auth.verify(s.message, s.signature, now), "wrong-uri");
    s = await sign({ chainId: chainId + 1 });
    await refused(auth.verify(s.message, s.signature, now), "wrong-chain");
    s = await sign({ expirationTime: new Date((now - 1) * 1000) });
    await refused(auth.verify(s.message, s.signature, now), "expired");
    s = await sign({ issuedAt: new Date((now - 3_600) * 1000) });
    await refused(auth.verify(s.message, s.signature, now), "expired");
    s = await sign({ nonce: "0123456789abcdef" });
    await refused(auth.verify(s.message, s.signature, now), "bad-nonce");
    s = await sign();
    const other = privateKeyToAccount(generatePrivateKey());
    await refused(auth.verify(s.message, await other.signMessage({ message: s.message }), now), "bad-signature");
    // The forged attempt did not burn the nonce: the real owner can still use it.
    expect((await auth.verify(s.message, s.signature, now)).wallet).to.equal(wallet.address);
    await refused(auth.verify("hello", s.signature, now), "invalid-message");
  });
});
