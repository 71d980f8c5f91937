import { type Address, erc20Abi } from "viem";
import { stakingScoreAbi, votingEscrowAbi } from "../chain/abis.ts";
import { levelLostAt } from "../chain/levelLostAt.ts";
import { levelForBalance, tierName } from "../chain/stakingLevel.ts";
import { type Lock, veBalanceAt } from "../chain/veBalance.ts";
import { formatDate, formatTokens } from "../format/formatTokens.ts";
import type { CliContext } from "./context.ts";

const DAY = 86_400n;

/** What the CLI knows about one wallet, read at the chain's latest block. */
export interface AccountState {
  address: Address;
  /** The chain's time (latest block), which local chains may have moved ahead of the wall clock. */
  now: bigint;
  lock: Lock;
  thresholds: readonly bigint[];
  tokenBalance: bigint;
  allowance: bigint;
}

export async function readAccountState(context: CliContext, address: Address): Promise<AccountState> {
  const { publicClient, addresses, token } = context;
  const [block, locked, thresholds, tokenBalance, allowance] = await Promise.all([
    publicClient.getBlock(),
    publicClient.readContract({
      address: addresses.votingEscrow,
      abi: votingEscrowAbi,
      functionName: "locked",
      args: [address],
    }),
    publicClient.readContract({ address: addresses.stakingScore, abi: stakingScoreAbi, functionName: "thresholds" }),
    publicClient.readContract({ address: token.address, abi: erc20Abi, functionName: "balanceOf", args: [address] }),
    publicClient.readContract({
      address: token.address,
      abi: erc20Abi,
      functionName: "allowance",
      args: [address, addresses.votingEscrow],
    }),
  ]);
  const [amount, end, permanent] = locked;
  return { address, now: block.timestamp, lock: { amount, end, permanent }, thresholds, tokenBalance, allowance };
}

/** veTMAI, level and tier of `lock` at `t`. */
export function standingAt(lock: Lock, thresholds: readonly bigint[], t: bigint) {
  const veTMAI = veBalanceAt(lock, t);
  const level = levelForBalance(veTMAI, thresholds);
  return { veTMAI, level, tier: tierName(level) };
}

/** The status report of a wallet: now, when its level is lost by decay, and in 30 and 90 days. */
export function describeAccount(context: CliContext, state: AccountState) {
  const { lock, thresholds, now } = state;
  const current = standingAt(lock, thresholds, now);
  const lostAt = levelLostAt(lock, thresholds, now);
  const expired = lock.amount > 0n && !lock.permanent && lock.end <= now;
  const data = {
    address: state.address,
    chainTime: now,
    lock: { amount: lock.amount, end: lock.end, permanent: lock.permanent, expired },
    veTMAI: current.veTMAI,
    level: current.level,
    tier: current.tier,
    levelLostAt: lostAt,
    in30Days: standingAt(lock, thresholds, now + 30n * DAY),
    in90Days: standingAt(lock, thresholds, now + 90n * DAY),
    walletBalance: state.tokenBalance,
  };
  const { decimals, symbol } = context.token;
  const tokens = (value: bigint) => `${formatTokens(value, decimals, 2)} ${symbol}`;
  const ve = (value: bigint) => `${formatTokens(value, decimals, 2)} veTMAI`;
  const lockText =
    lock.amount === 0n
      ? "none"
      : lock.permanent
        ? `${tokens(lock.amount)}, permanent (2× without decay)`
        : `${tokens(lock.amount)} until ${formatDate(lock.end)}${expired ? " — expired: run `tmai withdraw`" : ""}`;
  const lostText =
    current.level === 0
      ? "—"
      : lostAt === null
        ? "never (permanent lock)"
        : `${formatDate(lostAt)} (level ${current.level} lost by decay${lostAt === lock.end ? " at the end of the lock" : ""})`;
  const text = [
    `wallet         ${state.address}`,
    `lock           ${lockText}`,
    `veTMAI now     ${ve(current.veTMAI)}`,
    `Staking Score  level ${current.level} (${current.tier})`,
    `level lost on  ${lostText}`,
    `in 30 days     ${ve(data.in30Days.veTMAI)} · level ${data.in30Days.level} (${data.in30Days.tier})`,
    `in 90 days     ${ve(data.in90Days.veTMAI)} · level ${data.in90Days.level} (${data.in90Days.tier})`,
    `wallet holds   ${tokens(state.tokenBalance)}`,
  ].join("\n");
  return { text, data };
}
