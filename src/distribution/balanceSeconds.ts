import { veSlope } from "../chain/veBalance.ts";

/** One checkpoint of an account's lock, as `VotingEscrow.userPointHistory` returns it. */
export interface UserCheckpoint {
  amount: bigint;
  end: bigint;
  /** When the checkpoint was written; the lock holds from here to the next checkpoint. */
  ts: bigint;
  permanent: boolean;
}

function earlier(a: bigint, b: bigint): bigint {
  if (a < b) return a;
  return b;
}

function later(a: bigint, b: bigint): bigint {
  if (a > b) return a;
  return b;
}

/** Σ over integer seconds t in [a, b) of (amount + slope × (end − t)), with a < b ≤ end. Always an integer. */
function decayingSum(amount: bigint, slope: bigint, end: bigint, a: bigint, b: bigint): bigint {
  const n = b - a;
  // Σ (end − t) for t = a … b − 1 = n × (2·end − a − b + 1) / 2; one of the two factors is even.
  return n * amount + (slope * n * (2n * end - a - b + 1n)) / 2n;
}

/**
 * The exact time-weighted veTMAI of one account over `[start, end)`: the sum over every second `t` of the
 * account's veTMAI at `t`, in veTMAI·seconds. The balance is linear between checkpoints (and drops to 0 at a
 * lock's end), so each piece has a closed form: no sampling, no rounding.
 *
 * `checkpoints` are in time order (as numbered on-chain); those at or after `end` are ignored.
 */
export function balanceSeconds(checkpoints: readonly UserCheckpoint[], start: bigint, end: bigint): bigint {
  if (end <= start) throw new RangeError(`the epoch must end after it starts (start ${start}, end ${end})`);
  let total = 0n;
  for (const [i, point] of checkpoints.entries()) {
    const next = checkpoints[i + 1]?.ts ?? end;
    const from = later(point.ts, start);
    const to = earlier(next, end);
    if (from >= to || point.amount === 0n) continue;
    if (point.permanent) {
      total += 2n * point.amount * (to - from);
      continue;
    }
    // A timed lock counts until its end, and is worth nothing from then on.
    const until = earlier(point.end, to);
    if (from < until) total += decayingSum(point.amount, veSlope(point.amount), point.end, from, until);
  }
  return total;
}
