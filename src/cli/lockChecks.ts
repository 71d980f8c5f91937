import { floorToWeek, MAXTIME } from "../chain/veBalance.ts";
import { formatDate, formatTokens } from "../format/formatTokens.ts";
import type { AccountState } from "./accountState.ts";
import { CliError } from "./CliError.ts";
import { parseDuration, parseUntil } from "./parseDuration.ts";

/** Refuses unless the wallet has a live (or permanent) lock, saying what to do instead. */
export function requireLiveLock(state: AccountState): void {
  const { lock, now } = state;
  if (lock.amount === 0n)
    throw new CliError("you have no lock: create one with `tmai lock --amount <n> --duration <d>`");
  if (!lock.permanent && lock.end <= now) {
    throw new CliError(`your lock expired on ${formatDate(lock.end)}: run \`tmai withdraw\` first`);
  }
}

/** Refuses unless the wallet can create a lock. */
export function requireNoLock(state: AccountState, symbol: string, decimals: number): void {
  const { lock, now } = state;
  if (lock.amount === 0n) return;
  const amount = `${formatTokens(lock.amount, decimals, 2)} ${symbol}`;
  if (!lock.permanent && lock.end <= now) {
    throw new CliError(
      `your previous lock of ${amount} expired on ${formatDate(lock.end)}: run \`tmai withdraw\` first`,
    );
  }
  const until = lock.permanent ? "(permanent)" : `until ${formatDate(lock.end)}`;
  throw new CliError(`you already have a lock of ${amount} ${until}: use \`tmai increase\` or \`tmai extend\``);
}

/** Refuses unless the wallet holds `amount`. */
export function requireBalance(state: AccountState, amount: bigint, symbol: string, decimals: number): void {
  if (state.tokenBalance < amount) {
    const hold = formatTokens(state.tokenBalance, decimals, 4);
    throw new CliError(`you hold ${hold} ${symbol}; this needs ${formatTokens(amount, decimals, 4)} ${symbol}`);
  }
}

/**
 * The unlock time asked for with `--duration` or `--until`, and the week boundary the lock will end on; refuses
 * an end that is not in `(now, now + 52 weeks]`.
 */
export function chooseUnlockTime(
  options: { duration?: string; until?: string },
  now: bigint,
): { unlockTime: bigint; end: bigint } {
  if ((options.duration === undefined) === (options.until === undefined)) {
    throw new CliError("give exactly one of --duration (e.g. 12mo, 52w) or --until (e.g. 2027-06-01)");
  }
  const unlockTime =
    options.duration !== undefined ? now + parseDuration(options.duration) : parseUntil(options.until as string);
  const end = floorToWeek(unlockTime);
  if (end <= now) {
    throw new CliError(
      `that unlock time rounds down to ${formatDate(end)} (unlock times are Thursdays 00:00 UTC), which is not in ` +
        "the future: lock for at least a week",
    );
  }
  if (end > now + MAXTIME) {
    throw new CliError(
      `${formatDate(end)} is more than 52 weeks ahead (latest ${formatDate(floorToWeek(now + MAXTIME))}): ` +
        "use --duration 52w (or 12mo) or an earlier --until",
    );
  }
  return { unlockTime, end };
}
