import { BaseError, ContractFunctionRevertedError } from "viem";
import { formatDate, formatTokens } from "../format/formatTokens.ts";
import { CliError } from "./CliError.ts";

/**
 * Turns a contract revert into what went wrong and what to do, in the words of a wallet user. Errors that are
 * not reverts pass through unchanged.
 */
export function explainRevert(error: unknown, decimals: number, symbol: string): Error {
  if (!(error instanceof BaseError)) return error instanceof Error ? error : new Error(String(error));
  const revert = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (!(revert instanceof ContractFunctionRevertedError) || revert.data === undefined) {
    return new CliError(error.shortMessage);
  }
  const args = (revert.data.args ?? []) as readonly unknown[];
  const at = (i: number) => args[i] as bigint;
  const tokens = (value: bigint) => `${formatTokens(value, decimals, 4)} ${symbol}`;
  switch (revert.data.errorName) {
    case "VotingEscrowNoLock":
      return new CliError("you have no lock: create one with `tmai lock --amount <n> --duration <d>`");
    case "VotingEscrowLockExpired":
      return new CliError(`your lock expired on ${formatDate(at(1))}: run \`tmai withdraw\` first`);
    case "VotingEscrowLockExists":
      return new CliError(
        `you already have a lock of ${tokens(at(1))}` +
          (at(2) === 0n ? " (permanent)" : ` ending ${formatDate(at(2))}`) +
          ": add to it with `tmai increase`, extend it with `tmai extend`, or withdraw it once expired",
      );
    case "VotingEscrowUnlockTimeNotInFuture":
      return new CliError(
        `the unlock time rounds down to ${formatDate(at(0))} (unlock times are Thursdays 00:00 UTC), which is not ` +
          "in the future: choose a date at least a week ahead",
      );
    case "VotingEscrowUnlockTimeTooLate":
      return new CliError(
        `the unlock time ${formatDate(at(0))} is more than 52 weeks ahead (latest ${formatDate(at(1))}): ` +
          "use --duration 52w or an earlier --until",
      );
    case "VotingEscrowUnlockTimeNotIncreased":
      return new CliError(
        `your lock already ends on ${formatDate(at(1))}; the new end ${formatDate(at(0))} (rounded down to a ` +
          "Thursday) must be later",
      );
    case "VotingEscrowLockPermanent":
      return new CliError("your lock is permanent: run `tmai permanent off` first (it then unlocks 52 weeks later)");
    case "VotingEscrowLockNotPermanent":
      return new CliError("your lock is not permanent: nothing to turn off");
    case "VotingEscrowLockNotExpired":
      return new CliError(`your lock ends on ${formatDate(at(1))}: you can withdraw from then on`);
    case "VotingEscrowZeroAmount":
      return new CliError("the amount must be more than 0");
    case "VotingEscrowTransferAmountMismatch":
      return new CliError(`the token delivered ${tokens(at(1))} instead of ${tokens(at(0))}: it is not supported`);
    case "ERC20InsufficientBalance":
      return new CliError(`you hold ${tokens(at(1))}; this needs ${tokens(at(2))}`);
    default:
      return new CliError(`the contract refused: ${revert.data.errorName}(${args.map(String).join(", ")})`);
  }
}
