/**
 * `npm run demo`: the veTMAI demonstration on Hardhat's in-process chain — deploy, lock for 1 week, 6 months,
 * 12 months and permanently, then print veTMAI and Staking Score now, after 3 months and after expiry.
 */
import { network } from "hardhat";
import { formatLockDemo, runLockDemo } from "../src/demo/lockDemo.ts";

const connection = await network.create();
console.log("Deploying TMAI (test token), VotingEscrow and StakingScore on Hardhat's in-process chain…\n");
const result = await runLockDemo(connection);
console.log(formatLockDemo(result));
console.log(
  "\nveTMAI = amount × (1 + time left / 52 weeks) while locked, 0 once expired, 2 × amount while permanent." +
    "\nLevels use the default thresholds (22,000 … 7,777,000 veTMAI); tiers: 0 Basic, 1–3 Advanced, 4–6 Premium, 7–10 VIP.",
);
