/**
 * `npm run bench:gas`: gas of VotingEscrow's entry points in the scenarios of the foundation issue, on
 * Hardhat's in-process chain, against the public Curve-style anchors measured on this toolchain (FIAT/BarnBridge's
 * Solidity port of Curve's VotingEscrow and Velodrome's VotingEscrow). Writes `gas-snapshot.json`; with
 * `--check`, fails instead when a figure moved from the committed snapshot or missed its target.
 *
 * Figures are whole-transaction gas (21,000 intrinsic included), as a wallet pays it; the view scenarios are
 * `eth_estimateGas` of the call.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { network } from "hardhat";
import { type Address, encodeFunctionData } from "viem";
import { MAXTIME, WEEK } from "../src/chain/veBalance.ts";

const SNAPSHOT = new URL("../gas-snapshot.json", import.meta.url);
const check = process.argv.includes("--check");
const E18 = 10n ** 18n;

interface Scenario {
  name: string;
  target: number;
  fiat?: number;
  velodrome?: number;
}

const SCENARIOS: Scenario[] = [
  { name: "createLock (50 prior locks, checkpoint current)", target: 200_000, fiat: 300_900, velodrome: 410_300 },
  { name: "createLock after 10 idle weeks", target: 260_000, fiat: 985_600, velodrome: 908_000 },
  { name: "increaseAmount", target: 110_000, fiat: 228_200, velodrome: 200_600 },
  { name: "increaseUnlockTime", target: 110_000 },
  { name: "depositFor", target: 110_000 },
  { name: "lockPermanent", target: 110_000 },
  { name: "withdraw (wallet holds no TMAI)", target: 100_000, fiat: 185_400, velodrome: 214_200 },
  { name: "balanceOfAt, 120 checkpoints, middle", target: 40_000 },
  { name: "balanceOfAt, 120 checkpoints, worst of 12", target: 40_000 },
  { name: "totalSupplyAt, 170+ checkpoints, middle", target: 40_000 },
  { name: "totalSupplyAt, 170+ checkpoints, worst of 12", target: 40_000 },
];

const { viem, networkHelpers } = await network.create();
const { time } = networkHelpers;
const publicClient = await viem.getPublicClient();
const [deployer] = await viem.getWalletClients();
if (deployer === undefined) throw new Error("the benchmark needs an account");
const tmai = await viem.deployContract("TestTMAI", [deployer.account.address]);
const ve = await viem.deployContract("VotingEscrow", [tmai.address]);

/** A fresh impersonated account holding `amount` TMAI, with the escrow approved for all of it. */
async function newStaker(index: number, amount: bigint): Promise<Address> {
  const address = `0x${(0x5000n + BigInt(index)).toString(16).padStart(40, "0")}` as Address;
  await networkHelpers.impersonateAccount(address);
  await networkHelpers.setBalance(address, 10n ** 20n);
  await tmai.write.mint([address, amount]);
  await tmai.write.approve([ve.address, amount], { account: address });
  return address;
}

async function gasOf(hash: `0x${string}`): Promise<number> {
  return Number((await publicClient.waitForTransactionReceipt({ hash })).gasUsed);
}

const measured = new Map<string, number>();
const now = async () => BigInt(await time.latest());

// 50 prior locks spread over every week of the year, so most week boundaries hold expiries.
for (let i = 0; i < 50; i++) {
  const staker = await newStaker(i, 10_000n * E18);
  const weeks = 1n + ((BigInt(i) * 7n) % 52n);
  await ve.write.createLock([10_000n * E18, (await now()) + weeks * WEEK], { account: staker });
}
const alice = await newStaker(100, 52_000n * E18);
measured.set(
  SCENARIOS[0]?.name ?? "",
  await gasOf(await ve.write.createLock([50_000n * E18, (await now()) + 26n * WEEK], { account: alice })),
);

await time.increase(Number(10n * WEEK));
const bob = await newStaker(101, 51_000n * E18);
// The other staker setups above wrote no checkpoint: the escrow itself has been idle for 10 weeks.
measured.set(
  SCENARIOS[1]?.name ?? "",
  await gasOf(await ve.write.createLock([50_000n * E18, (await now()) + 40n * WEEK], { account: bob })),
);

await time.increase(3600);
measured.set(SCENARIOS[2]?.name ?? "", await gasOf(await ve.write.increaseAmount([1_000n * E18], { account: alice })));
await time.increase(3600);
measured.set(
  SCENARIOS[3]?.name ?? "",
  await gasOf(await ve.write.increaseUnlockTime([(await now()) + 50n * WEEK], { account: alice })),
);
await time.increase(3600);
measured.set(SCENARIOS[4]?.name ?? "", await gasOf(await ve.write.depositFor([alice, 1_000n * E18], { account: bob })));
await time.increase(3600);
measured.set(SCENARIOS[5]?.name ?? "", await gasOf(await ve.write.lockPermanent({ account: bob })));

// A wallet that locked all its TMAI: withdrawing writes its token balance from zero, the expensive case.
const carol = await newStaker(102, 20_000n * E18);
await ve.write.createLock([20_000n * E18, (await now()) + 2n * WEEK], { account: carol });
await time.increase(Number(3n * WEEK));
measured.set(SCENARIOS[6]?.name ?? "", await gasOf(await ve.write.withdraw({ account: carol })));

// 120 checkpoints of one account, an hour apart (and as many global ones).
const dave = await newStaker(103, 120_000n * E18);
await ve.write.createLock([1_000n * E18, (await now()) + MAXTIME], { account: dave });
const daveTimes: bigint[] = [await now()];
for (let i = 1; i < 120; i++) {
  await time.increase(3600);
  await ve.write.increaseAmount([1_000n * E18], { account: dave });
  daveTimes.push(await now());
}
const globalCount = Number(await ve.read.epoch());
await time.increase(3600);

async function estimateView(functionName: "balanceOfAt" | "totalSupplyAt", t: bigint): Promise<number> {
  const data =
    functionName === "balanceOfAt"
      ? encodeFunctionData({ abi: ve.abi, functionName, args: [dave, t] })
      : encodeFunctionData({ abi: ve.abi, functionName, args: [t] });
  return Number(await publicClient.estimateGas({ to: ve.address, data }));
}
const probes = Array.from({ length: 12 }, (_, i) => daveTimes[Math.floor((i * 119) / 11)] as bigint);
const middle = daveTimes[60] as bigint;
measured.set(SCENARIOS[7]?.name ?? "", await estimateView("balanceOfAt", middle + 1n));
measured.set(SCENARIOS[8]?.name ?? "", Math.max(...(await Promise.all(probes.map((t) => estimateView("balanceOfAt", t + 1n))))));
measured.set(SCENARIOS[9]?.name ?? "", await estimateView("totalSupplyAt", middle + 1n));
measured.set(
  SCENARIOS[10]?.name ?? "",
  Math.max(...(await Promise.all(probes.map((t) => estimateView("totalSupplyAt", t + 1n))))),
);

// Report.
const fmt = (n: number | undefined) => (n === undefined ? "—" : n.toLocaleString("en-US"));
const rows = SCENARIOS.map((s) => {
  const gas = measured.get(s.name) ?? Number.NaN;
  const vsFiat = s.fiat ? `${(gas / s.fiat).toFixed(2)}×` : "—";
  const vsVelo = s.velodrome ? `${(gas / s.velodrome).toFixed(2)}×` : "—";
  return [s.name, fmt(gas), fmt(s.target), gas <= s.target ? "ok" : "MISSED", fmt(s.fiat), vsFiat, fmt(s.velodrome), vsVelo];
});
const header = ["scenario", "gas", "target", "", "FIAT port", "ours/FIAT", "Velodrome", "ours/Velodrome"];
const table = [header, ...rows];
const widths = header.map((_, c) => Math.max(...table.map((r) => String(r[c]).length)));
console.log(`VotingEscrow gas (${globalCount} global checkpoints, whole-transaction gas)\n`);
for (const row of table) console.log(row.map((cell, c) => String(cell).padEnd(widths[c] ?? 0)).join("  "));

const snapshot = Object.fromEntries(SCENARIOS.map((s) => [s.name, measured.get(s.name)]));
const missed = SCENARIOS.filter((s) => (measured.get(s.name) ?? Number.POSITIVE_INFINITY) > s.target);
if (check) {
  const committed = JSON.parse(readFileSync(SNAPSHOT, "utf8")) as Record<string, number>;
  const moved = SCENARIOS.filter((s) => committed[s.name] !== measured.get(s.name));
  for (const s of moved) console.error(`gas moved: ${s.name}: ${committed[s.name]} → ${measured.get(s.name)}`);
  if (moved.length > 0 || missed.length > 0) {
    console.error("Run `npm run bench:gas` to refresh gas-snapshot.json, and explain the change in the commit.");
    process.exit(1);
  }
} else {
  writeFileSync(SNAPSHOT, `${JSON.stringify(snapshot, null, 2)}\n`);
  console.log("\nwrote gas-snapshot.json");
}
if (missed.length > 0) process.exitCode = 1;
