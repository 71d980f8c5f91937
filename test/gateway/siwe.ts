import { DatabaseSync } from "node:sqlite";
import { expect } from "chai";
import { network } from "hardhat";
import {
  type Address,
  createPublicClient,
  custom,
  type EIP1193RequestFn,
  encodeFunctionData,
  getAddress,
  type Hex,
  keccak256,
  type LocalAccount,
  type PublicClient,
  toHex,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { createSiweMessage } from "viem/siwe";
import { serializeErc6492Signature } from "viem/utils";
import {
  SIWE_PRUNE_BATCH,
  SiweAuth,
  type SiweAuthParameters,
  SiweCapacityError,
  SiweError,
  SiweUnavailableError,
} from "../../src/gateway/SiweAuth.ts";

type SiweOptions = Partial<Omit<SiweAuthParameters, "db" | "client" | "chainId">>;
type MessageFields = Partial<Parameters<typeof createSiweMessage>[0]>;

const NOW = 1_900_000_000;

/**
 * A sign-in service on a fresh in-process chain (for https://api.tmai.test unless told otherwise) whose chain client
 * records every RPC method it sends, and can hold every `eth_call` until released.
 */
async function siweOnChain(options: SiweOptions = {}) {
  const connection = await network.create();
  const calls: string[] = [];
  let gate: Promise<void> | undefined;
  const request: EIP1193RequestFn = async (args) => {
    calls.push(args.method);
    if (args.method === "eth_call" && gate) await gate;
    return connection.provider.request(args as never) as never;
  };
  const client = createPublicClient({ chain: hardhat, transport: custom({ request }) }) as PublicClient;
  const chainId = await client.getChainId();
  const db = new DatabaseSync(":memory:");
  const domain = options.domain ?? "api.tmai.test";
  const origin = options.origin ?? "https://api.tmai.test";
  const auth = new SiweAuth({ db, client, chainId, ...options, domain, origin });
  calls.length = 0;
  const wallet = privateKeyToAccount(generatePrivateKey());

  /** A message for this service, signed by `signer` (the wallet unless told), with a fresh nonce unless given. */
  async function sign(fields: MessageFields = {}, signer: LocalAccount = wallet) {
    const message = createSiweMessage({
      address: wallet.address,
      domain,
      uri: `${origin}/v1/auth`,
      version: "1",
      chainId,
      nonce: fields.nonce ?? auth.issueNonce(NOW),
      issuedAt: new Date(NOW * 1000),
      ...fields,
    });
    return { message, signature: await signer.signMessage({ message }) };
  }

  /** Signs `message` as the wallet (for messages edited after `createSiweMessage`). */
  const signed = async (message: string) => ({ message, signature: await wallet.signMessage({ message }) });

  return {
    auth,
    db,
    chainId,
    viem: connection.viem,
    wallet,
    sign,
    signed,
    calls,
    ethCalls: () => calls.filter((method) => method === "eth_call").length,
    rows: (table: "siwe_nonces" | "sessions") =>
      (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n,
    /** Holds every eth_call from now on; the returned function releases them. */
    holdCalls(): () => void {
      let release = () => {};
      gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

/** The failure of a sign-in attempt: a `SiweError`'s cause, another error's name, or "signed in". */
async function outcomeOf(attempt: Promise<unknown>): Promise<string> {
  return attempt.then(
    () => "signed in",
    (error: unknown) => (error instanceof SiweError ? error.failure : (error as Error).name),
  );
}

/** `message` with the value of its `field:` line replaced. */
function withLine(message: string, field: string, value: string): string {
  const line = new RegExp(`^${field}: .*$`, "m");
  expect(message).to.match(line, `the message has a ${field} line`);
  return message.replace(line, `${field}: ${value}`);
}

/** A stranger's key: its signatures are no wallet's, so they go to the chain (ERC-1271 / ERC-6492) and fail. */
const stranger = privateKeyToAccount(generatePrivateKey());

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).to.equal(true, "the condition came true within 5 s");
}

describe("gateway sign-in with Ethereum (EIP-4361)", function () {
  this.timeout(60_000);

  describe("signing in", () => {
    let f: Awaited<ReturnType<typeof siweOnChain>>;
    before(async () => {
      f = await siweOnChain();
    });

    it("signs in with a fresh nonce: a session for the checksummed wallet, ended after sessionTtlSeconds", async () => {
      const { message, signature } = await f.sign({ address: f.wallet.address.toLowerCase() as Address });
      const session = await f.auth.verify(message, signature, NOW);
      expect(session.wallet).to.equal(f.wallet.address);
      expect(session.expiresAt).to.equal(NOW + 86_400);
      expect(f.auth.session(session.session, NOW + 86_399)).to.equal(f.wallet.address);
      expect(f.auth.session(session.session, NOW + 86_400)).to.equal(undefined);
      expect(f.auth.session("forged", NOW)).to.equal(undefined);
    });

    it("refuses a nonce that was already used", async () => {
      const { message, signature } = await f.sign();
      await f.auth.verify(message, signature, NOW);
      expect(await outcomeOf(f.auth.verify(message, signature, NOW))).to.equal("bad-nonce");
    });

    it("refuses a nonce the gateway never issued", async () => {
      const { message, signature } = await f.sign({ nonce: "0123456789abcdef" });
      expect(await outcomeOf(f.auth.verify(message, signature, NOW))).to.equal("bad-nonce");
    });

    it("refuses a nonce issued longer than nonceTtlSeconds ago", async () => {
      const { message, signature } = await f.sign({ nonce: f.auth.issueNonce(NOW - 600) });
      expect(await outcomeOf(f.auth.verify(message, signature, NOW))).to.equal("bad-nonce");
    });

    it("lets only one of two concurrent sign-ins with one nonce through", async () => {
      const { message, signature } = await f.sign();
      const outcomes = await Promise.all([
        outcomeOf(f.auth.verify(message, signature, NOW)),
        outcomeOf(f.auth.verify(message, signature, NOW)),
      ]);
      expect(outcomes.sort()).to.deep.equal(["bad-nonce", "signed in"]);
    });

    it("refuses a signature by another key", async () => {
      const { message, signature } = await f.sign({}, stranger);
      expect(await outcomeOf(f.auth.verify(message, signature, NOW))).to.equal("bad-signature");
    });

    it("refuses a signature that is not one", async () => {
      const { message } = await f.sign();
      expect(await outcomeOf(f.auth.verify(message, "0x1234", NOW))).to.equal("bad-signature");
    });
  });

  describe("smart wallets", () => {
    it("accepts a deployed ERC-1271 wallet's signature by its owner (one eth_call) and refuses a stranger's", async () => {
      const f = await siweOnChain();
      const owner = privateKeyToAccount(generatePrivateKey());
      const deployed = await f.viem.deployContract("SmartWallet", [owner.address]);
      let { message, signature } = await f.sign({ address: deployed.address }, owner);
      f.calls.length = 0;
      expect((await f.auth.verify(message, signature, NOW)).wallet).to.equal(getAddress(deployed.address));
      expect(f.ethCalls()).to.equal(1);
      ({ message, signature } = await f.sign({ address: deployed.address }, stranger));
      expect(await outcomeOf(f.auth.verify(message, signature, NOW))).to.equal("bad-signature");
    });

    it("accepts a not-yet-deployed ERC-6492 wallet's signature, which carries its factory call", async () => {
      const f = await siweOnChain();
      const owner = privateKeyToAccount(generatePrivateKey());
      const factory = await f.viem.deployContract("SmartWalletFactory");
      const salt = keccak256(toHex("first"));
      const counterfactual = await factory.read.predict([owner.address, salt]);
      const { message, signature } = await f.sign({ address: counterfactual }, owner);
      const wrapped = serializeErc6492Signature({
        address: factory.address,
        data: encodeFunctionData({ abi: factory.abi, functionName: "deploy", args: [owner.address, salt] }),
        signature,
      });
      expect((await f.auth.verify(message, wrapped, NOW)).wallet).to.equal(getAddress(counterfactual));
    });
  });

  describe("what a stranger can make the gateway spend", () => {
    /** Long enough to be nothing but a smart wallet's (ERC-6492) signature: only the chain could check it. */
    const smartShaped = `0x${"ab".repeat(200)}` as Hex;

    it("sends no RPC call for a message with an unknown nonce, even with a smart-wallet signature", async () => {
      const f = await siweOnChain();
      const { message } = await f.sign({ nonce: "unknownnonce1234" });
      expect(await outcomeOf(f.auth.verify(message, smartShaped, NOW))).to.equal("bad-nonce");
      expect(f.calls).to.deep.equal([]);
    });

    it("sends no RPC call for a message refused by any other cheap check", async () => {
      const f = await siweOnChain();
      const refused = [
        await f.sign({ domain: "evil.example" }),
        await f.sign({ uri: "https://api.tmai.test.attacker.io/v1/auth" }),
        await f.sign({ chainId: f.chainId + 1 }),
        await f.sign({ expirationTime: new Date((NOW - 1) * 1000) }),
        await f.sign({ notBefore: new Date((NOW + 60) * 1000) }),
      ];
      for (const { message } of refused)
        expect(await outcomeOf(f.auth.verify(message, smartShaped, NOW))).to.not.equal("bad-signature");
      expect(f.calls).to.deep.equal([]);
    });

    it("sends no RPC call to sign in a plain EOA (its signature is recovered locally)", async () => {
      const f = await siweOnChain();
      const { message, signature } = await f.sign();
      expect(await outcomeOf(f.auth.verify(message, signature, NOW))).to.equal("signed in");
      expect(f.calls).to.deep.equal([]);
    });

    it("spends the nonce on a forged signature: 20 forged attempts with one nonce cost one eth_call", async () => {
      const f = await siweOnChain();
      const { message } = await f.sign();
      const outcomes: string[] = [];
      for (let i = 0; i < 20; i++) {
        const forged = await privateKeyToAccount(generatePrivateKey()).signMessage({ message });
        outcomes.push(await outcomeOf(f.auth.verify(message, forged, NOW)));
      }
      expect(outcomes[0]).to.equal("bad-signature");
      expect(new Set(outcomes.slice(1))).to.deep.equal(new Set(["bad-nonce"]));
      expect(f.ethCalls()).to.equal(1);
    });
  });

  describe("the message's uri has exactly the gateway's origin", () => {
    const cases = {
      "https://api.tmai.test": {
        refused: [
          "https://api.tmai.test.attacker.io/v1/auth",
          "https://api.tmai.test@attacker.io/",
          "https://attacker.io@api.tmai.test/v1/auth",
          "https://user:pass@api.tmai.test/v1/auth",
          "http://api.tmai.test/v1/auth",
          "https://api.tmai.test:8443/",
          "https://sub.api.tmai.test/",
          "javascript:alert(1)",
          "urn:tmai:api.tmai.test",
          "//api.tmai.test/v1/auth",
          "not a uri",
        ],
        accepted: [
          "https://api.tmai.test/v1/auth",
          "https://api.tmai.test",
          "https://api.tmai.test:443/v1/auth",
          "HTTPS://API.TMAI.TEST/v1/auth?next=/keys#top",
        ],
      },
      "http://127.0.0.1": {
        refused: [
          "http://127.0.0.1.evil/v1/auth",
          "http://127.0.0.1@evil.com/v1/auth",
          "http://evil.com@127.0.0.1/v1/auth",
          "http://127.0.0.1:8080/v1/auth",
          "https://127.0.0.1/v1/auth",
          "http://127.0.0.2/v1/auth",
          "http://localhost/v1/auth",
          "ftp://127.0.0.1/v1/auth",
          "/v1/auth",
        ],
        accepted: ["http://127.0.0.1/v1/auth", "http://127.0.0.1:80/v1/auth"],
      },
    };
    for (const [origin, { refused, accepted }] of Object.entries(cases)) {
      const domain = new URL(origin).host;
      let f: Awaited<ReturnType<typeof siweOnChain>>;
      before(async () => {
        f = await siweOnChain({ domain, origin });
      });
      for (const uri of refused) {
        it(`refuses ${uri} on ${origin}, without an RPC call`, async () => {
          const { message, signature } = await f.signed(withLine((await f.sign()).message, "URI", uri));
          f.calls.length = 0;
          expect(await outcomeOf(f.auth.verify(message, signature, NOW))).to.equal("wrong-uri");
          expect(f.calls).to.deep.equal([]);
        });
      }
      for (const uri of accepted) {
        it(`accepts ${uri} on ${origin}`, async () => {
          const { message, signature } = await f.signed(withLine((await f.sign()).message, "URI", uri));
          expect(await outcomeOf(f.auth.verify(message, signature, NOW))).to.equal("signed in");
        });
      }
    }
  });

  describe("the message's other fields", () => {
    let f: Awaited<ReturnType<typeof siweOnChain>>;
    before(async () => {
      f = await siweOnChain();
    });

    it("refuses a message for another domain", async () => {
      const { message, signature } = await f.sign({ domain: "evil.example" });
      expect(await outcomeOf(f.auth.verify(message, signature, NOW))).to.equal("wrong-domain");
    });

    it("refuses a domain that differs only by a port", async () => {
      const { message, signature } = await f.sign({ domain: "api.tmai.test:8443" });
      expect(await outcomeOf(f.auth.verify(message, signature, NOW))).to.equal("wrong-domain");
    });

    it("refuses a scheme that is not the origin's, and accepts the origin's", async () => {
      let { message, signature } = await f.sign({ scheme: "http" });
      expect(await outcomeOf(f.auth.verify(message, signature, NOW))).to.equal("wrong-domain");
      ({ message, signature } = await f.sign({ scheme: "https" }));
      expect(await outcomeOf(f.auth.verify(message, signature, NOW))).to.equal("signed in");
    });

    it("refuses a message for another chain", async () => {
      const { message, signature } = await f.sign({ chainId: f.chainId + 1 });
      expect(await outcomeOf(f.auth.verify(message, signature, NOW))).to.equal("wrong-chain");
    });

    it("refuses a Version other than 1", async () => {
      const { message, signature } = await f.signed(withLine((await f.sign()).message, "Version", "2"));
      expect(await outcomeOf(f.auth.verify(message, signature, NOW))).to.equal("invalid-message");
    });

    it("refuses text that is not an EIP-4361 message", async () => {
      const { message, signature } = await f.signed("hello");
      expect(await outcomeOf(f.auth.verify(message, signature, NOW))).to.equal("invalid-message");
    });

    it("refuses a message longer than 4096 characters, before parsing it", async () => {
      const { message, signature } = await f.sign({ resources: [`https://api.tmai.test/${"a".repeat(4096)}`] });
      expect(await outcomeOf(f.auth.verify(message, signature, NOW))).to.equal("invalid-message");
    });
  });

  describe("times", () => {
    let f: Awaited<ReturnType<typeof siweOnChain>>;
    before(async () => {
      f = await siweOnChain();
    });
    const at = (seconds: number) => new Date(seconds * 1000);

    for (const [field, bad] of [
      ["Issued At", "yesterday"],
      ["Issued At", "2026-13-45T99:99:99Z"],
      ["Expiration Time", "never"],
      ["Expiration Time", "2026-01-32T00:00:00Z"],
      ["Not Before", "soon"],
      ["Not Before", "+275760-09-13T00:00:01Z"],
    ] as const) {
      it(`refuses an unparseable ${field} (${bad}) instead of letting NaN pass every comparison`, async () => {
        const original = await f.sign({ expirationTime: at(NOW + 300), notBefore: at(NOW - 300) });
        const { message, signature } = await f.signed(withLine(original.message, field, bad));
        expect(await outcomeOf(f.auth.verify(message, signature, NOW))).to.equal("invalid-message");
      });
    }

    it("refuses a message whose Not Before is not before its Expiration Time", async () => {
      const { message, signature } = await f.sign({ notBefore: at(NOW - 10), expirationTime: at(NOW - 10) });
      expect(await outcomeOf(f.auth.verify(message, signature, NOW))).to.equal("invalid-message");
    });

    it("refuses a message past its Expiration Time", async () => {
      const { message, signature } = await f.sign({ expirationTime: at(NOW) });
      expect(await outcomeOf(f.auth.verify(message, signature, NOW))).to.equal("expired");
    });

    it("refuses a message without Expiration Time issued more than maxMessageAgeSeconds ago", async () => {
      const { message, signature } = await f.sign({ issuedAt: at(NOW - 600) });
      expect(await outcomeOf(f.auth.verify(message, signature, NOW))).to.equal("expired");
    });

    it("refuses a message issued more than a minute in the future, and accepts one within a minute", async () => {
      let { message, signature } = await f.sign({ issuedAt: at(NOW + 61) });
      expect(await outcomeOf(f.auth.verify(message, signature, NOW))).to.equal("not-yet-valid");
      ({ message, signature } = await f.sign({ issuedAt: at(NOW + 60) }));
      expect(await outcomeOf(f.auth.verify(message, signature, NOW))).to.equal("signed in");
    });

    it("refuses a message before its Not Before but keeps its nonce, so it signs in once valid", async () => {
      const { message, signature } = await f.sign({ notBefore: at(NOW + 120) });
      expect(await outcomeOf(f.auth.verify(message, signature, NOW))).to.equal("not-yet-valid");
      expect(await outcomeOf(f.auth.verify(message, signature, NOW + 120))).to.equal("signed in");
    });

    it("says so when the Not Before falls after the nonce expires (the message can never be used)", async () => {
      const { message, signature } = await f.sign({ notBefore: at(NOW + 3_600) });
      const error = await f.auth.verify(message, signature, NOW).catch((e: unknown) => e);
      expect((error as SiweError).failure).to.equal("not-yet-valid");
      expect((error as SiweError).message).to.match(/after its nonce expires/);
    });

    it("ends the session at the message's Expiration Time when that comes first", async () => {
      const { message, signature } = await f.sign({ expirationTime: at(NOW + 300) });
      const session = await f.auth.verify(message, signature, NOW);
      expect(session.expiresAt).to.equal(NOW + 300);
      expect(f.auth.session(session.session, NOW + 299)).to.equal(f.wallet.address);
      expect(f.auth.session(session.session, NOW + 300)).to.equal(undefined);
    });

    it("ends the session after sessionTtlSeconds when the Expiration Time is later", async () => {
      const { message, signature } = await f.sign({ expirationTime: at(NOW + 365 * 86_400) });
      const session = await f.auth.verify(message, signature, NOW);
      expect(session.expiresAt).to.equal(NOW + 86_400);
      expect(f.auth.session(session.session, NOW + 86_400)).to.equal(undefined);
    });
  });

  describe("bounds", () => {
    it("refuses a new nonce while maxOutstandingNonces are outstanding, and issues again once one is used or expired", async () => {
      const f = await siweOnChain({ maxOutstandingNonces: 3 });
      const nonces = [f.auth.issueNonce(NOW), f.auth.issueNonce(NOW), f.auth.issueNonce(NOW)];
      expect(() => f.auth.issueNonce(NOW)).to.throw(SiweCapacityError);
      expect(() => f.auth.issueNonce(NOW)).to.throw(SiweUnavailableError);
      const { message, signature } = await f.sign({ nonce: nonces[0] as string });
      await f.auth.verify(message, signature, NOW);
      expect(f.auth.issueNonce(NOW)).to.match(/^[0-9a-f]{32}$/);
      expect(() => f.auth.issueNonce(NOW)).to.throw(SiweCapacityError);
      expect(f.auth.issueNonce(NOW + 600)).to.match(/^[0-9a-f]{32}$/, "the first three have expired");
    });

    it("ends a wallet's oldest session when it signs in past maxSessionsPerWallet", async () => {
      const f = await siweOnChain({ maxSessionsPerWallet: 2 });
      const sessions: string[] = [];
      for (let i = 0; i < 3; i++) {
        const { message, signature } = await f.sign();
        sessions.push((await f.auth.verify(message, signature, NOW + i)).session);
      }
      expect(sessions.map((token) => f.auth.session(token, NOW + 3) !== undefined)).to.deep.equal([false, true, true]);
      expect(f.rows("sessions")).to.equal(2);
    });

    it("refuses a smart-wallet check while maxPendingSignatureChecks wait on the chain, keeps its nonce, and still signs in an EOA", async () => {
      const f = await siweOnChain({ maxPendingSignatureChecks: 2 });
      const release = f.holdCalls();
      const waiting = [await f.sign({}, stranger), await f.sign({}, stranger)].map(({ message, signature }) =>
        outcomeOf(f.auth.verify(message, signature, NOW)),
      );
      await until(() => f.ethCalls() === 2);
      const third = await f.sign({}, stranger);
      expect(await outcomeOf(f.auth.verify(third.message, third.signature, NOW))).to.equal("SiweUnavailableError");
      const eoa = await f.sign();
      expect(await outcomeOf(f.auth.verify(eoa.message, eoa.signature, NOW))).to.equal("signed in");
      release();
      expect(await Promise.all(waiting)).to.deep.equal(["bad-signature", "bad-signature"]);
      expect(await outcomeOf(f.auth.verify(third.message, third.signature, NOW))).to.equal(
        "bad-signature",
        "its nonce was kept",
      );
      expect(f.ethCalls()).to.equal(3);
    });

    it("gives up on a chain that does not answer within signatureTimeoutMs, and counts the check until it answers", async () => {
      const f = await siweOnChain({ signatureTimeoutMs: 200, maxPendingSignatureChecks: 1 });
      const release = f.holdCalls();
      const hung = await f.sign({}, stranger);
      const started = Date.now();
      const error = await f.auth.verify(hung.message, hung.signature, NOW).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(SiweUnavailableError);
      expect((error as Error).message).to.match(/did not answer .* within 200 ms/);
      expect(Date.now() - started).to.be.within(190, 2_000);
      const next = await f.sign({}, stranger);
      const busy = await f.auth.verify(next.message, next.signature, NOW).catch((e: unknown) => e);
      expect(busy).to.be.instanceOf(SiweUnavailableError);
      expect((busy as Error).message).to.match(/being checked on chain/);
      release();
      // Refused for capacity, the attempt keeps its nonce: retried until the hung check has ended.
      let outcome = "SiweUnavailableError";
      for (let i = 0; i < 500 && outcome === "SiweUnavailableError"; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        outcome = await outcomeOf(f.auth.verify(next.message, next.signature, NOW));
      }
      expect(outcome).to.equal("bad-signature");
    });

    it("signs out: revokeSession ends one session, revokeSessions every session of the wallet", async () => {
      const f = await siweOnChain();
      const tokens: string[] = [];
      for (let i = 0; i < 3; i++) {
        const { message, signature } = await f.sign();
        tokens.push((await f.auth.verify(message, signature, NOW)).session);
      }
      expect(f.auth.revokeSession(tokens[0] as string)).to.equal(true);
      expect(f.auth.revokeSession(tokens[0] as string)).to.equal(false);
      expect(f.auth.session(tokens[0] as string, NOW)).to.equal(undefined);
      expect(f.auth.session(tokens[1] as string, NOW)).to.equal(f.wallet.address);
      expect(f.auth.revokeSessions(f.wallet.address.toLowerCase() as Address)).to.equal(2);
      expect(tokens.map((token) => f.auth.session(token, NOW))).to.deep.equal([undefined, undefined, undefined]);
    });

    it(`prunes expired nonces and sessions, at most ${SIWE_PRUNE_BATCH} rows of each per call`, async () => {
      const f = await siweOnChain();
      // 12,000 nonces issued one second apart, all long expired at NOW (never more than 600 outstanding at once).
      for (let i = 0; i < 12_000; i++) f.auth.issueNonce(NOW - 20_000 + i);
      const live = [f.auth.issueNonce(NOW), f.auth.issueNonce(NOW)];
      for (const expirationTime of [new Date((NOW + 100) * 1000), undefined]) {
        const { message, signature } = await f.sign(expirationTime ? { expirationTime } : {});
        await f.auth.verify(message, signature, NOW);
      }
      expect([f.rows("siwe_nonces"), f.rows("sessions")]).to.deep.equal([12_002, 2]);
      const pruned = [
        f.auth.prune(NOW + 200),
        f.auth.prune(NOW + 200),
        f.auth.prune(NOW + 200),
        f.auth.prune(NOW + 200),
      ];
      expect(pruned).to.deep.equal([SIWE_PRUNE_BATCH + 1, SIWE_PRUNE_BATCH, 2_000, 0]);
      expect([f.rows("siwe_nonces"), f.rows("sessions")]).to.deep.equal([2, 1]);
      const { message, signature } = await f.sign({ nonce: live[0] as string });
      expect(await outcomeOf(f.auth.verify(message, signature, NOW + 200))).to.equal("signed in", "live rows stay");
    });

    it("refuses an origin that is not http(s) and limits out of range when constructed", async () => {
      const { db, client, chainId } = { db: new DatabaseSync(":memory:"), client: {} as PublicClient, chainId: 1 };
      const make = (options: SiweOptions) => () =>
        new SiweAuth({ db, client, chainId, domain: "api.tmai.test", origin: "https://api.tmai.test", ...options });
      expect(make({})).to.not.throw();
      for (const origin of ["api.tmai.test", "ftp://api.tmai.test", "null"])
        expect(make({ origin }), origin).to.throw(RangeError, /origin/);
      for (const options of [
        { nonceTtlSeconds: 0 },
        { sessionTtlSeconds: Number.NaN },
        { maxOutstandingNonces: 1.5 },
        { signatureTimeoutMs: Number.POSITIVE_INFINITY },
      ])
        expect(make(options), JSON.stringify(options)).to.throw(RangeError);
    });
  });
});
