import { expect } from "chai";
import { Signature, type Signer } from "ethers";
import { network } from "hardhat";
import { DEFAULT_THRESHOLDS, levelForBalance, tierName, tierOfLevel } from "../src/chain/stakingLevel.ts";
import { floorToWeek, type Lock, MAXTIME, veBalanceAt, WEEK } from "../src/chain/veBalance.ts";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;
const E18 = 10n ** 18n;

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function rng(seed: number): (n: bigint) => bigint {
  let state = BigInt(seed);
  return (n: bigint) => {
    state = (state * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n;
    return (state >> 16n) % n;
  };
}

async function deployEscrow() {
  const [deployer, ...wallets] = await ethers.getSigners();
  if (deployer === undefined) throw new Error("no signer");
  const tmai = await ethers.deployContract("TestTMAI", [deployer.address]);
  const ve = await ethers.deployContract("VotingEscrow", [await tmai.getAddress()]);
  const score = await ethers.deployContract("StakingScore", [
    await ve.getAddress(),
    [...DEFAULT_THRESHOLDS],
    deployer.address,
  ]);
  const stakers = wallets.slice(0, 5);
  for (const staker of stakers) {
    await tmai.mint(staker.address, 50_000_000n * E18);
    await tmai.connect(staker).approve(await ve.getAddress(), ethers.MaxUint256);
  }
  return { tmai, ve, score, deployer, stakers };
}

async function now(): Promise<bigint> {
  return BigInt(await time.latest());
}

describe("VotingEscrow (veTMAI) from TypeScript", () => {
  it("lets an indexer rebuild every lock and balance from LockUpdated and Withdrawn alone", async () => {
    const { ve, stakers } = await networkHelpers.loadFixture(deployEscrow);
    const random = rng(7);
    for (let step = 0; step < 60; step++) {
      const staker = stakers[Number(random(BigInt(stakers.length)))] as Signer;
      const escrow = ve.connect(staker);
      const [amount, end, permanent] = await ve.locked(await staker.getAddress());
      const t = await now();
      const live = amount > 0n && (permanent || end > t + 1n);
      const amountIn = 1n + random(1_000_000n * E18);
      const unlock = t + WEEK + random(MAXTIME - WEEK);
      if (amount === 0n) await escrow.createLock(amountIn, unlock);
      else if (!permanent && end <= t + 1n) await escrow.withdraw();
      else if (live && random(4n) === 0n) await (permanent ? escrow.unlockPermanent() : escrow.lockPermanent());
      else if (live && !permanent && floorToWeek(unlock) > end) await escrow.increaseUnlockTime(unlock);
      else if (live) await escrow.increaseAmount(amountIn);
      await time.increase(random(6n * WEEK));
    }

    // Replay the events in order: the lock after each change, and when it happened.
    const history = new Map<string, { at: bigint; lock: Lock }[]>();
    const logs = [
      ...(await ve.queryFilter(ve.filters.LockUpdated())),
      ...(await ve.queryFilter(ve.filters.Withdrawn())),
    ];
    logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
    for (const log of logs) {
      const at = BigInt((await log.getBlock()).timestamp);
      const parsed = ve.interface.parseLog(log);
      if (parsed?.name !== "LockUpdated") continue;
      const [account, amount, end, permanent] = parsed.args as unknown as [string, bigint, bigint, boolean];
      const entries = history.get(account) ?? [];
      entries.push({ at, lock: { amount, end, permanent } });
      history.set(account, entries);
    }
    const withdrawals = logs.filter((log) => ve.interface.parseLog(log)?.name === "Withdrawn");
    expect(withdrawals.length).to.be.greaterThan(0, "the scenario should include withdrawals");

    const t = await now();
    for (const staker of stakers) {
      const entries = history.get(staker.address) ?? [];
      const current = entries.at(-1)?.lock ?? { amount: 0n, end: 0n, permanent: false };
      const [amount, end, permanent] = await ve.locked(staker.address);
      expect({ amount, end, permanent }).to.deep.equal(current);
      // Every past change, a second after it, and projections into the future.
      for (const { at, lock } of entries) {
        expect(await ve.balanceOfAt(staker.address, at)).to.equal(veBalanceAt(lock, at));
      }
      for (const ahead of [0n, 13n * WEEK, MAXTIME + WEEK]) {
        expect(await ve.balanceOfAt(staker.address, t + ahead)).to.equal(veBalanceAt(current, t + ahead));
      }
    }
  });

  it("locks in one transaction with an EIP-2612 permit signed by the wallet", async () => {
    const { tmai, ve, deployer } = await networkHelpers.loadFixture(deployEscrow);
    const wallet = ethers.Wallet.createRandom(ethers.provider);
    await deployer.sendTransaction({ to: wallet.address, value: E18 });
    await tmai.mint(wallet.address, 1_000n * E18);
    const amount = 1_000n * E18;
    const deadline = (await now()) + 3600n;
    const { chainId } = await ethers.provider.getNetwork();
    const signature = Signature.from(
      await wallet.signTypedData(
        { name: "Test TMAI", version: "1", chainId, verifyingContract: await tmai.getAddress() },
        {
          Permit: [
            { name: "owner", type: "address" },
            { name: "spender", type: "address" },
            { name: "value", type: "uint256" },
            { name: "nonce", type: "uint256" },
            { name: "deadline", type: "uint256" },
          ],
        },
        { owner: wallet.address, spender: await ve.getAddress(), value: amount, nonce: 0n, deadline },
      ),
    );

    const unlock = (await now()) + MAXTIME;
    await ve.connect(wallet).createLockWithPermit(amount, unlock, deadline, signature.v, signature.r, signature.s);

    expect(await ethers.provider.getTransactionCount(wallet.address)).to.equal(1);
    const [locked, end] = await ve.locked(wallet.address);
    expect(locked).to.equal(amount);
    expect(end).to.equal(floorToWeek(unlock));
  });

  it("computes the same balance off-chain (src/chain/veBalance.ts) as on-chain, to the unit", async () => {
    const { ve, stakers } = await networkHelpers.loadFixture(deployEscrow);
    const random = rng(11);
    const locks: Lock[] = [];
    for (const staker of stakers) {
      const amount = 1n + random(10_000_000n * E18);
      await ve.connect(staker).createLock(amount, (await now()) + WEEK + random(MAXTIME - WEEK));
      const [lockAmount, end, permanent] = await ve.locked(staker.address);
      locks.push({ amount: lockAmount, end, permanent });
    }
    const t0 = await now();
    for (let i = 0; i < 40; i++) {
      const t = t0 + random(MAXTIME + 2n * WEEK);
      let sum = 0n;
      for (const [j, staker] of stakers.entries()) {
        const expected = veBalanceAt(locks[j] as Lock, t);
        expect(await ve.balanceOfAt(staker.address, t)).to.equal(expected);
        sum += expected;
      }
      expect(await ve.totalSupplyAt(t)).to.equal(sum);
    }
  });

  it("refuses a present or future getPastVotes with ERC5805FutureLookup, as OpenZeppelin's Votes does", async () => {
    const { ve, stakers } = await networkHelpers.loadFixture(deployEscrow);
    const [alice] = stakers;
    if (alice === undefined) throw new Error("no staker");
    const t = await now();
    await expect(ve.getPastVotes(alice.address, t + 10n))
      .to.be.revertedWithCustomError(ve, "ERC5805FutureLookup")
      .withArgs(t + 10n, t);
    await expect(ve.delegate(alice.address)).to.be.revertedWithCustomError(ve, "VotingEscrowDelegationDisabled");
  });
});

describe("StakingScore from TypeScript", () => {
  it("gives the same level off-chain (src/chain/stakingLevel.ts) as on-chain around every threshold", async () => {
    const { score } = await networkHelpers.loadFixture(deployEscrow);
    const thresholds = [...(await score.thresholds())];
    expect(thresholds).to.deep.equal(DEFAULT_THRESHOLDS);
    for (const threshold of thresholds) {
      for (const balance of [threshold - 1n, threshold, threshold + 1n]) {
        const level = levelForBalance(balance, thresholds);
        expect(Number(await score.levelOfBalance(balance))).to.equal(level);
        expect(Number(await score.tierOfLevel(level))).to.equal(tierOfLevel(level));
      }
    }
    expect(tierName(0)).to.equal("Basic");
    expect(tierName(3)).to.equal("Advanced");
    expect(tierName(6)).to.equal("Premium");
    expect(tierName(10)).to.equal("VIP");
    expect(() => tierOfLevel(11)).to.throw(RangeError, "level must be an integer from 0 to 10");
  });
});
