/**
 * `npm run bench:distribution`: the DAO's epoch computation at scale.
 *
 * 1. 100,000 synthetic stakers with 1–5 random checkpoints each over a one-week epoch: exact integration, the
 *    split of two rewards, cumulative amounts, the StandardMerkleTree (≈200,000 leaves) and the serialized report
 *    — wall time and peak memory (RSS), against the targets (≤ 20 s, ≤ 1 GiB) and against a baseline measured in
 *    the same run: the usual approximation, sampling each staker's balance once an hour (168 samples).
 * 2. A chain scan of 2,000 stakers on Hardhat's in-process node: `LockUpdated` logs in chunks, every checkpoint
 *    read, the report computed.
 */
import { network } from "hardhat";
import { type Address, getAddress, type PublicClient } from "viem";
import { type Lock, veBalanceAt, WEEK } from "../src/chain/veBalance.ts";
import { balanceSeconds, type UserCheckpoint } from "../src/distribution/balanceSeconds.ts";
import { buildStandardTree, type Leaf } from "../src/distribution/buildTree.ts";
import { computeEpoch } from "../src/distribution/computeEpoch.ts";
import { serializeReport } from "../src/distribution/report.ts";
import { splitReward } from "../src/distribution/splitReward.ts";

const STAKERS = Number(process.env.BENCH_STAKERS ?? 100_000);
const CHAIN_STAKERS = Number(process.env.BENCH_CHAIN_STAKERS ?? 2_000);
const E18 = 10n ** 18n;
const START = 1_800_000_000n;
const END = START + WEEK;

let seed = 0xd15en;
function random(n: bigint): bigint {
  seed = (seed * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n;
  return (seed >> 16n) % n;
}

let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 20);

// ---------------------------------------------------------------------------------------------------------------
// 1. 100,000 synthetic stakers
// ---------------------------------------------------------------------------------------------------------------
const histories: { account: Address; points: UserCheckpoint[] }[] = [];
for (let i = 0; i < STAKERS; i++) {
  const points: UserCheckpoint[] = [];
  let ts = START - 30n * 86_400n + random(40n * 86_400n);
  for (let k = 0; k <= Number(random(5n)); k++) {
    const permanent = random(5n) === 0n;
    const amount = (1n + random(5_000_000n)) * E18;
    points.push({ amount, end: permanent ? 0n : ((ts + WEEK + random(51n * WEEK)) / WEEK) * WEEK, ts, permanent });
    ts += 1n + random(3n * 86_400n);
  }
  histories.push({ account: getAddress(`0x${(0x1000000n + BigInt(i)).toString(16).padStart(40, "0")}`), points });
}
const tokens = ["0x00000000000000000000000000000000000000a1", "0x00000000000000000000000000000000000000b2"] as const;

const began = performance.now();
const weights = histories.map((h) => ({ account: h.account, weight: balanceSeconds(h.points, START, END) }));
const integrationSeconds = (performance.now() - began) / 1000;
const splits = tokens.map((token) => ({ token, shares: splitReward(1_234_567n * E18 + 89n, weights) }));
const leaves: Leaf[] = [];
for (const { account } of weights) {
  for (const { token, shares } of splits) {
    const amount = shares.get(account) ?? 0n;
    if (amount > 0n) leaves.push([account, getAddress(token), String(amount)]);
  }
}
const tree = buildStandardTree(leaves);
const text = JSON.stringify({ root: tree.root, accounts: weights.length, tree: tree.dump });
const exactSeconds = (performance.now() - began) / 1000;
peakRss = Math.max(peakRss, process.memoryUsage().rss);

// Baseline: hourly sampling of the same histories (approximate, and what many distribution scripts do).
const baselineBegan = performance.now();
let sampledTotal = 0n;
for (const { points } of histories) {
  for (let t = START; t < END; t += 3_600n) {
    let lock: Lock | undefined;
    for (const p of points) if (p.ts <= t) lock = p;
    if (lock) sampledTotal += veBalanceAt(lock, t) * 3_600n;
  }
}
const baselineSeconds = (performance.now() - baselineBegan) / 1000;
const exactTotal = weights.reduce((s, w) => s + w.weight, 0n);
const samplingError = Number(((sampledTotal - exactTotal) * 1_000_000n) / exactTotal) / 10_000;

console.log(`Epoch computation, ${STAKERS.toLocaleString("en-US")} synthetic stakers, 2 reward tokens, one-week epoch`);
console.log(
  `  exact integration + split + tree (${leaves.length.toLocaleString("en-US")} leaves) + report: ${exactSeconds.toFixed(2)} s (target ≤ 20 s: ${exactSeconds <= 20 ? "ok" : "MISSED"})`,
);
console.log(
  `  peak memory (RSS): ${(peakRss / 2 ** 20).toFixed(0)} MiB (target ≤ 1024 MiB: ${peakRss <= 2 ** 30 ? "ok" : "MISSED"})`,
);
console.log(
  `  integration alone: exact ${integrationSeconds.toFixed(2)} s vs the baseline, hourly sampling, ${baselineSeconds.toFixed(2)} s ` +
    `= ${(integrationSeconds / baselineSeconds).toFixed(2)}× its time; sampling is off by ${samplingError.toFixed(4)} % of the weight`,
);
console.log(`  report size: ${(text.length / 2 ** 20).toFixed(1)} MiB`);

// ---------------------------------------------------------------------------------------------------------------
// 2. Chain scan of 2,000 stakers on the in-process node
// ---------------------------------------------------------------------------------------------------------------
const { viem, networkHelpers } = await network.create();
const publicClient = (await viem.getPublicClient()) as unknown as PublicClient;
const [deployer] = await viem.getWalletClients();
if (deployer === undefined) throw new Error("no account");
const tmai = await viem.deployContract("TestTMAI", [deployer.account.address]);
const ve = await viem.deployContract("VotingEscrow", [tmai.address]);
const distributor = await viem.deployContract("RevenueDistributor", [
  ve.address,
  deployer.account.address,
  deployer.account.address,
  [deployer.account.address],
]);
const setupBegan = performance.now();
const chainStart = BigInt(await networkHelpers.time.latest());
for (let i = 0; i < CHAIN_STAKERS; i++) {
  const staker = getAddress(`0x${(0x7000000n + BigInt(i)).toString(16).padStart(40, "0")}`);
  await networkHelpers.impersonateAccount(staker);
  await networkHelpers.setBalance(staker, E18);
  const amount = (1n + random(1_000_000n)) * E18;
  await tmai.write.mint([staker, amount]);
  await tmai.write.approve([ve.address, amount], { account: staker });
  await ve.write.createLock([amount, chainStart + WEEK * (2n + random(50n))], { account: staker });
}
await networkHelpers.time.increase(Number(WEEK));
const setupSeconds = (performance.now() - setupBegan) / 1000;
const scanBegan = performance.now();
const report = await computeEpoch({
  client: publicClient,
  chainId: 31337,
  votingEscrow: ve.address,
  revenueDistributor: distributor.address,
  input: {
    epoch: 1,
    start: chainStart,
    end: chainStart + WEEK,
    rewards: [{ token: tmai.address, amount: 10n ** 24n }],
    exclude: [],
    fromBlock: 0n,
  },
  inputDir: ".",
  chunkSize: 2_000n,
});
const scanSeconds = (performance.now() - scanBegan) / 1000;
serializeReport(report);
clearInterval(sampler);
console.log(
  `\nChain scan on Hardhat's in-process node: ${CHAIN_STAKERS.toLocaleString("en-US")} stakers (${report.blocks.to} blocks)`,
);
console.log(
  `  scan + checkpoint reads + report: ${scanSeconds.toFixed(2)} s (setting up the stakers took ${setupSeconds.toFixed(1)} s)`,
);
console.log(`  accounts in the report: ${report.accounts.length}, root ${report.root}`);
