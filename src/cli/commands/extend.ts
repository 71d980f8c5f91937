import { votingEscrowAbi } from "../../chain/abis.ts";
import { formatDate, formatTokens } from "../../format/formatTokens.ts";
import { readAccountState, standingAt } from "../accountState.ts";
import { CliError } from "../CliError.ts";
import { createCliContext, type GlobalOptions, withSigner } from "../context.ts";
import { chooseUnlockTime, requireLiveLock } from "../lockChecks.ts";
import { confirm, send } from "../ui.ts";
import { printStatus } from "./status.ts";

/** `tmai extend --duration <d> | --until <date>`: moves the end of the live lock later. */
export async function extend(options: GlobalOptions, when: { duration?: string; until?: string }): Promise<void> {
  const context = withSigner(await createCliContext(options));
  const state = await readAccountState(context, context.account.address);
  requireLiveLock(state);
  if (state.lock.permanent) throw new CliError("your lock is permanent: it has no end to extend");
  const { unlockTime, end } = chooseUnlockTime(when, state.now);
  if (end <= state.lock.end) {
    throw new CliError(
      `your lock already ends on ${formatDate(state.lock.end)}; ${formatDate(end)} (rounded down to a Thursday) ` +
        "is not later: choose a later date",
    );
  }
  const after = standingAt({ ...state.lock, end }, state.thresholds, state.now);
  console.error(
    `Extend your lock from ${formatDate(state.lock.end)} to ${formatDate(end)}: ` +
      `${formatTokens(after.veTMAI, context.token.decimals, 2)} veTMAI now, level ${after.level} (${after.tier}).`,
  );
  await confirm(context, "Send the extension?");
  await send(context, {
    label: "increaseUnlockTime",
    address: context.addresses.votingEscrow,
    abi: votingEscrowAbi,
    functionName: "increaseUnlockTime",
    args: [unlockTime],
  });
  printStatus(context, await readAccountState(context, context.account.address));
}
