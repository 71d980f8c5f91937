import { levelForBalance } from "./stakingLevel.ts";
import { type Lock, veSlope } from "./veBalance.ts";

/**
 * The first second at which `lock` falls below the level it has at `now` (the decay of a timed lock, or its
 * end), or `null` when it never does (a permanent lock) or has nothing to lose (level 0).
 */
export function levelLostAt(lock: Lock, thresholds: readonly bigint[], now: bigint): bigint | null {
  if (lock.permanent || lock.end <= now) return null;
  const slope = veSlope(lock.amount);
  const balance = lock.amount + slope * (lock.end - now);
  const level = levelForBalance(balance, thresholds);
  if (level === 0) return null;
  const threshold = thresholds[level - 1] as bigint;
  // The balance is `amount` just before the end and 0 at the end: a threshold at or below `amount` holds until then.
  if (threshold <= lock.amount || slope === 0n) return lock.end;
  // Last second with amount + slope × (end − t) ≥ threshold is end − ceil((threshold − amount) / slope).
  const secondsNeeded = (threshold - lock.amount + slope - 1n) / slope;
  return lock.end - secondsNeeded + 1n;
}
