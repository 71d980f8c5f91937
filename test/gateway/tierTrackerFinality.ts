import { randomBytes } from "node:crypto";
import { expect } from "chai";
import {
  createPublicClient,
  custom,
  type EIP1193RequestFn,
  type Hex,
  type PublicClient,
  toHex,
  type WalletClient,
} from "viem";
import { hardhat } from "viem/chains";
import { DEFAULT_THRESHOLDS } from "../../src/chain/stakingLevel.ts";
import { WEEK } from "../../src/chain/veBalance.ts";
import { gatewayConfigFrom } from "../../src/gateway/config.ts";
import {
  DEFAULT_CONFIRMATIONS,
  defaultConfirmations,
  ONE_BY_ONE_DEPTH,
  TierTracker,
  TierTrackerError,
  type TierTrackerParameters,
} from "../../src/gateway/TierTracker.ts";
import { deployGatewayChain } from "./helpers/gatewayFixture.ts";

const E18 = 10n ** 18n;
type Connection = Parameters<NonNullable<Parameters<typeof deployGatewayChain>[0]>>[0];

/** The fixture's chain with three funded wallets, and the chain operations the tests need (reorgs included). */
async function stakersChain(
  trackerOptions: Partial<Omit<TierTrackerParameters, "client" | "votingEscrow" | "stakingScore">> = {},
  clientOverride?: (connection: Connection) => PublicClient,
) {
  const chain = await deployGatewayChain(clientOverride, trackerOptions);
  const { viem, networkHelpers, provider } = chain.connection;
  const [, alice, bob, carol] = await viem.getWalletClients();
  if (!alice || !bob || !carol) throw new Error("needs four wallets");
  for (const wallet of [alice, bob, carol]) {
    await chain.tmai.write.mint([wallet.account.address, 10_000_000n * E18]);
    await chain.tmai.write.approve([chain.ve.address, 10_000_000n * E18], { account: wallet.account });
  }
  const now = async () => BigInt(await networkHelpers.time.latest());
  return {
    ...chain,
    alice,
    bob,
    carol,
    /** Locks `tokens` TMAI for 52 weeks: 100,000 → level 2, 300,000 → level 4. */
    lock: async (wallet: WalletClient, tokens: bigint) => {
      if (!wallet.account) throw new Error("no account");
      await chain.ve.write.createLock([tokens * E18, (await now()) + 52n * WEEK], { account: wallet.account });
    },
    levelOf: async (wallet: WalletClient) =>
      (await chain.tracker.standing(wallet.account?.address as Hex, await now())).level,
    head: async () => BigInt((await provider.request({ method: "eth_blockNumber" })) as Hex),
    snapshot: async () => (await provider.request({ method: "evm_snapshot" })) as Hex,
    revert: async (id: Hex) => {
      await provider.request({ method: "evm_revert", params: [id] });
    },
    /** Mines `blocks` blocks one by one (`hardhat_mine` would give the blocks inside its batch a zero parent hash). */
    mine: async (blocks: number) => {
      // Loop bound: `blocks`.
      for (let i = 0; i < blocks; i++) await provider.request({ method: "evm_mine" });
    },
  };
}

describe("gateway TierTracker finality (confirmations, reorgs, lagging RPC nodes) and its memory bound", function () {
  this.timeout(60_000);

  describe("confirmations", () => {
    it("reads a wallet first seen at the last block it applied, and counts a lock once it has the confirmations", async () => {
      const c = await stakersChain({ confirmations: 2 });
      await c.lock(c.alice, 100_000n);
      await c.tracker.sync();
      expect(await c.levelOf(c.alice)).to.equal(0, "the lock's block is the head: not confirmed yet");
      await c.mine(1);
      await c.tracker.sync();
      expect(await c.levelOf(c.alice)).to.equal(0, "one block on top of it: still not");
      await c.mine(1);
      await c.tracker.sync();
      expect(await c.levelOf(c.alice)).to.equal(2);
      expect(c.tracker.appliedBlock?.number).to.equal((await c.head()) - 2n);
    });

    it("never counts a lock that a reorg removed before it was confirmed", async () => {
      const c = await stakersChain({ confirmations: 2 });
      expect(await c.levelOf(c.alice)).to.equal(0);
      const before = await c.snapshot();
      await c.lock(c.alice, 100_000n);
      await c.mine(1);
      await c.tracker.sync();
      await c.revert(before);
      await c.mine(3);
      await c.tracker.sync();
      expect(await c.levelOf(c.alice)).to.equal(0);
      expect(c.tracker.counters.reorgs).to.equal(0, "the removed blocks had not been applied: nothing to undo");
    });
  });

  describe("reorgs", () => {
    it("stops counting a lock that a reorg removed, at the next sync", async () => {
      const c = await stakersChain();
      const before = await c.snapshot();
      await c.lock(c.alice, 100_000n);
      await c.tracker.sync();
      expect(await c.levelOf(c.alice)).to.equal(2);
      await c.revert(before);
      await c.mine(2);
      expect(await c.tracker.sync()).to.equal(true);
      expect(await c.levelOf(c.alice)).to.equal(0);
      expect(c.tracker.counters.reorgs).to.equal(1);
      expect(c.tracker.appliedBlock?.number).to.equal(await c.head());
    });

    it("notices a reorg that replaced the block it applied by another at the same height", async () => {
      const c = await stakersChain();
      const before = await c.snapshot();
      await c.lock(c.alice, 100_000n);
      await c.tracker.sync();
      expect(await c.levelOf(c.alice)).to.equal(2);
      const applied = c.tracker.appliedBlock;
      await c.revert(before);
      await c.mine(1);
      expect(await c.head()).to.equal(applied?.number, "the new chain is as long as the old one");
      await c.tracker.sync();
      expect(await c.levelOf(c.alice)).to.equal(0);
      expect(c.tracker.appliedBlock?.hash).to.not.equal(applied?.hash);
    });

    it("applies the new chain's events in the blocks that replaced the removed ones", async () => {
      const c = await stakersChain();
      expect(await c.levelOf(c.alice)).to.equal(0);
      expect(await c.levelOf(c.bob)).to.equal(0);
      const before = await c.snapshot();
      await c.lock(c.alice, 100_000n);
      await c.tracker.sync();
      expect(await c.levelOf(c.alice)).to.equal(2);
      await c.revert(before);
      await c.lock(c.bob, 100_000n); // at the removed lock's height
      await c.lock(c.alice, 300_000n);
      await c.tracker.sync();
      expect(await c.levelOf(c.alice)).to.equal(4);
      expect(await c.levelOf(c.bob)).to.equal(2, "bob was known and untouched by the removed blocks");
    });

    it("restores the thresholds that a reorged-away ThresholdsUpdated had set", async () => {
      const c = await stakersChain();
      await c.lock(c.alice, 100_000n);
      await c.tracker.sync();
      expect(await c.levelOf(c.alice)).to.equal(2);
      const before = await c.snapshot();
      await c.score.write.setThresholds([DEFAULT_THRESHOLDS.map((x) => x * 10n) as never]);
      await c.tracker.sync();
      expect(await c.levelOf(c.alice)).to.equal(0);
      await c.revert(before);
      await c.mine(2);
      await c.tracker.sync();
      expect(c.tracker.thresholds).to.deep.equal(DEFAULT_THRESHOLDS);
      expect(await c.levelOf(c.alice)).to.equal(2);
    });

    it("forgets every wallet after a reorg deeper than its window, and reads each again when asked", async () => {
      const c = await stakersChain({ reorgWindow: 4 });
      const before = await c.snapshot();
      await c.lock(c.alice, 100_000n);
      await c.tracker.sync();
      expect(await c.levelOf(c.alice)).to.equal(2);
      await c.mine(10);
      await c.tracker.sync();
      await c.revert(before);
      await c.mine(12);
      await c.tracker.sync();
      expect(c.tracker.knows(c.alice.account?.address as Hex)).to.equal(false);
      expect(await c.levelOf(c.alice)).to.equal(0);
      expect(c.tracker.counters.reorgs).to.equal(1);
    });

    it("stops counting a reorged-away lock within 30 s with the default confirmations and sync interval", async function () {
      this.timeout(45_000);
      const { TMAI_SYNC_INTERVAL_MS } = gatewayConfigFrom({
        TMAI_RPC_URL: "http://127.0.0.1:8545",
        TMAI_UPSTREAM: "http://127.0.0.1:8788",
        TMAI_MASTER_KEY: randomBytes(32).toString("base64"),
      });
      const c = await stakersChain({ confirmations: DEFAULT_CONFIRMATIONS });
      const before = await c.snapshot();
      await c.lock(c.alice, 100_000n);
      await c.mine(DEFAULT_CONFIRMATIONS);
      await c.tracker.sync();
      expect(await c.levelOf(c.alice)).to.equal(2);
      c.tracker.follow(TMAI_SYNC_INTERVAL_MS);
      try {
        await c.revert(before);
        await c.mine(DEFAULT_CONFIRMATIONS + 2);
        const reorged = Date.now();
        // Loop bound: 30 s of 100 ms polls.
        while ((await c.levelOf(c.alice)) !== 0 && Date.now() - reorged < 30_000)
          await new Promise((resolve) => setTimeout(resolve, 100));
        expect(await c.levelOf(c.alice)).to.equal(0);
        expect(Date.now() - reorged).to.be.below(30_000);
      } finally {
        c.tracker.stop();
      }
    });
  });

  describe("a lagging RPC node behind a load balancer", () => {
    /** A client whose `eth_getLogs` answers come from a node that has only the blocks up to `lag.at` (when set). */
    function laggingLogs(lag: { at: bigint | undefined }) {
      return ({ provider }: Connection) => {
        const request: EIP1193RequestFn = async (args) => {
          const filter = (args.params as [{ blockHash?: Hex; fromBlock?: Hex; toBlock?: Hex }] | undefined)?.[0];
          if (args.method === "eth_getLogs" && lag.at !== undefined && filter !== undefined) {
            if (filter.blockHash !== undefined) {
              const block = (await provider.request({
                method: "eth_getBlockByHash",
                params: [filter.blockHash, false],
              })) as { number: Hex } | null;
              // As geth answers for a hash it does not have.
              if (block === null || BigInt(block.number) > lag.at)
                throw Object.assign(new Error("unknown block"), { code: -32000 });
            } else if (filter.toBlock !== undefined && BigInt(filter.toBlock) > lag.at) {
              // As older nodes answer a range past their head: silently cut to it.
              if (filter.fromBlock !== undefined && BigInt(filter.fromBlock) > lag.at) return [] as never;
              return provider.request({
                method: "eth_getLogs",
                params: [{ ...filter, toBlock: toHex(lag.at) }],
              }) as never;
            }
          }
          return provider.request(args as never) as never;
        };
        return createPublicClient({ chain: hardhat, transport: custom({ request }) }) as PublicClient;
      };
    }

    it("applies later, not never, the events of blocks the node answering for logs did not have yet", async () => {
      const lag: { at: bigint | undefined } = { at: undefined };
      const c = await stakersChain({}, laggingLogs(lag));
      expect(await c.levelOf(c.alice)).to.equal(0);
      lag.at = await c.head();
      await c.lock(c.alice, 100_000n);
      await c.mine(2);
      expect(await c.tracker.sync()).to.equal(true);
      expect(c.tracker.appliedBlock?.number).to.equal(lag.at, "not past the last block the logs node could prove");
      expect(await c.levelOf(c.alice)).to.equal(0);
      lag.at = undefined;
      await c.tracker.sync();
      expect(await c.levelOf(c.alice)).to.equal(2);
      expect(c.tracker.appliedBlock?.number).to.equal(await c.head());
    });

    it("catches up in eth_getLogs ranges after more than ONE_BY_ONE_DEPTH blocks, the newest still one by one", async () => {
      const c = await stakersChain();
      expect(await c.levelOf(c.alice)).to.equal(0);
      await c.lock(c.alice, 100_000n);
      const blocks = Number(ONE_BY_ONE_DEPTH) + 100;
      await c.mine(blocks);
      const calls = c.tracker.rpcCalls;
      await c.tracker.sync();
      expect(await c.levelOf(c.alice)).to.equal(2);
      expect(c.tracker.appliedBlock?.number).to.equal(await c.head());
      // One by one would take a header and a logs request per block; ranges take two per 5,000 blocks.
      expect(c.tracker.rpcCalls - calls).to.be.below(2 * Number(ONE_BY_ONE_DEPTH) + 10);
    });
  });

  describe("configuration", () => {
    const base = {
      TMAI_RPC_URL: "http://127.0.0.1:8545",
      TMAI_UPSTREAM: "http://127.0.0.1:8788",
      TMAI_MASTER_KEY: randomBytes(32).toString("base64"),
    };

    it("follows the head on local chains and stays DEFAULT_CONFIRMATIONS behind elsewhere, unless TMAI_CONFIRMATIONS says", () => {
      expect(defaultConfirmations(31_337)).to.equal(0);
      expect(defaultConfirmations(8_453)).to.equal(DEFAULT_CONFIRMATIONS);
      expect(gatewayConfigFrom(base).TMAI_CONFIRMATIONS).to.equal(undefined);
      expect(gatewayConfigFrom({ ...base, TMAI_CONFIRMATIONS: "12" }).TMAI_CONFIRMATIONS).to.equal(12);
      expect(() => gatewayConfigFrom({ ...base, TMAI_CONFIRMATIONS: "-1" })).to.throw(/TMAI_CONFIRMATIONS/);
    });

    it("follows the head of a local chain when no confirmations are given (the chain's id decides)", async () => {
      const c = await stakersChain();
      const tracker = new TierTracker({ client: c.client, votingEscrow: c.ve.address, stakingScore: c.score.address });
      await tracker.start();
      await c.lock(c.alice, 100_000n);
      await tracker.sync();
      expect(tracker.appliedBlock?.number).to.equal(await c.head());
    });

    it("keeps 100,000 wallets by default and refuses a TMAI_MAX_TRACKED_WALLETS below 1", () => {
      expect(gatewayConfigFrom(base).TMAI_MAX_TRACKED_WALLETS).to.equal(100_000);
      expect(() => gatewayConfigFrom({ ...base, TMAI_MAX_TRACKED_WALLETS: "0" })).to.throw(/TMAI_MAX_TRACKED_WALLETS/);
    });

    it("refuses to start, saying what to do, when StakingScore has no code at the confirmed block", async () => {
      const { client, ve, score } = await deployGatewayChain();
      const tracker = new TierTracker({
        client,
        votingEscrow: ve.address,
        stakingScore: score.address,
        confirmations: 50,
      });
      let error: unknown;
      await tracker.start().catch((caught: unknown) => {
        error = caught;
      });
      expect(error).to.be.instanceOf(TierTrackerError);
      expect((error as Error).message).to.include("wait until its deployment is that deep (TMAI_CONFIRMATIONS)");
    });
  });

  describe("memory bound", () => {
    it("forgets the wallet asked for least recently past maxWallets, and reads it again when next asked", async () => {
      const c = await stakersChain({ maxWallets: 2 });
      await c.lock(c.bob, 100_000n);
      await c.tracker.sync();
      expect(await c.levelOf(c.alice)).to.equal(0);
      expect(await c.levelOf(c.bob)).to.equal(2);
      expect(await c.levelOf(c.alice)).to.equal(0); // alice is now the most recent
      expect(await c.levelOf(c.carol)).to.equal(0);
      expect(c.tracker.size).to.equal(2);
      expect(c.tracker.knows(c.bob.account?.address as Hex)).to.equal(false);
      expect(c.tracker.knows(c.alice.account?.address as Hex)).to.equal(true);
      expect(c.tracker.counters.evictions).to.equal(1);
      const calls = c.tracker.rpcCalls;
      expect(await c.levelOf(c.bob)).to.equal(2);
      expect(c.tracker.rpcCalls).to.equal(calls + 1, "bob is read again");
    });
  });
});
