/**
 * `npm run bench:gas`: gas of VotingEscrow's entry points in the scenarios of the foundation issue, on
 * Hardhat's in-process chain, beside the public Curve-style anchors measured on this toolchain (FIAT/BarnBridge's
 * Solidity port of Curve's VotingEscrow and Velodrome's VotingEscrow). Writes `gas-snapshot.json`; with
 * `GAS_CHECK=1` (`npm run bench:gas:check`), fails instead when a figure moved from the committed snapshot.
 *
 * Figures are whole-transaction gas (21,000 intrinsic included), as a wallet pays it, with exact token
 * allowances (as a permit gives); the view scenarios are `eth_estimateGas` of the call. Gas is deterministic:
 * the same code and scenario give the same figures on every run.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { network } from "hardhat";
import { type Address, encodeFunctionData, zeroHash } from "viem";
import { MAXTIME, WEEK } from "../src/chain/veBalance.ts";

const SNAPSHOT = new URL("../gas-snapshot.json", import.meta.url);
const check = process.env.GAS_CHECK === "1";
const E18 = 10n ** 18n;

interface Row {
  name: string;
  gas: number;
  target?: number;
  /** Public anchors measured on this toolchain (the issues quote them). */
  fiat?: number;
  velodrome?: number;
  uniswap?: number;
  morpho?: number;
}
const rows: Row[] = [];
const record = (row: Row) => rows.push(row);

const { viem, networkHelpers } = await network.create();
const { time } = networkHelpers;
const publicClient = await viem.getPublicClient();
const [firstWallet] = await viem.getWalletClients();
if (firstWallet === undefined) throw new Error("the benchmark needs an account");
const deployer = firstWallet;
const tmai = await viem.deployContract("TestTMAI", [deployer.account.address]);
const now = async () => BigInt(await time.latest());
// Every run starts at the same instant (2033-05-18), so histories fall on the same weeks whatever the day it runs:
// the interpolation search's gas depends on where checkpoints sit within weeks.
await time.increaseTo(2_000_000_000);

/** Deterministic pseudo-random numbers, so every run measures the same history. */
let seed = 0x5eedn;
function random(n: bigint): bigint {
  seed = (seed * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n;
  return (seed >> 16n) % n;
}

let stakerCount = 0;
/** A fresh impersonated account holding `amount` TMAI, with the escrow `ve` approved for exactly `approved`. */
async function newStaker(ve: Address, amount: bigint, approved = amount): Promise<Address> {
  const address = `0x${(0x5000n + BigInt(stakerCount++)).toString(16).padStart(40, "0")}` as Address;
  await networkHelpers.impersonateAccount(address);
  await networkHelpers.setBalance(address, 10n ** 20n);
  await tmai.write.mint([address, amount]);
  await tmai.write.approve([ve, approved], { account: address });
  return address;
}

async function gasOf(hash: `0x${string}`): Promise<number> {
  return Number((await publicClient.waitForTransactionReceipt({ hash })).gasUsed);
}

// ---------------------------------------------------------------------------------------------------------------
// Writes: 50 prior locks ending in every week of the coming year, so week boundaries hold expiries.
// ---------------------------------------------------------------------------------------------------------------
const ve = await viem.deployContract("VotingEscrow", [tmai.address]);
for (let i = 0; i < 50; i++) {
  const staker = await newStaker(ve.address, 10_000n * E18);
  const weeks = 1n + ((BigInt(i) * 7n) % 52n);
  await ve.write.createLock([10_000n * E18, (await now()) + weeks * WEEK], { account: staker });
}
const alice = await newStaker(ve.address, 60_000n * E18);
record({
  name: "createLock (50 prior locks, checkpoint current)",
  gas: await gasOf(await ve.write.createLock([50_000n * E18, (await now()) + 26n * WEEK], { account: alice })),
  target: 200_000,
  fiat: 300_900,
  velodrome: 410_300,
});

// Ten weeks without a single escrow transaction (the setup of the next staker touches only the token).
await time.increase(Number(10n * WEEK));
const bob = await newStaker(ve.address, 60_000n * E18);
record({
  name: "createLock after 10 idle weeks",
  gas: await gasOf(await ve.write.createLock([50_000n * E18, (await now()) + 30n * WEEK], { account: bob })),
  target: 260_000,
  fiat: 985_600,
  velodrome: 908_000,
});

await time.increase(3600);
record({
  name: "increaseAmount",
  gas: await gasOf(await ve.write.increaseAmount([1_000n * E18], { account: alice })),
  target: 110_000,
  fiat: 228_200,
  velodrome: 200_600,
});
await time.increase(3600);
// Alice's lock ends 26 weeks after she locked; Bob's, in a week that already holds other locks.
const [, bobEnd] = await ve.read.locked([bob]);
record({
  name: "increaseUnlockTime (to a week other locks end in)",
  gas: await gasOf(await ve.write.increaseUnlockTime([bobEnd], { account: alice })),
  target: 110_000,
});
await time.increase(3600);
record({
  name: "increaseUnlockTime (to a week no lock ends in yet)",
  gas: await gasOf(await ve.write.increaseUnlockTime([(await now()) + MAXTIME], { account: bob })),
  target: 110_000,
});
await time.increase(3600);
record({
  name: "depositFor",
  gas: await gasOf(await ve.write.depositFor([alice, 1_000n * E18], { account: bob })),
  target: 110_000,
});
await time.increase(3600);
record({ name: "lockPermanent", gas: await gasOf(await ve.write.lockPermanent({ account: bob })), target: 110_000 });
await time.increase(3600);
record({
  name: "unlockPermanent",
  gas: await gasOf(await ve.write.unlockPermanent({ account: bob })),
  target: 110_000,
});

// A wallet that locked all its TMAI: withdrawing writes its token balance from zero, the expensive case.
const carol = await newStaker(ve.address, 20_000n * E18);
await ve.write.createLock([20_000n * E18, (await now()) + 2n * WEEK], { account: carol });
await time.increase(Number(3n * WEEK));
record({
  name: "withdraw (wallet holds no TMAI)",
  gas: await gasOf(await ve.write.withdraw({ account: carol })),
  target: 100_000,
  fiat: 185_400,
  velodrome: 214_200,
});
const skewedEpochs = Number(await ve.read.epoch());

// ---------------------------------------------------------------------------------------------------------------
// Views: a history as a live escrow builds it — 30 stakers acting at random times (an hour apart on average),
// one of them (Dave) often enough to reach 120 checkpoints.
// ---------------------------------------------------------------------------------------------------------------
const live = await viem.deployContract("VotingEscrow", [tmai.address]);
const crowd: Address[] = [];
for (let i = 0; i < 30; i++) crowd.push(await newStaker(live.address, 1_000_000n * E18));
const dave = crowd[0] as Address;
const daveTimes: bigint[] = [];
while (daveTimes.length < 120) {
  await time.increase(Number(1n + random(7200n)));
  const who = random(10n) < 4n ? dave : (crowd[Number(random(30n))] as Address);
  const [amount] = await live.read.locked([who]);
  if (amount === 0n) await live.write.createLock([1_000n * E18, (await now()) + MAXTIME], { account: who });
  else await live.write.increaseAmount([100n * E18], { account: who });
  if (who === dave) daveTimes.push(await now());
}
const liveEpochs = Number(await live.read.epoch());
await time.increase(3600);

async function estimate(escrow: Address, data: `0x${string}`): Promise<number> {
  return Number(await publicClient.estimateGas({ to: escrow, data }));
}
const balanceOfAt = (escrow: Address, t: bigint) =>
  estimate(escrow, encodeFunctionData({ abi: live.abi, functionName: "balanceOfAt", args: [dave, t] }));
const totalSupplyAt = (escrow: Address, t: bigint) =>
  estimate(escrow, encodeFunctionData({ abi: live.abi, functionName: "totalSupplyAt", args: [t] }));

const first = daveTimes[0] as bigint;
const last = daveTimes.at(-1) as bigint;
const middle = (first + last) / 2n;
const pastTimes = Array.from({ length: 12 }, () => first + random(last - first));
const worst = async (measure: (t: bigint) => Promise<number>) =>
  Math.max(...(await Promise.all(pastTimes.map(measure))));
record({ name: "balanceOfAt, 120 checkpoints, middle", gas: await balanceOfAt(live.address, middle), target: 40_000 });
record({
  name: "balanceOfAt, 120 checkpoints, worst of 12",
  gas: await worst((t) => balanceOfAt(live.address, t)),
  target: 40_000,
});
record({
  name: `totalSupplyAt, ${liveEpochs} checkpoints, middle`,
  gas: await totalSupplyAt(live.address, middle),
  target: 40_000,
});
record({
  name: `totalSupplyAt, ${liveEpochs} checkpoints, worst of 12`,
  gas: await worst((t) => totalSupplyAt(live.address, t)),
  target: 40_000,
});
// The write scenarios' escrow: a burst of 50 locks, a 10-week idle gap, then hourly changes (no target: it shows
// what an uneven history costs the interpolation search).
const skewedFirst = BigInt((await ve.read.pointHistory([1n])).ts);
const skewedLast = BigInt((await ve.read.pointHistory([BigInt(skewedEpochs)])).ts);
record({
  name: `totalSupplyAt, ${skewedEpochs} checkpoints after a burst and an idle gap, worst of 12`,
  gas: Math.max(
    ...(await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        totalSupplyAt(ve.address, skewedFirst + ((skewedLast - skewedFirst) * BigInt(i)) / 12n),
      ),
    )),
  ),
});

// ---------------------------------------------------------------------------------------------------------------
// RevenueDistributor: claims against a 1,000-leaf tree built with @openzeppelin/merkle-tree.
// ---------------------------------------------------------------------------------------------------------------
const distributor = await viem.deployContract("RevenueDistributor", [
  ve.address,
  deployer.account.address,
  deployer.account.address,
  [deployer.account.address],
]);
const claimants = Array.from(
  { length: 1_000 },
  (_, i) => `0x${(0x9000n + BigInt(i)).toString(16).padStart(40, "0")}` as Address,
);
async function acceptTree(amountOf: (i: number) => bigint) {
  const tree = StandardMerkleTree.of(
    claimants.map((account, i) => [account, tmai.address, amountOf(i)]),
    ["address", "address", "uint256"],
  );
  const total = claimants.reduce((sum, _, i) => sum + amountOf(i), 0n);
  const needed = total - (await distributor.read.funded([tmai.address]));
  await tmai.write.mint([deployer.account.address, needed]);
  await tmai.write.approve([distributor.address, needed]);
  await distributor.write.fund([tmai.address, needed]);
  await distributor.write.proposeRoot([tree.root as `0x${string}`, zeroHash, [tmai.address], [total]]);
  await time.increase(2 * 24 * 3600);
  await distributor.write.acceptRoot();
  return tree;
}
const claimGas = async (tree: Awaited<ReturnType<typeof acceptTree>>, i: number, amount: bigint) =>
  gasOf(
    await distributor.write.claim([claimants[i] as Address, tmai.address, amount, tree.getProof(i) as `0x${string}`[]]),
  );
const firstTree = await acceptTree((i) => BigInt(i + 1) * E18);
// Claimant 1 already holds some TMAI (the common case for a wallet); claimant 0 holds none.
await tmai.write.mint([claimants[1] as Address, E18]);
record({
  name: "claim, 1,000-leaf tree, first claim (wallet holds TMAI)",
  gas: await claimGas(firstTree, 1, 2n * E18),
  target: 85_000,
  uniswap: 72_500,
  morpho: 91_200,
});
record({
  name: "claim, 1,000-leaf tree, first claim (wallet holds no TMAI)",
  gas: await claimGas(firstTree, 0, E18),
  target: 85_000,
  uniswap: 72_500,
  morpho: 91_200,
});
const secondTree = await acceptTree((i) => BigInt(i + 1) * E18 * 2n);
record({
  name: "claim, 1,000-leaf tree, later cumulative claim",
  gas: await claimGas(secondTree, 1, 4n * E18),
  target: 52_000,
  morpho: 57_000,
});

// ---------------------------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------------------------
const fmt = (n: number | undefined) => (n === undefined ? "—" : n.toLocaleString("en-US"));
const ratio = (gas: number, anchor: number | undefined) => (anchor ? `${(gas / anchor).toFixed(2)}×` : "—");
const verdict = (row: Row) => (row.target === undefined ? "" : row.gas <= row.target ? "ok" : "MISSED");
const header = ["scenario", "gas", "target", "", "anchor", "ours/anchor"];
const anchorOf = (r: Row): [string, number] | undefined => {
  if (r.fiat) return [`FIAT port ${fmt(r.fiat)}, Velodrome ${fmt(r.velodrome)}`, r.fiat];
  if (r.uniswap) return [`Uniswap MerkleDistributor ${fmt(r.uniswap)}, Morpho URD ${fmt(r.morpho)}`, r.uniswap];
  if (r.morpho) return [`Morpho URD ${fmt(r.morpho)}`, r.morpho];
  return undefined;
};
const table = [
  header,
  ...rows.map((r) => {
    const anchor = anchorOf(r);
    return [r.name, fmt(r.gas), fmt(r.target), verdict(r), anchor?.[0] ?? "—", anchor ? ratio(r.gas, anchor[1]) : "—"];
  }),
];
const widths = header.map((_, c) => Math.max(...table.map((r) => String(r[c]).length)));
console.log("Gas (whole-transaction gas; views as eth_estimateGas)\n");
for (const row of table) console.log(row.map((cell, c) => String(cell).padEnd(widths[c] ?? 0)).join("  "));

const snapshot = Object.fromEntries(rows.map((r) => [r.name, r.gas]));
if (check) {
  const committed = JSON.parse(readFileSync(SNAPSHOT, "utf8")) as Record<string, number>;
  const moved = rows.filter((r) => committed[r.name] !== r.gas);
  for (const r of moved) console.error(`gas moved: ${r.name}: ${committed[r.name] ?? "new"} → ${r.gas}`);
  if (moved.length > 0) {
    console.error("Run `npm run bench:gas` to refresh gas-snapshot.json and explain the change in the commit.");
    process.exitCode = 1;
  }
} else {
  writeFileSync(SNAPSHOT, `${JSON.stringify(snapshot, null, 2)}\n`);
  console.log("\nwrote gas-snapshot.json");
}
