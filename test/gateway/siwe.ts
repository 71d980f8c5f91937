import { DatabaseSync } from "node:sqlite";
import { expect } from "chai";
import { network } from "hardhat";
import { type Address, encodeFunctionData, getAddress, keccak256, type PublicClient, toHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { createSiweMessage } from "viem/siwe";
import { serializeErc6492Signature } from "viem/utils";
import { SiweAuth, SiweError } from "../../src/gateway/SiweAuth.ts";

/** A sign-in service for `api.tmai.test` on a fresh in-process chain. */
async function siweOnChain() {
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
  return { viem, client, chainId, auth };
}

describe("gateway sign-in with Ethereum (EIP-4361)", () => {
  it("signs in once per nonce and refuses wrong domain, uri, chain, expired or forged messages with a cause", async () => {
    const { chainId, auth } = await siweOnChain();
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

  it("accepts smart-wallet signatures: a deployed ERC-1271 wallet and a not-yet-deployed ERC-6492 one", async () => {
    const { viem, client, chainId, auth } = await siweOnChain();
    const owner = privateKeyToAccount(generatePrivateKey());
    const now = Math.floor(Date.now() / 1000);
    const messageFor = (address: Address) =>
      createSiweMessage({
        address,
        domain: "api.tmai.test",
        uri: "https://api.tmai.test/v1/auth",
        version: "1",
        chainId,
        nonce: auth.issueNonce(now),
        issuedAt: new Date(now * 1000),
      });

    // ERC-1271: the wallet contract says whether its owner signed.
    const deployed = await viem.deployContract("SmartWallet", [owner.address]);
    let message = messageFor(deployed.address);
    const session = await auth.verify(message, await owner.signMessage({ message }), now);
    expect(session.wallet).to.equal(getAddress(deployed.address));
    const stranger = privateKeyToAccount(generatePrivateKey());
    message = messageFor(deployed.address);
    const forged = await auth.verify(message, await stranger.signMessage({ message }), now).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((forged as SiweError).failure).to.equal("bad-signature");

    // ERC-6492: the wallet does not exist yet; the signature carries its factory call.
    const factory = await viem.deployContract("SmartWalletFactory");
    const salt = keccak256(toHex("first"));
    const counterfactual = await factory.read.predict([owner.address, salt]);
    expect(await client.getCode({ address: counterfactual })).to.equal(undefined);
    message = messageFor(counterfactual);
    const signature = serializeErc6492Signature({
      address: factory.address,
      data: encodeFunctionData({ abi: factory.abi, functionName: "deploy", args: [owner.address, salt] }),
      signature: await owner.signMessage({ message }),
    });
    expect((await auth.verify(message, signature, now)).wallet).to.equal(getAddress(counterfactual));
  });
});
