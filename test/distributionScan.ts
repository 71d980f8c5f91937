import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { network } from "hardhat";
import {
  createPublicClient,
  custom,
  type EIP1193RequestFn,
  getAddress,
  type Hex,
  type PublicClient,
  toHex,
} from "viem";
import { hardhat } from "viem/chains";
import { WEEK } from "../src/chain/veBalance.ts";
import { type ComputeEpochParameters, computeEpoch } from "../src/distribution/computeEpoch.ts";
import { FALLBACK_CONFIRMATIONS } from "../src/distribution/epochBlock.ts";

const E18 = 10n ** 18n;
const DAY = 86_400n;

/**
 * An in-process chain with TMAI, VotingEscrow and a RevenueDistributor, three funded wallets, and `compute(...)`: the
 * epoch of the day after the chain's start, computed through `transport` (the chain itself by default).
 */
async function epochChain(transport?: (request: EIP1193RequestFn) => EIP1193RequestFn) {
  const connection = await network.create();
  const { viem, networkHelpers, provider } = connection;
  const [owner, alice, bob, carol] = await viem.getWalletClients();
  if (!owner || !alice || !bob || !carol) throw new Error("needs four wallets");
  const tmai = await viem.deployContract("TestTMAI", [owner.account.address]);
  const ve = await viem.deployContract("VotingEscrow", [tmai.address]);
  const distributor = await viem.deployContract("RevenueDistributor", [
    ve.address,
    owner.account.address,
    owner.account.address,
    [owner.account.address],
  ]);
  for (const wallet of [alice, bob, carol]) {
    await tmai.write.mint([wallet.account.address, 1_000_000n * E18]);
    await tmai.write.approve([ve.address, 1_000_000n * E18], { account: wallet.account });
  }
  const start = BigInt(await networkHelpers.time.latest());
  const direct: EIP1193RequestFn = async (args) => provider.request(args as never) as never;
  const client = createPublicClient({
    chain: hardhat,
    transport: custom({ request: transport ? transport(direct) : direct }),
  }) as PublicClient;
  const cacheFile = path.join(mkdtempSync(path.join(tmpdir(), "vetmai-scan-")), ".scan-cache-chain-31337.json");
  return {
    connection,
    alice,
    bob,
    carol,
    cacheFile,
    lock: async (wallet: typeof alice) => {
      const end = BigInt(await networkHelpers.time.latest()) + 10n * WEEK;
      await ve.write.createLock([1_000n * E18, end], { account: wallet.account });
    },
    compute: (options: Partial<ComputeEpochParameters> = {}) =>
      computeEpoch({
        client,
        chainId: hardhat.id,
        votingEscrow: ve.address,
        revenueDistributor: distributor.address,
        input: {
          epoch: 1,
          start,
          end: start + DAY,
          rewards: [{ token: tmai.address, amount: E18 }],
          exclude: [],
          fromBlock: 0n,
        },
        inputDir: tmpdir(),
        ...options,
      }),
    passTheEpoch: () => networkHelpers.time.increase(Number(2n * DAY)),
    head: async () => BigInt((await provider.request({ method: "eth_blockNumber" })) as Hex),
    snapshot: async () => (await provider.request({ method: "evm_snapshot" })) as Hex,
    revert: async (id: Hex) => {
      await provider.request({ method: "evm_revert", params: [id] });
    },
  };
}

const accountsOf = (report: Awaited<ReturnType<typeof computeEpoch>>) => report.accounts.map((row) => row.account);

/** A transport whose `finalized` block is block `finality.at` (when set), as on a chain whose finality trails. */
const finalizedAt =
  (finality: { at?: bigint }) =>
  (request: EIP1193RequestFn): EIP1193RequestFn =>
  async (args) => {
    const params = args.params as unknown[] | undefined;
    if (args.method === "eth_getBlockByNumber" && params?.[0] === "finalized" && finality.at !== undefined)
      return request({ method: "eth_getBlockByNumber", params: [toHex(finality.at), params[1]] } as never);
    return request(args);
  };

describe("distribution scan finality (the finalized block, and a resume cache a reorg invalidates)", function () {
  this.timeout(60_000);

  it("discards a resume cache whose last block a reorg replaced, and finds the new chain's stakers", async () => {
    const c = await epochChain();
    await c.lock(c.alice);
    const before = await c.snapshot();
    await c.lock(c.bob);
    await c.passTheEpoch();
    const first = await c.compute({ scanCacheFile: c.cacheFile });
    expect(accountsOf(first)).to.have.members([c.alice, c.bob].map((w) => getAddress(w.account.address)));
    const cached = JSON.parse(readFileSync(c.cacheFile, "utf8"));
    expect(cached.scannedTo).to.equal(first.blocks.to);

    // The blocks after the snapshot are replaced: carol locks where bob did, and the chain is as long as before.
    await c.revert(before);
    await c.lock(c.carol);
    await c.passTheEpoch();
    expect(String(await c.head())).to.equal(cached.scannedTo);
    const second = await c.compute({ scanCacheFile: c.cacheFile });
    expect(accountsOf(second)).to.have.members([c.alice, c.carol].map((w) => getAddress(w.account.address)));
    expect(JSON.parse(readFileSync(c.cacheFile, "utf8")).scannedToHash).to.not.equal(cached.scannedToHash);
  });

  it("resumes from a cache whose last block the chain still has", async () => {
    let logRequests = 0;
    const c = await epochChain((request) => async (args) => {
      if (args.method === "eth_getLogs") logRequests++;
      return request(args);
    });
    await c.lock(c.alice);
    await c.passTheEpoch();
    await c.compute({ scanCacheFile: c.cacheFile, chunkSize: 5n });
    const scanned = logRequests;
    logRequests = 0;
    await c.compute({ scanCacheFile: c.cacheFile, chunkSize: 5n });
    expect(logRequests).to.be.below(scanned);
    expect(logRequests).to.be.at.most(1, "only the blocks after the cached ones");
  });

  it("reads the chain at its finalized block, not at the head", async () => {
    const finality: { at?: bigint } = {};
    const c = await epochChain(finalizedAt(finality));
    await c.lock(c.alice);
    await c.passTheEpoch();
    finality.at = await c.head();
    await c.lock(c.bob);
    await c.connection.networkHelpers.mine(3);
    const report = await c.compute();
    expect(report.blocks.to).to.equal(String(finality.at));
    expect(accountsOf(report)).to.deep.equal([getAddress(c.alice.account.address)]);
  });

  it("reads FALLBACK_CONFIRMATIONS blocks under the head where the node does not know the finalized tag", async () => {
    const c = await epochChain((request) => async (args) => {
      const params = args.params as unknown[] | undefined;
      if (args.method === "eth_getBlockByNumber" && params?.[0] === "finalized")
        throw Object.assign(new Error("invalid block tag finalized"), { code: -32602 });
      return request(args);
    });
    await c.lock(c.alice);
    await c.passTheEpoch();
    await c.connection.networkHelpers.mine(Number(FALLBACK_CONFIRMATIONS) + 1);
    const report = await c.compute();
    expect(report.blocks.to).to.equal(String((await c.head()) - FALLBACK_CONFIRMATIONS));
  });

  it("refuses an epoch that is over at the head but not yet at the finalized block, saying so", async () => {
    const finality: { at?: bigint } = {};
    const c = await epochChain(finalizedAt(finality));
    await c.lock(c.alice);
    const finalized = await c.head();
    finality.at = finalized;
    await c.passTheEpoch();
    let message = "";
    await c.compute().catch((error: Error) => {
      message = error.message;
    });
    expect(message).to.include(`after the time of the chain's finalized block ${finalized}`);
    expect(message).to.include("compute it once it is over and final");
  });
});
