/**
 * The veTMAI balance of one lock, computed off-chain exactly as `VotingEscrow` does on-chain (see
 * `contracts/interfaces/IVotingEscrow.sol`): readers that know a lock `(amount, end, permanent)` need no RPC call
 * to follow its decay second by second.
 */

/** One week in seconds; unlock times are multiples of it. */
export const WEEK = 604_800n;

/** The longest lock, 52 weeks. */
export const MAXTIME = 52n * WEEK;

/** A lock as `VotingEscrow.locked(account)` returns it. */
export interface Lock {
  amount: bigint;
  /** Unlock time in Unix seconds (0 with no lock and while permanent). */
  end: bigint;
  permanent: boolean;
}

/** veTMAI lost per second by a non-permanent lock of `amount`, rounded down as on-chain. */
export function veSlope(amount: bigint): bigint {
  return amount / MAXTIME;
}

/** veTMAI of `lock` at Unix time `t` (seconds). */
export function veBalanceAt(lock: Lock, t: bigint): bigint {
  if (lock.permanent) return 2n * lock.amount;
  if (t >= lock.end) return 0n;
  return lock.amount + veSlope(lock.amount) * (lock.end - t);
}

/** `t` rounded down to a week boundary, as the contract rounds unlock times. */
export function floorToWeek(t: bigint): bigint {
  return (t / WEEK) * WEEK;
}
