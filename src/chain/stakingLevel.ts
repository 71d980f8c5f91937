/**
 * Staking Score levels and tiers, computed off-chain exactly as `StakingScore` does on-chain (see
 * `contracts/interfaces/IStakingScore.sol`).
 */

const whole = (tokens: bigint) => tokens * 10n ** 18n;

/**
 * The vendor's default thresholds for levels 1 … 10 in base units of veTMAI (18 decimals): 22,000 · 111,000 ·
 * 222,000 · 444,000 · 888,000 · 1,333,000 · 3,333,000 · 4,444,000 · 5,555,000 · 7,777,000 veTMAI.
 */
export const DEFAULT_THRESHOLDS = [
  whole(22_000n),
  whole(111_000n),
  whole(222_000n),
  whole(444_000n),
  whole(888_000n),
  whole(1_333_000n),
  whole(3_333_000n),
  whole(4_444_000n),
  whole(5_555_000n),
  whole(7_777_000n),
] as const;

export const MAX_LEVEL = 10;

export const TIER_NAMES = ["Basic", "Advanced", "Premium", "VIP"] as const;
export type TierName = (typeof TIER_NAMES)[number];

/** The level a veTMAI balance reaches: the number of thresholds at or below it. */
export function levelForBalance(veBalance: bigint, thresholds: readonly bigint[]): number {
  let level = 0;
  while (level < thresholds.length && veBalance >= (thresholds[level] as bigint)) level++;
  return level;
}

/** The tier of a level: 0 Basic (0), 1 Advanced (1–3), 2 Premium (4–6), 3 VIP (7–10). */
export function tierOfLevel(level: number): number {
  if (!Number.isInteger(level) || level < 0 || level > MAX_LEVEL) {
    throw new RangeError(`level must be an integer from 0 to ${MAX_LEVEL}, got ${level}`);
  }
  if (level === 0) return 0;
  if (level <= 3) return 1;
  if (level <= 6) return 2;
  return 3;
}

export function tierName(level: number): TierName {
  return TIER_NAMES[tierOfLevel(level)] as TierName;
}
