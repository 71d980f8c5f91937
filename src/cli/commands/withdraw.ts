import { votingEscrowAbi } from "../../chain/abis.ts";
import { formatDate, formatTokens } from "../../format/formatTokens.ts";
import { readAccountState } from "../accountState.ts";
import { CliError } from "../CliError.ts";
import { createCliContext, type GlobalOptions, withSigner } from "../context.ts";
import { confirm, send } from "../ui.ts";
import { printStatus } from "./status.ts";

/** `tmai withdraw`: returns the tokens of an expired lock. */
export async function withdraw(options: GlobalOptions): Promise<void> {
  const context = withSigner(await createCliContext(options));
  const state = await readAccountState(context, context.account.address);
  const { lock, now } = state;
  const { decimals, symbol } = context.token;
  if (lock.amount === 0n) throw new CliError("you have no lock to withdraw");
  if (lock.permanent) {
    throw new CliError("your lock is permanent: run `tmai permanent off` first; it then unlocks 52 weeks later");
  }
  if (lock.end > now) throw new CliError(`your lock ends on ${formatDate(lock.end)}: you can withdraw from then on`);
  console.error(
    `Withdraw ${formatTokens(lock.amount, decimals, 4)} ${symbol} (the lock ended on ${formatDate(lock.end)}).`,
  );
  await confirm(context, "Send the withdrawal?");
  await send(context, {
    label: "withdraw",
    address: context.addresses.votingEscrow,
    abi: votingEscrowAbi,
    functionName: "withdraw",
  });
  printStatus(context, await readAccountState(context, context.account.address));
}
