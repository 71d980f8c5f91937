import { expect } from "chai";
import { createPublicClient, custom, type EIP1193RequestFn, type PublicClient } from "viem";
import { hardhat } from "viem/chains";
import { DEFAULT_THRESHOLDS } from "../../src/chain/stakingLevel.ts";
import { veBalanceAt, WEEK } from "../../src/chain/veBalance.ts";
import { deployGatewayChain } from "./helpers/gatewayFixture.ts";

const E18 = 10n ** 18n;

describe("gateway TierTracker (tiers from locks and thresholds, kept fresh by events)", () => {
  it("follows locks, top-ups, decay, threshold changes and withdrawals with no RPC call per request, and survives an RPC outage", async () => {
    let down = false;
    const { connection, tmai, ve, score, tracker } = await deployGatewayChain(({ provider }) => {
      const request: EIP1193RequestFn = async (args) => {
        if (down) throw new Error("connection refused");
        return provider.request(args as never) as never;
      };
      return createPublicClient({ chain: hardhat, transport: custom({ request }) }) as PublicClient;
    });
    const { viem, networkHelpers } = connection;
    const [, alice, bob] = await viem.getWalletClients();
    if (!alice || !bob) throw new Error("needs three wallets");
    for (const wallet of [alice, bob]) {
      await tmai.write.mint([wallet.account.address, 10_000_000n * E18]);
      await tmai.write.approve([ve.address, 10_000_000n * E18], { account: wallet.account });
    }
    const now = async () => BigInt(await networkHelpers.time.latest());
    // Alice: 100,000 TMAI for 52 weeks ≈ 199,000 veTMAI → level 2 (Advanced).
    await ve.write.createLock([100_000n * E18, (await now()) + 52n * WEEK], { account: alice.account });
    // A first sight reads the lock at the last block the tracker applied.
    await tracker.sync();

    const first = await tracker.standing(alice.account.address, await now());
    expect(first.level).to.equal(2);
    expect(first.tierName).to.equal("Advanced");
    expect(first.stale).to.equal(false);
    const calls = tracker.rpcCalls;
    for (let i = 0; i < 100; i++) await tracker.standing(alice.account.address, await now());
    expect(tracker.rpcCalls).to.equal(calls, "a known wallet costs no RPC call");

    // A top-up reaches the tracker through LockUpdated.
    await ve.write.increaseAmount([200_000n * E18], { account: alice.account });
    await tracker.sync();
    const toppedUp = await tracker.standing(alice.account.address, await now());
    expect(toppedUp.lock.amount).to.equal(300_000n * E18);
    expect(toppedUp.level).to.equal(4);

    // Decay: the level drops at the right second, computed locally.
    const lock = toppedUp.lock;
    const before = tracker.rpcCalls;
    let t = await now();
    while (veBalanceAt(lock, t) >= DEFAULT_THRESHOLDS[3]) t += 3_600n;
    let lo = t - 3_600n;
    while (veBalanceAt(lock, lo + 1n) >= DEFAULT_THRESHOLDS[3]) lo++;
    expect((await tracker.standing(alice.account.address, lo)).level).to.equal(4);
    expect((await tracker.standing(alice.account.address, lo + 1n)).level).to.equal(3);
    expect(tracker.rpcCalls).to.equal(before);

    // New thresholds apply after the next sync.
    await score.write.setThresholds([DEFAULT_THRESHOLDS.map((x) => x * 10n) as never]);
    await tracker.sync();
    expect((await tracker.standing(alice.account.address, await now())).level).to.equal(1);

    // RPC outage: known wallets are served from memory (marked stale), unknown ones as level 0, no exception.
    down = true;
    expect(await tracker.sync()).to.equal(false);
    const during = await tracker.standing(alice.account.address, await now());
    expect(during.level).to.equal(1);
    expect(during.stale).to.equal(true);
    const unknown = await tracker.standing(bob.account.address, await now());
    expect(unknown.level).to.equal(0);
    expect(unknown.stale).to.equal(true);
    down = false;

    // Withdrawal (after expiry) clears the lock through LockUpdated.
    await networkHelpers.time.increase(Number(53n * WEEK));
    await ve.write.withdraw({ account: alice.account });
    expect(await tracker.sync()).to.equal(true);
    const withdrawn = await tracker.standing(alice.account.address, await now());
    expect(withdrawn.lock.amount).to.equal(0n);
    expect(withdrawn.level).to.equal(0);
    expect(withdrawn.stale).to.equal(false);
    expect(tracker.knows(bob.account.address)).to.equal(false);
  });

  it("reads the locks of wallets first seen together in one multicall (deployless: no Multicall3 needed)", async () => {
    let ethCalls = 0;
    const { connection, tmai, ve, tracker } = await deployGatewayChain(({ provider }) => {
      const request: EIP1193RequestFn = async (args) => {
        if (args.method === "eth_call") ethCalls++;
        return provider.request(args as never) as never;
      };
      return createPublicClient({
        chain: hardhat,
        transport: custom({ request }),
        batch: { multicall: { deployless: true } },
      }) as PublicClient;
    });
    const { viem, networkHelpers } = connection;
    const wallets = (await viem.getWalletClients()).slice(1, 5);
    const tokens = [0n, 20_000n, 100_000n, 300_000n];
    for (const [i, wallet] of wallets.entries()) {
      const amount = (tokens[i] as bigint) * E18;
      if (amount === 0n) continue;
      await tmai.write.mint([wallet.account.address, amount]);
      await tmai.write.approve([ve.address, amount], { account: wallet.account });
      const end = BigInt(await networkHelpers.time.latest()) + 52n * WEEK;
      await ve.write.createLock([amount, end], { account: wallet.account });
    }
    await tracker.sync();
    const now = BigInt(await networkHelpers.time.latest());
    ethCalls = 0;
    const standings = await Promise.all(wallets.map((wallet) => tracker.standing(wallet.account.address, now)));
    expect(ethCalls).to.equal(1, "four first sights, one eth_call");
    expect(standings.map((standing) => standing.level)).to.deep.equal([0, 1, 2, 4]);
  });
});
